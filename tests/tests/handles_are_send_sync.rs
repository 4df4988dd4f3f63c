//! The handles users share between threads are `Send + Sync`.

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn public_handles_are_send_and_sync() {
    assert_send_sync::<manager::Manager>();
    assert_send_sync::<manager::Client>();
    assert_send_sync::<manager::proxy::Namespace>();
    assert_send_sync::<manager::blocking::Client>();
    assert_send_sync::<manager::blocking::Namespace>();
    assert_send_sync::<manager::launcher::Launcher>();
    assert_send_sync::<manager::Error>();
}
