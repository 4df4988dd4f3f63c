//! The objects keep the reply types the `calls!` tables promise: every
//! call of every built-in kind, answered by a real actor, converts to its
//! [`Call`]'s reply type. A state that answered another shape would make a
//! proxy fail with a protocol error; this finds it first.

use manager_core::reply::Reply;
use manager_core::reply::ReplyShape;
use manager_core::request::{
    ArrayRequest, BarrierRequest, Call, ConditionRequest, DictRequest, EventRequest, ListRequest,
    LockRequest, NamespaceRequest, Owner, QueueRequest, RegistryRequest, SemaphoreRequest,
    SetRequest, SharedMemoryRequest, ValueRequest, Wait,
};
use manager_core::{Encoded, ObjectName, ObjectSpec, TypeTag};

use crate::object::ObjectHandle;
use crate::objects::testing::{Conn, Harness};

fn v(n: i64) -> Encoded {
    Encoded::encode(&n).unwrap()
}

/// Sends `call` and checks that its successful reply has the call's type.
async fn ask<R: ReplyShape>(conn: &mut Conn, object: &ObjectHandle, call: Call<R>) -> R {
    let what = format!("{call:?}");
    // Answered now or, for a wait that ends at once, by the object's timer.
    let id = conn.send(object, call.into_request()).await;
    let reply = conn
        .later(id)
        .await
        .unwrap_or_else(|e| panic!("{what} failed: {e}"));
    R::from_reply(reply).unwrap_or_else(|other| panic!("{what} answered {other:?}"))
}

#[actix::test]
async fn namespace_calls_reply_their_types() {
    let (_h, o) = Harness::start(ObjectSpec::Namespace).await;
    let c = &mut Conn::new(1);
    let a = || "a".to_owned();
    ask(c, &o, NamespaceRequest::set(a(), v(1))).await;
    ask(c, &o, NamespaceRequest::get(a())).await;
    ask(c, &o, NamespaceRequest::contains(a())).await;
    ask(c, &o, NamespaceRequest::names()).await;
    ask(c, &o, NamespaceRequest::snapshot()).await;
    ask(c, &o, NamespaceRequest::set_if_absent("b".into(), v(2))).await;
    ask(c, &o, NamespaceRequest::compare_and_swap(a(), None, v(3))).await;
    assert_eq!(ask(c, &o, NamespaceRequest::add(a(), 1)).await, 2);
    ask(c, &o, NamespaceRequest::update(vec![("c".into(), v(4))])).await;
    let read = ask(c, &o, NamespaceRequest::get_many(vec![a(), "zz".into()])).await;
    assert_eq!(read, [Some(v(2)), None]);
    assert!(ask(c, &o, NamespaceRequest::delete(a())).await);
}

#[actix::test]
async fn list_calls_reply_their_types() {
    let (_h, o) = Harness::start(ObjectSpec::List).await;
    let c = &mut Conn::new(1);
    ask(c, &o, ListRequest::append(v(1))).await;
    ask(c, &o, ListRequest::extend(vec![v(2), v(3)])).await;
    ask(c, &o, ListRequest::insert(0, v(0))).await;
    ask(c, &o, ListRequest::set(0, v(9))).await;
    ask(c, &o, ListRequest::get(0)).await;
    assert_eq!(ask(c, &o, ListRequest::len()).await, 4);
    ask(c, &o, ListRequest::index(v(2))).await;
    ask(c, &o, ListRequest::count(v(2))).await;
    ask(c, &o, ListRequest::contains(v(2))).await;
    ask(c, &o, ListRequest::slice(Some(0), None)).await;
    ask(c, &o, ListRequest::snapshot()).await;
    let version = ask(c, &o, ListRequest::versioned_snapshot()).await.version;
    ask(
        c,
        &o,
        ListRequest::replace_if_version(version, vec![v(1), v(2)]),
    )
    .await;
    ask(c, &o, ListRequest::reverse()).await;
    ask(c, &o, ListRequest::remove(v(1))).await;
    ask(c, &o, ListRequest::pop(None, Some(TypeTag::of::<i64>()))).await;
    ask(c, &o, ListRequest::clear()).await;
}

