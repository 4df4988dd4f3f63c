//! The queue through a real actor: puts and gets, waits, deliveries and
//! their receipts, returns, cancels and closed connections.

use std::time::Duration;

use manager_core::reply::Reply;
use manager_core::request::{NamespaceRequest, ObjectRequest, QueueRequest, Wait};
use manager_core::{Encoded, ManagerError, ObjectSpec, TypeTag};

use manager_core::inspect::KindDetail;

use crate::object::ObjectHandle;
use crate::objects::testing::{Conn, Harness};

fn v(n: i64) -> Encoded {
    Encoded::encode(&n).unwrap()
}

fn put(n: i64, wait: Wait) -> ObjectRequest {
    ObjectRequest::Queue(QueueRequest::Put { value: v(n), wait })
}

fn get(wait: Wait) -> ObjectRequest {
    ObjectRequest::Queue(QueueRequest::Get { wait })
}

fn get_as<T>(wait: Wait) -> ObjectRequest {
    ObjectRequest::Queue(QueueRequest::GetAs {
        expect: TypeTag::of::<T>(),
        wait,
    })
}

fn wrong_type<T>() -> ManagerError {
    ManagerError::WrongType {
        what: "queue `t`".into(),
        stored: "i64".into(),
        requested: TypeTag::of::<T>().as_str().to_owned(),
    }
}

fn q(request: QueueRequest) -> ObjectRequest {
    ObjectRequest::Queue(request)
}

async fn bounded(maxsize: u64) -> (Harness, ObjectHandle) {
    Harness::start(ObjectSpec::Queue {
        maxsize: Some(maxsize),
    })
    .await
}

async fn joinable() -> (Harness, ObjectHandle) {
    Harness::start(ObjectSpec::JoinableQueue { maxsize: None }).await
}

const SHORT: Wait = Wait::For(Duration::from_millis(30));

/// Marks `n` tasks done, then checks that the queue's work is finished:
/// no task more, no task less.
async fn finish_tasks(conn: &mut Conn, t: &ObjectHandle, n: usize) {
    for _ in 0..n {
        assert_eq!(
            conn.call(t, q(QueueRequest::TaskDone)).await,
            Ok(Reply::Done)
        );
    }
    assert_eq!(
        conn.call(t, q(QueueRequest::Join { wait: Wait::No })).await,
        Ok(Reply::Bool(true))
    );
}

#[actix::test]
async fn fifo_len_empty_full() {
    let (_h, t) = bounded(2).await;
    let mut a = Conn::new(1);
    assert_eq!(
        a.call(&t, q(QueueRequest::IsEmpty)).await,
        Ok(Reply::Bool(true))
    );
    assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(2)));
    assert_eq!(
        a.call(&t, q(QueueRequest::IsFull)).await,
        Ok(Reply::Bool(true))
    );
    assert_eq!(
        a.call(&t, put(3, Wait::No)).await,
        Err(ManagerError::Full {
            what: "queue `t`".into()
        })
    );
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
    assert_eq!(
        a.call(&t, get(Wait::No)).await,
        Err(ManagerError::Empty {
            what: "queue `t`".into()
        })
    );
}

