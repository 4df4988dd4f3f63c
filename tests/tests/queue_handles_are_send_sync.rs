//! The handles of queues, joinable queues, events and barriers can be
//! shared between threads and tasks, whatever the element type.

use std::rc::Rc;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn queue_event_and_barrier_handles_are_send_and_sync() {
    // `Rc` is neither: the handles hold no `T`, only encode and decode it.
    assert_send_sync::<manager::proxy::Queue<Rc<u8>>>();
    assert_send_sync::<manager::proxy::JoinableQueue<Rc<u8>>>();
    assert_send_sync::<manager::proxy::Event>();
    assert_send_sync::<manager::proxy::Barrier>();
    assert_send_sync::<manager::blocking::Queue<Rc<u8>>>();
    assert_send_sync::<manager::blocking::JoinableQueue<Rc<u8>>>();
    assert_send_sync::<manager::blocking::Event>();
    assert_send_sync::<manager::blocking::Barrier>();
}