#[actix::test]
async fn dict_calls_reply_their_types() {
    let (_h, o) = Harness::start(ObjectSpec::Dict).await;
    let c = &mut Conn::new(1);
    let int = || Some(TypeTag::of::<i64>());
    ask(c, &o, DictRequest::insert(v(1), v(10))).await;
    ask(
        c,
        &o,
        DictRequest::update(vec![(v(2), v(20)), (v(3), v(30))]),
    )
    .await;
    ask(c, &o, DictRequest::get(v(1))).await;
    assert_eq!(ask(c, &o, DictRequest::len()).await, 3);
    ask(c, &o, DictRequest::contains_key(v(1))).await;
    ask(c, &o, DictRequest::keys()).await;
    ask(c, &o, DictRequest::values()).await;
    ask(c, &o, DictRequest::items()).await;
    ask(c, &o, DictRequest::set_default(v(4), v(40))).await;
    let read = ask(c, &o, DictRequest::get_many(vec![v(1), v(9)])).await;
    assert_eq!(read, [Some(v(10)), None]);
    let removed = ask(c, &o, DictRequest::remove_many(vec![v(3), v(9)], int())).await;
    assert_eq!(removed, [Some(v(30)), None]);
    assert_eq!(ask(c, &o, DictRequest::add(v(5), 2, int())).await, 2);
    ask(c, &o, DictRequest::remove(v(5), int())).await;
    ask(c, &o, DictRequest::pop(v(4), None, int())).await;
    ask(
        c,
        &o,
        DictRequest::pop_item(Some((TypeTag::of::<i64>(), TypeTag::of::<i64>()))),
    )
    .await;
    ask(c, &o, DictRequest::clear()).await;
}

#[actix::test]
async fn set_calls_reply_their_types() {
    let (_h, o) = Harness::start(ObjectSpec::Set).await;
    let c = &mut Conn::new(1);
    assert!(ask(c, &o, SetRequest::add(v(1))).await);
    ask(c, &o, SetRequest::add(v(2))).await;
    ask(c, &o, SetRequest::contains(v(1))).await;
    assert_eq!(ask(c, &o, SetRequest::len()).await, 2);
    ask(c, &o, SetRequest::union(vec![v(3)])).await;
    ask(c, &o, SetRequest::intersection(vec![v(1)])).await;
    ask(c, &o, SetRequest::difference(vec![v(1)])).await;
    ask(c, &o, SetRequest::snapshot()).await;
    ask(c, &o, SetRequest::discard(v(9))).await;
    ask(c, &o, SetRequest::remove(v(1))).await;
    ask(c, &o, SetRequest::pop(Some(TypeTag::of::<i64>()))).await;
    ask(c, &o, SetRequest::clear()).await;
}

#[actix::test]
async fn value_and_array_calls_reply_their_types() {
    let (h, value) = Harness::start(ObjectSpec::Value { initial: v(1) }).await;
    let c = &mut Conn::new(1);
    ask(c, &value, ValueRequest::get()).await;
    ask(c, &value, ValueRequest::set(v(2))).await;
    ask(c, &value, ValueRequest::swap(v(3))).await;
    ask(c, &value, ValueRequest::compare_and_swap(v(3), v(4))).await;
    assert_eq!(ask(c, &value, ValueRequest::add(1)).await, 5);

    let items = vec![v(1), v(2), v(3)];
    let array = h.object("a", ObjectSpec::Array { items }).await;
    assert_eq!(ask(c, &array, ArrayRequest::len()).await, 3);
    ask(c, &array, ArrayRequest::get(0)).await;
    ask(c, &array, ArrayRequest::set(0, v(7))).await;
    ask(c, &array, ArrayRequest::get_range(Some(0), Some(2))).await;
    ask(c, &array, ArrayRequest::set_range(1, vec![v(8)])).await;
    ask(c, &array, ArrayRequest::snapshot()).await;
}

#[actix::test]
async fn queue_calls_reply_their_types() {
    let spec = ObjectSpec::JoinableQueue { maxsize: Some(8) };
    let (_h, o) = Harness::start(spec).await;
    let c = &mut Conn::new(1);
    for n in 0..4 {
        ask(c, &o, QueueRequest::put(v(n), Wait::No)).await;
    }
    assert_eq!(ask(c, &o, QueueRequest::len()).await, 4);
    ask(c, &o, QueueRequest::is_empty()).await;
    ask(c, &o, QueueRequest::is_full()).await;
    let item = ask(c, &o, QueueRequest::get(Wait::No)).await;
    ask(c, &o, QueueRequest::return_item(item)).await;
    ask(c, &o, QueueRequest::get_as(TypeTag::of::<i64>(), Wait::No)).await;
    ask(c, &o, QueueRequest::task_done()).await;
    let delivered = ask(c, &o, QueueRequest::receive(None, Wait::No)).await;
    ask(c, &o, QueueRequest::requeue(delivered.receipt)).await;
    let delivered = ask(c, &o, QueueRequest::receive(None, Wait::No)).await;
    ask(c, &o, QueueRequest::ack(delivered.receipt, true)).await;
    ask(c, &o, QueueRequest::join(Wait::No)).await;
    assert_eq!(
        ask(c, &o, QueueRequest::put_many(vec![v(7), v(8)], Wait::No)).await,
        2
    );
    let taken = ask(
        c,
        &o,
        QueueRequest::get_many(2, TypeTag::of::<i64>(), Wait::No),
    )
    .await;
    ask(c, &o, QueueRequest::return_many(taken)).await;
    assert_eq!(ask(c, &o, QueueRequest::n_waiting()).await, 0);
}