#[actix::test]
async fn a_returned_item_goes_to_the_front_or_to_a_parked_getter() {
    let (_h, t) = joinable().await;
    let mut a = Conn::new(1);
    let ret = |n| q(QueueRequest::Return { value: v(n) });
    assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
    // Taken, then given back: to the front, before 2.
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert_eq!(a.call(&t, ret(1)).await, Ok(Reply::Done));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
    // A parked getter takes a returned item at once.
    let mut b = Conn::new(2);
    let gb = b.send(&t, get(Wait::Forever)).await;
    b.nothing();
    assert_eq!(a.call(&t, ret(2)).await, Ok(Reply::Done));
    assert_eq!(b.now(gb), Ok(Reply::Value(v(2))));
    // Two puts, two tasks: a return is not a new one.
    for _ in 0..2 {
        assert_eq!(a.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
    }
    assert_eq!(
        a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
        Ok(Reply::Bool(true))
    );
}

#[actix::test]
async fn a_client_returns_only_what_it_took() {
    let (_h, t) = bounded(4).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    let ret = |n| q(QueueRequest::Return { value: v(n) });
    // Nothing taken: nothing to return.
    let refused = a.call(&t, ret(9)).await;
    assert!(
        matches!(&refused, Err(ManagerError::BadRequest(why)) if why.contains("nothing to return")),
        "{refused:?}"
    );
    assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    // What a took is a's to return, once.
    assert!(b.call(&t, ret(1)).await.is_err());
    assert_eq!(a.call(&t, ret(1)).await, Ok(Reply::Done));
    assert!(a.call(&t, ret(1)).await.is_err());
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
}

#[actix::test]
async fn a_client_s_return_waits_for_room_in_a_bounded_queue() {
    let (_h, t) = bounded(1).await;
    let mut a = Conn::new(1);
    let ret = |n| q(QueueRequest::Return { value: v(n) });
    // a takes 0, and the queue fills again with 1.
    assert_eq!(a.call(&t, put(0, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(0))));
    assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
    // Full: the return waits rather than pass the bound, and a cancel
    // does not take it back (its item has nowhere else to go).
    let parked = a.send(&t, ret(0)).await;
    a.nothing();
    assert_eq!(
        a.call(&t, ObjectRequest::Cancel { request: parked }).await,
        Ok(Reply::Bool(false))
    );
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
    // A get makes room; the returned item goes to the front.
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert_eq!(a.now(parked), Ok(Reply::Done));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(0))));
    // However many a client sends, the queue holds at most its bound
    // while it lives; returns beyond what it took are refused.
    assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
    let mut sent = Vec::new();
    for n in 10..20 {
        sent.push(a.send(&t, ret(n)).await);
    }
    // a took two it has not given back: two wait, the rest are refused.
    for &id in &sent[2..] {
        assert!(matches!(a.now(id), Err(ManagerError::BadRequest(_))));
    }
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
    // When it closes, the returns it had waiting go back to the front
    // past the bound (they were items it took), the others were refused.
    a.close(&[&t]).await;
    let mut b = Conn::new(2);
    assert_eq!(b.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(3)));
}

#[actix::test]
async fn a_cancelled_get_leaves_and_takes_nothing() {
    let (_h, t) = bounded(1).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    let cancel = |request| ObjectRequest::Cancel { request };
    let abandoned = a.send(&t, get(Wait::Forever)).await;
    // Ids are per connection: b's get has another id than a's.
    assert_eq!(b.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(0)));
    let waiting = b.send(&t, get(Wait::Forever)).await;
    assert_ne!(waiting, abandoned);
    a.nothing();
    // Another connection cannot take it back; its owner can, once.
    assert_eq!(b.call(&t, cancel(abandoned)).await, Ok(Reply::Bool(false)));
    let taken_back = a.send(&t, cancel(abandoned)).await;
    assert_eq!(a.now(abandoned), Err(ManagerError::Cancelled));
    assert_eq!(a.now(taken_back), Ok(Reply::Bool(true)));
    assert_eq!(a.call(&t, cancel(abandoned)).await, Ok(Reply::Bool(false)));
    // The next item goes to the getter still waiting.
    assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(b.now(waiting), Ok(Reply::Value(v(1))));
    // A parked put leaves without its item entering.
    assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
    let put_back = a.send(&t, put(3, Wait::Forever)).await;
    let taken_back = a.send(&t, cancel(put_back)).await;
    assert_eq!(a.now(put_back), Err(ManagerError::Cancelled));
    assert_eq!(a.now(taken_back), Ok(Reply::Bool(true)));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(0)));
}

#[actix::test]
async fn zero_maxsize_is_unbounded() {
    let (_h, t) = bounded(0).await;
    let mut a = Conn::new(1);
    for n in 0..100 {
        assert_eq!(a.call(&t, put(n, Wait::No)).await, Ok(Reply::Done));
    }
    assert_eq!(
        a.call(&t, q(QueueRequest::IsFull)).await,
        Ok(Reply::Bool(false))
    );
}

#[actix::test]
async fn getters_are_served_in_arrival_order() {
    let (_h, t) = bounded(1).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    let ga = a.send(&t, get(Wait::Forever)).await;
    let gb = b.send(&t, get(Wait::Forever)).await;
    a.nothing();
    b.nothing();
    // Straight to the first getter: the queue never holds it.
    assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(a.now(ga), Ok(Reply::Value(v(1))));
    b.nothing();
    assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(b.now(gb), Ok(Reply::Value(v(2))));
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(0)));
}

#[actix::test]
async fn parked_putters_enter_in_order_as_room_appears() {
    let (_h, t) = bounded(1).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    a.call(&t, put(1, Wait::No)).await.unwrap();
    let pa = a.send(&t, put(2, Wait::Forever)).await;
    let pb = b.send(&t, put(3, Wait::Forever)).await;
    a.nothing();
    b.nothing();
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert_eq!(a.now(pa), Ok(Reply::Done));
    b.nothing();
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
    assert_eq!(b.now(pb), Ok(Reply::Done));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(3))));
}

