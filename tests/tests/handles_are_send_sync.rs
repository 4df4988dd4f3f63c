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
    assert_send_sync::<manager::pool::Pool>();
    assert_send_sync::<manager::pool::PoolBuilder>();
    assert_send_sync::<manager::pool::AsyncResult<u64>>();
    assert_send_sync::<manager::pool::AsyncResult<Vec<u64>>>();
    assert_send_sync::<manager::pool::Imap<u64>>();
    assert_send_sync::<manager::pool::ImapStream<u64>>();
    assert_send_sync::<manager::pool::ImapUnordered<u64>>();
    assert_send_sync::<manager::pool::ImapUnorderedStream<u64>>();
    assert_send_sync::<manager::PoolError>();
}
