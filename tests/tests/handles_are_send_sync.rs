//! The handles users share between threads are `Send + Sync`.

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn public_handles_are_send_and_sync() {
    assert_send_sync::<manager_ipc::Manager>();
    assert_send_sync::<manager_ipc::Client>();
    assert_send_sync::<manager_ipc::proxy::Namespace>();
    assert_send_sync::<manager_ipc::blocking::Client>();
    assert_send_sync::<manager_ipc::blocking::Namespace>();
    assert_send_sync::<manager_ipc::launcher::Launcher>();
    assert_send_sync::<manager_ipc::Error>();
}