#[actix::test]
async fn waits_that_end_fail_with_empty_and_full() {
    let (_h, t) = bounded(1).await;
    let mut a = Conn::new(1);
    let g = a.send(&t, get(SHORT)).await;
    assert!(matches!(a.later(g).await, Err(ManagerError::Empty { .. })));
    a.call(&t, put(1, Wait::No)).await.unwrap();
    let p = a.send(&t, put(2, SHORT)).await;
    assert!(matches!(a.later(p).await, Err(ManagerError::Full { .. })));
    // The timed-out put's item never entered.
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert!(a.call(&t, get(Wait::No)).await.is_err());
}

fn receive(wait: Wait) -> ObjectRequest {
    q(QueueRequest::Receive { expect: None, wait })
}

fn receipt_of(reply: Result<Reply, ManagerError>, item: i64) -> u64 {
    match reply {
        Ok(Reply::Delivery { receipt, value }) if value == v(item) => receipt,
        other => panic!("expected a delivery of {item}, got {other:?}"),
    }
}

#[actix::test]
async fn a_reply_never_read_gives_its_item_back() {
    let (_h, t) = joinable().await;
    let mut live = Conn::new(1);
    let mut dead = Conn::new(2);
    assert_eq!(live.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
    // Answered at once, but the connection goes before its writer
    // delivers the reply: the item comes back to the front.
    let _ = dead.send(&t, get(Wait::No)).await;
    // Dropping its reply queue gives back what the queued reply took;
    // the give-back reaches the mailbox before the live get.
    drop(dead);
    assert_eq!(live.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    // Not a new task: one task_done finishes the queue's work.
    finish_tasks(&mut live, &t, 1).await;
}

#[actix::test]
async fn a_reply_over_the_limit_is_refused_and_its_item_given_back() {
    let (_h, t) = joinable().await;
    let mut live = Conn::new(1);
    let mut small = Conn::with_max_reply(2, 16);
    let big = ObjectRequest::Queue(QueueRequest::Put {
        value: Encoded::encode(&vec![9_u8; 100]).unwrap(),
        wait: Wait::No,
    });
    assert_eq!(live.call(&t, big).await, Ok(Reply::Done));
    let refused = small.call(&t, get(Wait::No)).await;
    assert!(
        matches!(refused, Err(ManagerError::ReplyTooLarge { max: 16, .. })),
        "{refused:?}"
    );
    // The item went back to the front, not as a new task.
    let Ok(Reply::Value(item)) = live.call(&t, get(Wait::No)).await else {
        panic!("the item was lost");
    };
    assert_eq!(item.decode::<Vec<u8>>("item").unwrap().len(), 100);
    finish_tasks(&mut live, &t, 1).await;
}

#[actix::test]
async fn received_items_go_back_in_order_when_their_connection_closes() {
    let (h, t) = joinable().await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    for n in 1..=3 {
        assert_eq!(a.call(&t, put(n, Wait::No)).await, Ok(Reply::Done));
    }
    let r1 = receipt_of(a.call(&t, receive(Wait::No)).await, 1);
    let r2 = receipt_of(a.call(&t, receive(Wait::No)).await, 2);
    assert_ne!(r1, r2);
    let r3 = receipt_of(b.call(&t, receive(Wait::No)).await, 3);
    // In flight: not in the queue, and shown by inspection.
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(0)));
    let report = h.inspect().await.remove(0);
    assert!(matches!(
        report.detail.map(|d| d.size),
        Some(KindDetail::Queue {
            len: 0,
            in_flight: 3,
            ..
        })
    ));
    // Only the receiver acknowledges or requeues.
    for op in [
        QueueRequest::Ack {
            receipt: r3,
            task_done: false,
        },
        QueueRequest::Requeue { receipt: r3 },
    ] {
        assert!(matches!(
            a.call(&t, q(op)).await,
            Err(ManagerError::NotHeld { .. })
        ));
    }
    assert_eq!(
        b.call(
            &t,
            q(QueueRequest::Ack {
                receipt: r3,
                task_done: true
            })
        )
        .await,
        Ok(Reply::Done)
    );
    // Acknowledged once: a second ack finds nothing.
    assert!(matches!(
        b.call(
            &t,
            q(QueueRequest::Ack {
                receipt: r3,
                task_done: true
            })
        )
        .await,
        Err(ManagerError::NotHeld { .. })
    ));
    a.close(&[&t]).await;
    // Back at the front in the order taken.
    assert_eq!(b.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert_eq!(b.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
    // Three puts, three tasks.
    for _ in 0..2 {
        assert_eq!(b.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
    }
    assert_eq!(
        b.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
        Ok(Reply::Bool(true))
    );
}

#[actix::test]
async fn a_requeued_item_goes_to_a_parked_getter() {
    let (_h, t) = bounded(1).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    assert_eq!(a.call(&t, put(5, Wait::No)).await, Ok(Reply::Done));
    let r = receipt_of(a.call(&t, receive(Wait::No)).await, 5);
    let g = b.send(&t, receive(Wait::Forever)).await;
    b.nothing();
    assert_eq!(
        a.call(&t, q(QueueRequest::Requeue { receipt: r })).await,
        Ok(Reply::Done)
    );
    receipt_of(b.now(g), 5);
}

#[actix::test]
async fn dead_getter_is_skipped_and_dead_putter_dropped() {
    let (_h, t) = bounded(1).await;
    let mut live = Conn::new(1);
    let mut dead = Conn::new(2);
    let _ = dead.send(&t, get(Wait::Forever)).await;
    let g = live.send(&t, get(Wait::Forever)).await;
    // The dead connection's sink closes before the manager hears of it.
    drop(dead);
    assert_eq!(live.call(&t, put(7, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(live.now(g), Ok(Reply::Value(v(7))));

    let mut dead = Conn::new(3);
    live.call(&t, put(1, Wait::No)).await.unwrap();
    let _ = dead.send(&t, put(2, Wait::Forever)).await;
    dead.close(&[&t]).await;
    assert_eq!(live.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert!(matches!(
        live.call(&t, get(Wait::No)).await,
        Err(ManagerError::Empty { .. })
    ));
}

#[actix::test]
async fn a_wrong_typed_get_leaves_the_item_at_the_front() {
    let (_h, t) = bounded(2).await;
    let mut a = Conn::new(1);
    a.call(&t, put(1, Wait::No)).await.unwrap();
    a.call(&t, put(2, Wait::No)).await.unwrap();
    // Refused at once, whatever the wait: the queue is not empty.
    for wait in [Wait::No, SHORT, Wait::Forever] {
        assert_eq!(
            a.call(&t, get_as::<String>(wait)).await,
            Err(wrong_type::<String>())
        );
    }
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(2)));
    // A get of the right type then takes it, in order.
    assert_eq!(
        a.call(&t, get_as::<i64>(Wait::No)).await,
        Ok(Reply::Value(v(1)))
    );
    assert_eq!(
        a.call(&t, get_as::<i64>(Wait::No)).await,
        Ok(Reply::Value(v(2)))
    );
}

#[actix::test]
async fn a_parked_getter_of_another_type_is_refused_and_the_item_goes_on() {
    let (_h, t) = bounded(1).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    let ga = a.send(&t, get_as::<String>(Wait::Forever)).await;
    let gb = b.send(&t, get_as::<i64>(Wait::Forever)).await;
    a.nothing();
    b.nothing();
    // The first getter expects a `String`: it is answered `WrongType`,
    // and the item goes to the next getter.
    assert_eq!(a.call(&t, put(7, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(a.now(ga), Err(wrong_type::<String>()));
    assert_eq!(b.now(gb), Ok(Reply::Value(v(7))));

    // With no getter of the right type parked, the item enters the
    // queue and waits there for one.
    let ga = a.send(&t, get_as::<String>(Wait::Forever)).await;
    assert_eq!(b.call(&t, put(8, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(a.now(ga), Err(wrong_type::<String>()));
    assert_eq!(b.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
    assert_eq!(
        b.call(&t, get_as::<i64>(Wait::No)).await,
        Ok(Reply::Value(v(8)))
    );
}

#[actix::test]
async fn a_refused_getter_does_not_stop_a_putter_from_entering() {
    let (_h, t) = Harness::start(ObjectSpec::JoinableQueue { maxsize: Some(1) }).await;
    let mut a = Conn::new(1);
    a.call(&t, put(1, Wait::No)).await.unwrap();
    let p = a.send(&t, put(2, Wait::Forever)).await;
    assert!(matches!(
        a.call(&t, get_as::<bool>(Wait::No)).await,
        Err(ManagerError::WrongType { what, .. }) if what == "joinable queue `t`"
    ));
    // Still full, the putter still parked; nothing was marked taken.
    a.nothing();
    assert_eq!(
        a.call(&t, get_as::<i64>(Wait::No)).await,
        Ok(Reply::Value(v(1)))
    );
    assert_eq!(a.now(p), Ok(Reply::Done));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
    for _ in 0..2 {
        a.call(&t, q(QueueRequest::TaskDone)).await.unwrap();
    }
    assert_eq!(
        a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
        Ok(Reply::Bool(true))
    );
}

#[actix::test]
async fn join_waits_for_every_task_done() {
    let (_h, t) = joinable().await;
    let mut a = Conn::new(1);
    assert_eq!(
        a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
        Ok(Reply::Bool(true))
    );
    a.call(&t, put(1, Wait::No)).await.unwrap();
    a.call(&t, put(2, Wait::No)).await.unwrap();
    assert_eq!(
        a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
        Ok(Reply::Bool(false))
    );
    let mut b = Conn::new(2);
    let j = b
        .send(
            &t,
            q(QueueRequest::Join {
                wait: Wait::Forever,
            }),
        )
        .await;
    let timed = b.send(&t, q(QueueRequest::Join { wait: SHORT })).await;
    assert_eq!(b.later(timed).await, Ok(Reply::Bool(false)));
    a.call(&t, get(Wait::No)).await.unwrap();
    assert_eq!(a.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
    b.nothing();
    a.call(&t, get(Wait::No)).await.unwrap();
    assert_eq!(a.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
    assert_eq!(b.now(j), Ok(Reply::Bool(true)));
    assert!(matches!(
        a.call(&t, q(QueueRequest::TaskDone)).await,
        Err(ManagerError::TooManyReleases { .. })
    ));
}

#[actix::test]
async fn items_handed_to_getters_count_as_unfinished() {
    let (_h, t) = joinable().await;
    let mut a = Conn::new(1);
    let g = a.send(&t, get(Wait::Forever)).await;
    a.call(&t, put(1, Wait::No)).await.unwrap();
    assert_eq!(a.now(g), Ok(Reply::Value(v(1))));
    assert_eq!(
        a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
        Ok(Reply::Bool(false))
    );
    assert_eq!(a.call(&t, q(QueueRequest::TaskDone)).await, Ok(Reply::Done));
}

#[actix::test]
async fn plain_queue_has_no_task_done_or_join_and_refuses_other_families() {
    let (_h, t) = bounded(1).await;
    let mut a = Conn::new(1);
    assert!(matches!(
        a.call(&t, q(QueueRequest::TaskDone)).await,
        Err(ManagerError::Unsupported { operation, .. }) if operation == "task_done"
    ));
    assert!(matches!(
        a.call(&t, q(QueueRequest::Join { wait: Wait::No })).await,
        Err(ManagerError::Unsupported { operation, .. }) if operation == "join"
    ));
    assert!(matches!(
        a.call(&t, ObjectRequest::Namespace(NamespaceRequest::Names))
            .await,
        Err(ManagerError::WrongKind { .. })
    ));
}

#[actix::test]
async fn removal_answers_every_parked_request() {
    let (h, t) = Harness::start(ObjectSpec::JoinableQueue { maxsize: Some(1) }).await;
    let mut a = Conn::new(1);
    let g = a.send(&t, get(Wait::Forever)).await;
    a.call(&t, put(1, Wait::No)).await.unwrap();
    assert_eq!(a.now(g), Ok(Reply::Value(v(1))));
    a.call(&t, put(2, Wait::No)).await.unwrap();
    let p = a.send(&t, put(3, Wait::Forever)).await;
    let j = a
        .send(
            &t,
            q(QueueRequest::Join {
                wait: Wait::Forever,
            }),
        )
        .await;
    h.remove("t").await;
    assert!(matches!(a.now(p), Err(ManagerError::ObjectGone { .. })));
    assert!(matches!(a.now(j), Err(ManagerError::ObjectGone { .. })));
}

fn put_many(items: &[i64], wait: Wait) -> ObjectRequest {
    q(QueueRequest::PutMany {
        values: items.iter().map(|&n| v(n)).collect(),
        wait,
    })
}

fn get_many(max: u64, wait: Wait) -> ObjectRequest {
    q(QueueRequest::GetMany {
        max,
        expect: TypeTag::of::<i64>(),
        wait,
    })
}

fn values(items: &[i64]) -> Result<Reply, ManagerError> {
    Ok(Reply::Values(items.iter().map(|&n| v(n)).collect()))
}

#[actix::test]
async fn a_bulk_put_enters_what_fits_and_waits_for_room_for_the_rest() {
    let (_h, t) = bounded(3).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    // Without waiting: what fits, a prefix.
    assert_eq!(
        a.call(&t, put_many(&[1, 2], Wait::No)).await,
        Ok(Reply::Count(2))
    );
    assert_eq!(
        a.call(&t, put_many(&[3, 4, 5], Wait::No)).await,
        Ok(Reply::Count(1))
    );
    // Waiting: parked whole, entering as room appears, answered once all
    // are in.
    let pending = b.send(&t, put_many(&[6, 7], Wait::Forever)).await;
    b.nothing();
    // A later single put waits behind it.
    let single = a.send(&t, put(8, Wait::Forever)).await;
    assert_eq!(a.call(&t, get_many(2, Wait::No)).await, values(&[1, 2]));
    assert_eq!(b.later(pending).await, Ok(Reply::Count(2)));
    a.nothing();
    assert_eq!(a.call(&t, get_many(10, Wait::No)).await, values(&[3, 6, 7]));
    assert_eq!(a.later(single).await, Ok(Reply::Done));
    assert_eq!(a.call(&t, get_many(10, Wait::No)).await, values(&[8]));
    // Its wait ends with some in: it says how many, the first ones.
    assert_eq!(
        a.call(&t, put_many(&[1, 2, 3], Wait::No)).await,
        Ok(Reply::Count(3))
    );
    let timed = b.send(&t, put_many(&[4, 5], SHORT)).await;
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert_eq!(b.later(timed).await, Ok(Reply::Count(1)));
    assert_eq!(a.call(&t, get_many(10, Wait::No)).await, values(&[2, 3, 4]));
}

#[actix::test]
async fn an_unbounded_bulk_put_takes_everything_and_feeds_parked_getters() {
    let (_h, t) = Harness::start(ObjectSpec::Queue { maxsize: None }).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    let one = b.send(&t, get(Wait::Forever)).await;
    let many = b.send(&t, get_many(2, Wait::Forever)).await;
    b.nothing();
    assert_eq!(
        a.call(&t, put_many(&[1, 2, 3, 4], Wait::No)).await,
        Ok(Reply::Count(4))
    );
    assert_eq!(b.later(one).await, Ok(Reply::Value(v(1))));
    assert_eq!(b.later(many).await, values(&[2, 3]));
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
    // An empty bulk put is a no-op.
    assert_eq!(
        a.call(&t, put_many(&[], Wait::No)).await,
        Ok(Reply::Count(0))
    );
}

#[actix::test]
async fn a_bulk_get_waits_for_the_first_item_and_answers_empty_when_none_comes() {
    let (_h, t) = bounded(8).await;
    let mut a = Conn::new(1);
    assert_eq!(a.call(&t, get_many(4, Wait::No)).await, values(&[]));
    let timed = a.send(&t, get_many(4, SHORT)).await;
    assert_eq!(a.later(timed).await, values(&[]));
    let mut b = Conn::new(2);
    let waiting = b.send(&t, get_many(4, Wait::Forever)).await;
    b.nothing();
    assert_eq!(a.call(&t, put(5, Wait::No)).await, Ok(Reply::Done));
    // It takes what is there when the first item comes: one.
    assert_eq!(b.later(waiting).await, values(&[5]));
    // A max of 0 is taken as 1.
    assert_eq!(
        a.call(&t, put_many(&[6, 7], Wait::No)).await,
        Ok(Reply::Count(2))
    );
    assert_eq!(a.call(&t, get_many(0, Wait::No)).await, values(&[6]));
}

#[actix::test]
async fn a_bulk_get_stops_at_an_item_of_another_type() {
    let (_h, t) = bounded(8).await;
    let mut a = Conn::new(1);
    let text = Encoded::encode(&"x".to_owned()).unwrap();
    assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
    let put_text = q(QueueRequest::Put {
        value: text.clone(),
        wait: Wait::No,
    });
    assert_eq!(a.call(&t, put_text).await, Ok(Reply::Done));
    assert_eq!(a.call(&t, put(2, Wait::No)).await, Ok(Reply::Done));
    assert_eq!(a.call(&t, get_many(10, Wait::No)).await, values(&[1]));
    // Now the front is of another type: refused, nothing taken.
    let refused = a.call(&t, get_many(10, Wait::No)).await;
    assert!(
        matches!(refused, Err(ManagerError::WrongType { .. })),
        "{refused:?}"
    );
    assert_eq!(a.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(2)));
    assert_eq!(a.call(&t, get(Wait::No)).await, Ok(Reply::Value(text)));
    assert_eq!(a.call(&t, get_many(10, Wait::No)).await, values(&[2]));
}

#[actix::test]
async fn a_bulk_get_answers_no_more_than_a_reply_may_hold() {
    let (_h, t) = Harness::start(ObjectSpec::Queue { maxsize: None }).await;
    let mut a = Conn::new(1);
    let item = Encoded::encode(&vec![7_u8; 1000]).unwrap();
    let many = q(QueueRequest::PutMany {
        values: vec![item; 10],
        wait: Wait::No,
    });
    assert_eq!(a.call(&t, many).await, Ok(Reply::Count(10)));
    // Room for about three items under this connection's reply limit.
    let mut small = Conn::with_max_reply(2, 4_200);
    let get = q(QueueRequest::GetMany {
        max: 10,
        expect: TypeTag::of::<Vec<u8>>(),
        wait: Wait::No,
    });
    let Ok(Reply::Values(taken)) = small.call(&t, get.clone()).await else {
        panic!("a bulk get under a small reply limit failed");
    };
    assert!(
        (1..10).contains(&taken.len()),
        "took {} items under the limit",
        taken.len()
    );
    // Even one item over the limit is taken alone, and then refused and
    // given back by the sink as any reply over the limit is.
    let mut tiny = Conn::with_max_reply(3, 16);
    let refused = tiny.call(&t, get).await;
    assert!(
        matches!(refused, Err(ManagerError::ReplyTooLarge { .. })),
        "{refused:?}"
    );
    assert_eq!(
        a.call(&t, q(QueueRequest::Len)).await,
        Ok(Reply::Count(10 - taken.len() as u64))
    );
}

#[actix::test]
async fn a_bulk_get_never_delivered_gives_back_every_item_in_order() {
    let (_h, t) = joinable().await;
    let mut live = Conn::new(1);
    let mut dead = Conn::new(2);
    assert_eq!(
        live.call(&t, put_many(&[1, 2, 3], Wait::No)).await,
        Ok(Reply::Count(3))
    );
    let _ = dead.send(&t, get_many(2, Wait::No)).await;
    drop(dead);
    assert_eq!(
        live.call(&t, get_many(10, Wait::No)).await,
        values(&[1, 2, 3])
    );
    // Three tasks, not five: what came back is not new work.
    finish_tasks(&mut live, &t, 3).await;
}

#[actix::test]
async fn a_client_returns_only_as_many_as_its_bulk_gets_took() {
    let (_h, t) = bounded(2).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    let return_many = |items: &[i64]| {
        q(QueueRequest::ReturnMany {
            values: items.iter().map(|&n| v(n)).collect(),
        })
    };
    assert_eq!(
        a.call(&t, put_many(&[1, 2], Wait::No)).await,
        Ok(Reply::Count(2))
    );
    assert_eq!(a.call(&t, get_many(2, Wait::No)).await, values(&[1, 2]));
    // Another connection took nothing: refused, nothing changes.
    let refused = b.call(&t, return_many(&[1])).await;
    assert!(
        matches!(refused, Err(ManagerError::BadRequest(_))),
        "{refused:?}"
    );
    assert_eq!(a.call(&t, put(3, Wait::No)).await, Ok(Reply::Done));
    // The taker gives both back, to the front and in order, once there is
    // room for both: a client's return never pushes the queue past its
    // bound, and no get takes its second item before its first.
    let back = a.send(&t, return_many(&[1, 2])).await;
    a.nothing();
    assert_eq!(b.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
    assert_eq!(b.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(3))));
    assert_eq!(a.now(back), Ok(Reply::Done));
    assert!(a.call(&t, return_many(&[1])).await.is_err(), "no more out");
    assert_eq!(a.call(&t, get_many(5, Wait::No)).await, values(&[1, 2]));
}

#[actix::test]
async fn returns_never_push_a_bounded_queue_past_its_bound() {
    // A consumer that took many items over time may return as many, but
    // they wait for room like puts: the bound holds whatever it sends.
    let (_h, t) = bounded(1).await;
    let mut producer = Conn::new(1);
    let mut consumer = Conn::new(2);
    for n in 0..100 {
        assert_eq!(producer.call(&t, put(n, Wait::No)).await, Ok(Reply::Done));
        assert_eq!(consumer.call(&t, get_many(1, Wait::No)).await, values(&[n]));
    }
    assert_eq!(producer.call(&t, put(7, Wait::No)).await, Ok(Reply::Done));
    let made_up: Vec<i64> = (1000..1100).collect();
    let returned = consumer
        .send(
            &t,
            q(QueueRequest::ReturnMany {
                values: made_up.iter().map(|&n| v(n)).collect(),
            }),
        )
        .await;
    consumer.nothing();
    assert_eq!(
        producer.call(&t, q(QueueRequest::Len)).await,
        Ok(Reply::Count(1))
    );
    // Each get that empties the queue makes room for one of them, in
    // their order.
    assert_eq!(
        producer.call(&t, get(Wait::No)).await,
        Ok(Reply::Value(v(7)))
    );
    assert_eq!(
        producer.call(&t, q(QueueRequest::Len)).await,
        Ok(Reply::Count(1))
    );
    assert_eq!(
        producer.call(&t, get(Wait::No)).await,
        Ok(Reply::Value(v(1000)))
    );
    // The rest comes back if the consumer goes, past the bound: those are
    // what a caller that never had them gave back.
    consumer.close(&[&t]).await;
    let _ = returned;
    assert_eq!(
        producer.call(&t, q(QueueRequest::Len)).await,
        Ok(Reply::Count(99))
    );
}

#[actix::test]
async fn a_cancelled_or_dead_bulk_put_keeps_what_entered_and_drops_the_rest() {
    let (_h, t) = bounded(2).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    assert_eq!(a.call(&t, put(1, Wait::No)).await, Ok(Reply::Done));
    let parked = b.send(&t, put_many(&[2, 3, 4], Wait::Forever)).await;
    b.nothing();
    // 2 entered at once, 3 and 4 wait; the connection dies.
    let _ = parked;
    b.close(&[&t]).await;
    assert_eq!(a.call(&t, get_many(5, Wait::No)).await, values(&[1, 2]));
    assert_eq!(a.call(&t, get_many(5, Wait::No)).await, values(&[]));
    // A cancel takes the waiting rest back the same way.
    assert_eq!(
        a.call(&t, put_many(&[5, 6], Wait::No)).await,
        Ok(Reply::Count(2))
    );
    let mut c = Conn::new(3);
    let waiting = c.send(&t, put_many(&[7, 8], Wait::Forever)).await;
    let taken_back = c.send(&t, ObjectRequest::Cancel { request: waiting }).await;
    assert_eq!(c.now(waiting), Err(ManagerError::Cancelled));
    assert_eq!(c.now(taken_back), Ok(Reply::Bool(true)));
    assert_eq!(a.call(&t, get_many(5, Wait::No)).await, values(&[5, 6]));
    assert_eq!(a.call(&t, get_many(5, Wait::No)).await, values(&[]));
}

#[actix::test]
async fn a_large_bulk_put_lands_whole_and_in_order() {
    use crate::actor::BULK_SLICE;
    let (_h, t) = joinable().await;
    let mut a = Conn::new(1);
    let n = BULK_SLICE * 2 + 3;
    let items: Vec<i64> = (0..n as i64).collect();
    // The request after it in the same batch sees every item: it is
    // applied in slices, but no other request comes between them.
    let ids = a
        .send_batch(&t, vec![put_many(&items, Wait::No), q(QueueRequest::Len)])
        .await;
    let put = a.next().await;
    assert_eq!((put.id, put.result), (ids[0], Ok(Reply::Count(n as u64))));
    let len = a.next().await;
    assert_eq!((len.id, len.result), (ids[1], Ok(Reply::Count(n as u64))));
    let mut got = Vec::new();
    while got.len() < n {
        let Ok(Reply::Values(values)) = a.call(&t, get_many(10_000, Wait::No)).await else {
            panic!("get_many failed");
        };
        got.extend(values.iter().map(|v| v.decode::<i64>("item").unwrap()));
    }
    assert_eq!(got, items);
    finish_tasks(&mut a, &t, n).await;
}

/// Every call of this kind is answered in its `calls!` table's reply
/// type ([`ask`](crate::objects::testing::ask)).
#[actix::test]
async fn calls_reply_their_types() {
    use manager_core::request::{QueueRequest, Wait};
    use manager_core::{ObjectSpec, TypeTag};

    use crate::objects::testing::{Conn, Harness, ask, int as v};

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
async fn a_return_held_up_by_items_in_flight_enters_once_the_queue_is_empty() {
    // Room held by receipts may never be enough for a whole return: once
    // the queue holds nothing else it enters as far as there is room.
    let (_h, t) = bounded(3).await;
    let mut a = Conn::new(1);
    let mut b = Conn::new(2);
    assert_eq!(
        a.call(&t, put_many(&[1, 2], Wait::No)).await,
        Ok(Reply::Count(2))
    );
    assert_eq!(a.call(&t, get_many(2, Wait::No)).await, values(&[1, 2]));
    assert_eq!(
        b.call(&t, put_many(&[3, 4, 5], Wait::No)).await,
        Ok(Reply::Count(3))
    );
    // Two in flight, unacknowledged: room for one at most from now on.
    for _ in 0..2 {
        assert!(matches!(
            b.call(&t, receive(Wait::No)).await,
            Ok(Reply::Delivery { .. })
        ));
    }
    let back = a
        .send(
            &t,
            q(QueueRequest::ReturnMany {
                values: vec![v(1), v(2)],
            }),
        )
        .await;
    a.nothing();
    // 5 goes first; then the queue is empty, and the return enters as
    // room allows, in its order.
    assert_eq!(b.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(5))));
    assert_eq!(b.call(&t, q(QueueRequest::Len)).await, Ok(Reply::Count(1)));
    a.nothing();
    assert_eq!(b.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(1))));
    assert_eq!(a.now(back), Ok(Reply::Done));
    assert_eq!(b.call(&t, get(Wait::No)).await, Ok(Reply::Value(v(2))));
}