#[actix::test]
async fn lock_semaphore_and_event_calls_reply_their_types() {
    let (h, lock) = Harness::start(ObjectSpec::RLock).await;
    let c = &mut Conn::new(1);
    let me = Owner(1);
    assert!(ask(c, &lock, LockRequest::acquire(me, Wait::No)).await);
    ask(c, &lock, LockRequest::is_locked()).await;
    ask(c, &lock, LockRequest::n_waiting()).await;
    ask(c, &lock, LockRequest::release(me)).await;

    let semaphore = h.object("s", ObjectSpec::Semaphore { value: 2 }).await;
    assert!(ask(c, &semaphore, SemaphoreRequest::acquire(Wait::No)).await);
    ask(c, &semaphore, SemaphoreRequest::release(1)).await;
    ask(c, &semaphore, SemaphoreRequest::acquire_owned(me, Wait::No)).await;
    ask(c, &semaphore, SemaphoreRequest::release_owned(me, 1)).await;
    assert_eq!(ask(c, &semaphore, SemaphoreRequest::value()).await, 2);
    ask(c, &semaphore, SemaphoreRequest::n_waiting()).await;

    let event = h.object("e", ObjectSpec::Event).await;
    ask(c, &event, EventRequest::set()).await;
    assert!(ask(c, &event, EventRequest::is_set()).await);
    assert!(ask(c, &event, EventRequest::wait(Wait::No)).await);
    ask(c, &event, EventRequest::clear()).await;
    assert_eq!(ask(c, &event, EventRequest::n_waiting()).await, 0);
}

#[actix::test]
async fn condition_and_barrier_calls_reply_their_types() {
    let (h, condition) = Harness::start(ObjectSpec::Condition).await;
    let c = &mut Conn::new(1);
    let me = Owner(1);
    assert!(ask(c, &condition, ConditionRequest::acquire(me, Wait::No)).await);
    ask(c, &condition, ConditionRequest::notify(me, 1)).await;
    ask(c, &condition, ConditionRequest::notify_all(me)).await;
    // A wait that ends at once still takes the lock back.
    let woken = ask(c, &condition, ConditionRequest::wait(me, Wait::No)).await;
    assert_eq!((woken.notified, woken.holds), (false, 1));
    let given = ConditionRequest::give_back(me, 2, false, woken.wait);
    assert_eq!(ask(c, &condition, given).await, 1);
    ask(c, &condition, ConditionRequest::acquire(me, Wait::No)).await;
    ask(c, &condition, ConditionRequest::release(me)).await;
    ask(c, &condition, ConditionRequest::acquire(me, Wait::No)).await;
    assert_eq!(
        ask(c, &condition, ConditionRequest::release_all(me, false)).await,
        1
    );
    assert_eq!(ask(c, &condition, ConditionRequest::n_waiting()).await, 0);

    let barrier = h.object("b", ObjectSpec::Barrier { parties: 1 }).await;
    ask(c, &barrier, BarrierRequest::wait(Wait::No)).await;
    assert_eq!(ask(c, &barrier, BarrierRequest::parties()).await, 1);
    ask(c, &barrier, BarrierRequest::n_waiting()).await;
    ask(c, &barrier, BarrierRequest::broken()).await;
    ask(c, &barrier, BarrierRequest::abort()).await;
    ask(c, &barrier, BarrierRequest::reset()).await;
}

/// The registry keeps its calls' reply types too (an inspection is
/// answered by the bridge, and checked by the inspection tests).
#[actix::test]
async fn registry_calls_reply_their_types() {
    async fn ask<R: ReplyShape>(h: &Harness, call: Call<R, RegistryRequest>) -> R {
        let what = format!("{call:?}");
        let reply = h
            .registry(call.into_request())
            .await
            .unwrap_or_else(|e| panic!("{what} failed: {e}"));
        R::from_reply(Reply::Registry(reply))
            .unwrap_or_else(|other| panic!("{what} answered {other:?}"))
    }
    let h = Harness::new();
    let name = || ObjectName::new("r").unwrap().into();
    let info = ask(&h, RegistryRequest::create_or_get(name(), ObjectSpec::Set)).await;
    assert!(info.created);
    assert_eq!(ask(&h, RegistryRequest::lookup(name())).await.id, info.id);
    assert_eq!(ask(&h, RegistryRequest::list()).await.len(), 1);
    assert!(ask(&h, RegistryRequest::remove(name())).await.0);
}

#[actix::test]
async fn shared_memory_calls_reply_their_types() {
    let spec = ObjectSpec::SharedMemory {
        size: 4096,
        element: None,
    };
    let (_h, o) = Harness::start(spec).await;
    let c = &mut Conn::new(1);
    assert_eq!(ask(c, &o, SharedMemoryRequest::size()).await, 4096);
    ask(c, &o, SharedMemoryRequest::check(4096, None)).await;
    let mapped = ask(c, &o, SharedMemoryRequest::map()).await;
    assert_eq!(mapped.size, 4096);
    assert!(mapped.fd.is_some(), "the descriptor rides beside the reply");
    ask(c, &o, SharedMemoryRequest::unmap()).await;
}
