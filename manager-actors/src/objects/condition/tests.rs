//! The condition through a real actor: its lock, waits and notifies,
//! abandoned and timed-out waits, and closed connections.

use std::time::Duration;

use manager_core::ObjectSpec;

use super::*;
use crate::object::ObjectHandle;
use crate::objects::testing::{Conn, Harness};
use manager_core::request::ObjectRequest;

fn acquire(owner: u64, wait: Wait) -> ObjectRequest {
    ObjectRequest::Condition(ConditionRequest::Acquire {
        owner: Owner(owner),
        wait,
    })
}

fn release(owner: u64) -> ObjectRequest {
    ObjectRequest::Condition(ConditionRequest::Release {
        owner: Owner(owner),
    })
}

fn wait(owner: u64, wait: Wait) -> ObjectRequest {
    ObjectRequest::Condition(ConditionRequest::Wait {
        owner: Owner(owner),
        wait,
    })
}

fn notify(owner: u64, n: u64) -> ObjectRequest {
    ObjectRequest::Condition(ConditionRequest::Notify {
        owner: Owner(owner),
        n,
    })
}

fn notify_all(owner: u64) -> ObjectRequest {
    ObjectRequest::Condition(ConditionRequest::NotifyAll {
        owner: Owner(owner),
    })
}

const T: Result<Reply, ManagerError> = Ok(Reply::Bool(true));

/// The reply of wait `wait`: the lock back, `holds` times over.
fn woken(wait: RequestId, notified: bool, holds: u64) -> Result<Reply, ManagerError> {
    Ok(Reply::Woken {
        notified,
        holds,
        wait,
    })
}

/// The reply of wait `wait`, notified, back with the lock once.
fn woke_once(wait: RequestId) -> Result<Reply, ManagerError> {
    woken(wait, true, 1)
}

/// Who holds condition `c`: (connection, owner, count).
async fn holders(h: &Harness) -> Vec<(u64, u64, u64)> {
    let report = h
        .inspect()
        .await
        .into_iter()
        .find(|r| r.name.as_str() == "c")
        .expect("condition `c` is there");
    let detail = report.detail.expect("the condition reports");
    detail
        .holders
        .iter()
        .map(|h| (h.connection, h.owner, h.count))
        .collect()
}

/// a's owner 1 takes the lock `holds` times and waits; b notifies it and
/// releases, so the wait takes the lock back, `holds` times over, its
/// reply unread: a's caller has given up on it. Returns the wait's id and
/// what a's client sends to give that grant back once it has the reply
/// (`undo_for`). The test sends the cancel, if any.
async fn a_late_grant(
    cond: &ObjectHandle,
    a: &mut Conn,
    b: &mut Conn,
    holds: u64,
) -> (RequestId, ObjectRequest) {
    for _ in 0..holds {
        assert_eq!(a.call(cond, acquire(1, Wait::Forever)).await, T);
    }
    let a_wait = a.send(cond, wait(1, Wait::Forever)).await;
    assert_eq!(b.call(cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(b.call(cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    assert_eq!(b.call(cond, release(1)).await, Ok(Reply::Done));
    let granted = a.later(a_wait).await;
    assert_eq!(granted, woken(a_wait, true, holds));
    let undo = wait(1, Wait::Forever)
        .undo_for(&granted.unwrap())
        .expect("a late grant is given back");
    (a_wait, undo)
}

/// What a client sends to take back request `request`.
fn cancel(request: RequestId) -> ObjectRequest {
    ObjectRequest::Cancel { request }
}

#[actix::test]
async fn wait_releases_and_notify_hands_the_lock_back() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    // a holds the lock twice, then waits: the lock is free for b.
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    let a_wait = a.send(&cond, wait(1, Wait::Forever)).await;
    assert!(a.ready().is_none(), "a waits");
    assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
    assert_eq!(b.call(&cond, notify(1, 5)).await, Ok(Reply::Count(1)));
    assert!(a.ready().is_none(), "a needs the lock back first");
    assert_eq!(b.call(&cond, notify_all(1)).await, Ok(Reply::Count(0)));
    assert_eq!(b.call(&cond, release(1)).await, Ok(Reply::Done));
    let woke = a.next().await;
    assert_eq!((woke.id, woke.result), (a_wait, woken(a_wait, true, 2)));
    // a holds it twice again.
    assert_eq!(
        b.call(&cond, acquire(1, Wait::No)).await,
        Ok(Reply::Bool(false))
    );
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    assert_eq!(
        b.call(&cond, acquire(1, Wait::No)).await,
        Ok(Reply::Bool(false))
    );
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
}

#[actix::test]
async fn a_wait_refused_for_the_parked_cap_keeps_the_lock() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let other = h.object("other", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::with_max_parked(1, 1), Conn::new(2));
    assert_eq!(b.call(&other, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    // a's one parked request, on another object.
    let parked = a.send(&other, acquire(1, Wait::Forever)).await;
    assert!(matches!(
        a.call(&cond, wait(1, Wait::Forever)).await,
        Err(ManagerError::LimitReached { max: 1, .. })
    ));
    // a still holds the lock: it may notify, b may not take it.
    assert_eq!(a.call(&cond, notify(1, 1)).await, Ok(Reply::Count(0)));
    assert_eq!(
        b.call(&cond, acquire(1, Wait::No)).await,
        Ok(Reply::Bool(false))
    );
    // Once its other request is served, a waits; a notify moves the wait
    // to the lock's queue without counting it again.
    assert_eq!(b.call(&other, release(1)).await, Ok(Reply::Done));
    let got = a.next().await;
    assert_eq!((got.id, got.result), (parked, T));
    assert_eq!(a.sink().parked(), 0);
    let a_wait = a.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(a.sink().parked(), 1);
    assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
    assert_eq!(b.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    assert_eq!(a.sink().parked(), 1, "still parked, for the lock");
    assert_eq!(b.call(&cond, release(1)).await, Ok(Reply::Done));
    let woke = a.next().await;
    assert_eq!((woke.id, woke.result), (a_wait, woke_once(a_wait)));
    assert_eq!(a.sink().parked(), 0);
}

#[actix::test]
async fn release_all_frees_the_lock_however_often_it_was_taken() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    let release_all = || {
        ObjectRequest::Condition(ConditionRequest::ReleaseAll {
            owner: Owner(1),
            pass_on_notify: false,
        })
    };
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    let b_acquire = b.send(&cond, acquire(1, Wait::Forever)).await;
    // Another connection's owner 1 holds nothing: 0, not an error.
    assert_eq!(b.call(&cond, release_all()).await, Ok(Reply::Count(0)));
    assert_eq!(a.call(&cond, release_all()).await, Ok(Reply::Count(2)));
    let got = b.next().await;
    assert_eq!((got.id, got.result), (b_acquire, T), "handed on");
    assert_eq!(a.call(&cond, release_all()).await, Ok(Reply::Count(0)));
}

#[actix::test]
async fn notify_wakes_in_arrival_order_and_at_most_n() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let mut conns: Vec<Conn> = (1..=3).map(Conn::new).collect();
    let mut ids = Vec::new();
    for conn in &mut conns {
        assert_eq!(conn.call(&cond, acquire(1, Wait::Forever)).await, T);
        ids.push(conn.send(&cond, wait(1, Wait::Forever)).await);
    }
    let mut n = Conn::new(9);
    assert_eq!(n.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(n.call(&cond, notify(1, 2)).await, Ok(Reply::Count(2)));
    assert_eq!(n.call(&cond, release(1)).await, Ok(Reply::Done));
    let first = conns[0].next().await;
    assert_eq!((first.id, first.result), (ids[0], woke_once(ids[0])));
    assert!(conns[1].ready().is_none(), "the second waits for the lock");
    assert_eq!(conns[0].call(&cond, release(1)).await, Ok(Reply::Done));
    let second = conns[1].next().await;
    assert_eq!((second.id, second.result), (ids[1], woke_once(ids[1])));
    assert_eq!(conns[1].call(&cond, release(1)).await, Ok(Reply::Done));
    assert!(conns[2].ready().is_none(), "the third was not notified");
    assert_eq!(n.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(n.call(&cond, notify_all(1)).await, Ok(Reply::Count(1)));
    assert_eq!(n.call(&cond, release(1)).await, Ok(Reply::Done));
    let third = conns[2].next().await;
    assert_eq!((third.id, third.result), (ids[2], woke_once(ids[2])));
}

#[actix::test]
async fn a_wait_that_times_out_takes_the_lock_back_and_answers_false() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    let a_wait = a
        .send(&cond, wait(1, Wait::For(Duration::from_millis(20))))
        .await;
    // b holds the lock when a's wait ends: a must wait for it.
    assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
    let b_id = b.send(&cond, release(1)).await;
    // Until b's release a has no reply; the release itself is immediate,
    // so wait for the timeout's reply, which needs the lock.
    let released = b.ready().expect("release answers at once");
    assert_eq!((released.id, released.result), (b_id, Ok(Reply::Done)));
    let timed_out = a.next().await;
    assert_eq!(
        (timed_out.id, timed_out.result),
        (a_wait, woken(a_wait, false, 1))
    );
    // a holds the lock again.
    assert_eq!(a.call(&cond, notify(1, 1)).await, Ok(Reply::Count(0)));
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
}

#[actix::test]
async fn a_timed_out_wait_queues_behind_the_holder() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    let a_wait = a.send(&cond, wait(1, Wait::No)).await;
    // `Wait::No` still let b in before a took the lock back.
    assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
    // c's later timer ends after a's zero one has: a now queues for the
    // lock b holds.
    c.send(&cond, acquire(1, Wait::For(Duration::from_millis(10))))
        .await;
    assert_eq!(c.next().await.result, Ok(Reply::Bool(false)));
    assert!(a.ready().is_none(), "a waits for b's release");
    assert_eq!(b.call(&cond, release(1)).await, Ok(Reply::Done));
    let answer = a.next().await;
    assert_eq!(
        (answer.id, answer.result),
        (a_wait, woken(a_wait, false, 1))
    );
}

#[actix::test]
async fn wait_and_notify_need_the_lock() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    for op in [
        wait(1, Wait::Forever),
        notify(1, 1),
        notify_all(1),
        release(1),
    ] {
        assert!(matches!(
            a.call(&cond, op).await,
            Err(ManagerError::NotHeld { what }) if what == "condition `c`"
        ));
    }
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    // Another owner of the same connection, or the same owner number
    // on another connection, does not hold it.
    for (conn, owner) in [(&mut a, 2), (&mut b, 1)] {
        for op in [wait(owner, Wait::Forever), notify(owner, 1), release(owner)] {
            assert!(matches!(
                conn.call(&cond, op).await,
                Err(ManagerError::NotHeld { .. })
            ));
        }
    }
}

#[actix::test]
async fn a_closed_connection_releases_the_lock_and_drops_its_waits() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    // b waits for a notify; then a takes the lock twice; c queues for it.
    assert_eq!(b.call(&cond, acquire(1, Wait::Forever)).await, T);
    b.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    let c_id = c.send(&cond, acquire(1, Wait::Forever)).await;
    b.close(&[&cond]).await;
    a.close(&[&cond]).await;
    let granted = c.next().await;
    assert_eq!((granted.id, granted.result), (c_id, T));
    assert_eq!(
        c.call(&cond, notify_all(1)).await,
        Ok(Reply::Count(0)),
        "b's wait is gone"
    );
}

/// b and c wait; a notifies one, which picks b. b's process dies before
/// it has the lock back: the notify goes to c instead of being lost.
#[actix::test]
async fn a_notify_picking_a_waiter_that_then_closes_wakes_the_next() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    assert_eq!(b.call(&cond, acquire(1, Wait::Forever)).await, T);
    b.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(c.call(&cond, acquire(1, Wait::Forever)).await, T);
    let c_wait = c.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    // b's connection closes while a still holds the lock.
    b.close(&[&cond]).await;
    assert!(c.ready().is_none(), "c needs the lock back first");
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    let woke = c.next().await;
    assert_eq!((woke.id, woke.result), (c_wait, woke_once(c_wait)));
    // Nobody is left waiting.
    assert_eq!(c.call(&cond, notify_all(1)).await, Ok(Reply::Count(0)));
    assert_eq!(c.call(&cond, release(1)).await, Ok(Reply::Done));
}

/// As above, but the lock comes free before the object is told that
/// b's connection closed: its turn comes, it is found gone and the
/// notify goes to c.
#[actix::test]
async fn a_notified_waiter_found_gone_at_its_turn_passes_the_notify_on() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    assert_eq!(b.call(&cond, acquire(1, Wait::Forever)).await, T);
    b.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(c.call(&cond, acquire(1, Wait::Forever)).await, T);
    let c_wait = c.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    drop(b);
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    let woke = c.next().await;
    assert_eq!((woke.id, woke.result), (c_wait, woke_once(c_wait)));
    assert_eq!(c.call(&cond, release(1)).await, Ok(Reply::Done));
}

/// A timed-out wait or a plain acquire of a closed connection carries
/// no notify: nobody else wakes for it.
#[actix::test]
async fn only_notified_waits_pass_anything_on() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    assert_eq!(c.call(&cond, acquire(1, Wait::Forever)).await, T);
    let c_wait = c.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    b.send(&cond, acquire(1, Wait::Forever)).await;
    b.close(&[&cond]).await;
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    assert!(c.ready().is_none(), "c was not notified");
    assert_eq!(a.call(&cond, acquire(1, Wait::No)).await, T);
    assert_eq!(a.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    let woke = c.next().await;
    assert_eq!((woke.id, woke.result), (c_wait, woke_once(c_wait)));
}

#[actix::test]
async fn removal_answers_both_kinds_of_waiter() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    a.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(b.call(&cond, acquire(1, Wait::Forever)).await, T);
    // A second owner of b queues for the lock b's first owner holds.
    b.send(&cond, acquire(2, Wait::Forever)).await;
    h.remove("c").await;
    for conn in [&mut a, &mut b] {
        assert!(matches!(
            conn.next().await.result,
            Err(ManagerError::ObjectGone { .. })
        ));
    }
}

/// A `wait` given up by its caller (a timeout, a dropped future) whose
/// grant comes late: the client sends the cancel as it gives up, before
/// its owner's next request, and the cancel, finding the wait granted
/// already, gives the grant back at once. The owner's next `acquire` is
/// then a fresh one, and the give-back the client sends when the late
/// reply reaches it (`undo_for`) finds the lock held through another
/// grant: it takes nothing. Otherwise another process takes the lock while
/// this one is inside its critical section.
#[actix::test]
async fn a_late_waits_give_back_leaves_a_later_acquire_held() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    let (a_wait, undo) = a_late_grant(&cond, &mut a, &mut b, 1).await;
    assert_eq!(holders(&h).await, [(1, 1, 1)]);
    // What a's client sends after giving up: the cancel (after the
    // grant), then its owner's next acquire, then the undo of the late
    // grant.
    assert_eq!(a.call(&cond, cancel(a_wait)).await, Ok(Reply::Bool(false)));
    assert_eq!(holders(&h).await, [], "given back at the cancel");
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, undo).await, Ok(Reply::Count(0)));
    // a's owner 1 was answered `true` and never released: it holds the lock.
    assert_eq!(
        b.call(&cond, acquire(1, Wait::No)).await,
        Ok(Reply::Bool(false)),
        "another connection took a lock a still believes it holds"
    );
    assert_eq!(holders(&h).await, [(1, 1, 1)]);
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
}

/// The give-back comes before the owner sends anything else, and no
/// cancel (the client read the reply into the call's channel, but its
/// caller had gone): it gives back exactly what the wait took back, so
/// the lock is free again, and the notify the wait consumed wakes the
/// next wait.
#[actix::test]
async fn a_late_waits_give_back_before_anything_else_frees_the_lock() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    // a takes the lock twice and waits first, then c waits.
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    let a_wait = a.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(c.call(&cond, acquire(1, Wait::Forever)).await, T);
    let c_wait = c.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(b.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(b.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    assert_eq!(b.call(&cond, release(1)).await, Ok(Reply::Done));
    let granted = a.later(a_wait).await;
    assert_eq!(granted, woken(a_wait, true, 2));
    assert_eq!(holders(&h).await, [(1, 1, 2)]);
    let undo = wait(1, Wait::Forever).undo_for(&granted.unwrap()).unwrap();
    assert_eq!(a.call(&cond, undo.clone()).await, Ok(Reply::Count(2)));
    // The lock and the notify went to c.
    let woke = c.next().await;
    assert_eq!((woke.id, woke.result), (c_wait, woke_once(c_wait)));
    assert_eq!(holders(&h).await, [(3, 1, 1)]);
    // Given back once only.
    assert_eq!(a.call(&cond, undo).await, Ok(Reply::Count(0)));
    assert_eq!(holders(&h).await, [(3, 1, 1)]);
    assert_eq!(c.call(&cond, release(1)).await, Ok(Reply::Done));
    assert_eq!(holders(&h).await, []);
}

/// A cancel that comes after its wait took the lock back gives the grant
/// back there and then, and passes on the notify the wait consumed, to
/// the next sleeping wait; the owner then holds nothing, so its retry of
/// the wait fails `NotHeld`, as it would have without the late grant, and
/// the give-back of the late reply changes nothing.
#[actix::test]
async fn a_cancel_after_a_notified_grant_gives_it_back_and_passes_the_notify_on() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    let a_wait = a.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(c.call(&cond, acquire(1, Wait::Forever)).await, T);
    let c_wait = c.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(b.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(b.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    assert_eq!(b.call(&cond, release(1)).await, Ok(Reply::Done));
    let granted = a.later(a_wait).await;
    assert_eq!(granted, woken(a_wait, true, 2));
    c.nothing();
    assert_eq!(a.call(&cond, cancel(a_wait)).await, Ok(Reply::Bool(false)));
    // The lock and the notify went to c.
    let woke = c.next().await;
    assert_eq!((woke.id, woke.result), (c_wait, woke_once(c_wait)));
    assert_eq!(holders(&h).await, [(3, 1, 1)]);
    assert!(matches!(
        a.call(&cond, wait(1, Wait::Forever)).await,
        Err(ManagerError::NotHeld { .. })
    ));
    let undo = wait(1, Wait::Forever).undo_for(&granted.unwrap()).unwrap();
    assert_eq!(a.call(&cond, undo).await, Ok(Reply::Count(0)));
    assert_eq!(holders(&h).await, [(3, 1, 1)]);
    // c's notify was passed on once: nobody else is woken.
    assert_eq!(c.call(&cond, notify_all(1)).await, Ok(Reply::Count(0)));
    assert_eq!(c.call(&cond, release(1)).await, Ok(Reply::Done));
    assert_eq!(holders(&h).await, []);
}

/// A `release` the owner sends after giving up a wait whose grant came
/// late (a guard dropped right after the given-up wait). Once the cancel
/// has given the grant back, the owner holds nothing: the release fails
/// `NotHeld`, as without the late grant, an acquire after it is fresh, and
/// the late give-back leaves it held.
#[actix::test]
async fn a_release_after_a_late_waits_cancel_frees_nothing_of_a_later_acquire() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    let (a_wait, undo) = a_late_grant(&cond, &mut a, &mut b, 2).await;
    assert_eq!(a.call(&cond, cancel(a_wait)).await, Ok(Reply::Bool(false)));
    assert!(matches!(
        a.call(&cond, release(1)).await,
        Err(ManagerError::NotHeld { .. })
    ));
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(a.call(&cond, undo).await, Ok(Reply::Count(0)));
    assert_eq!(holders(&h).await, [(1, 1, 1)]);
    assert_eq!(
        b.call(&cond, acquire(1, Wait::No)).await,
        Ok(Reply::Bool(false)),
        "another connection took a lock a still believes it holds"
    );
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
}

/// A give-back that comes after the owner's next requests, with no cancel
/// before them (the client does not cancel a `Wait::No` wait; its late
/// reply is given back when it arrives): an acquire since (re-entrant, the
/// owner holding the lock again) stays held, and a release since uses up
/// the grant's holds first, so an acquire after that release stays held
/// too.
#[actix::test]
async fn a_late_waits_give_back_after_an_acquire_or_a_release_leaves_that_acquire() {
    for release_first in [false, true] {
        let h = Harness::new();
        let cond = h.object("c", ObjectSpec::Condition).await;
        let (mut a, mut b) = (Conn::new(1), Conn::new(2));
        let (_, undo) = a_late_grant(&cond, &mut a, &mut b, 2).await;
        if release_first {
            assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
        }
        assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
        let held = if release_first { 2 } else { 3 };
        assert_eq!(holders(&h).await, [(1, 1, held)]);
        let given = held - 1;
        assert_eq!(a.call(&cond, undo).await, Ok(Reply::Count(given)));
        assert_eq!(
            holders(&h).await,
            [(1, 1, 1)],
            "release_first {release_first}"
        );
        assert_eq!(
            b.call(&cond, acquire(1, Wait::No)).await,
            Ok(Reply::Bool(false))
        );
        assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
        assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
    }
}

/// After the cancel gave the grant back, the owner acquired again and
/// waited again before the late give-back came: the give-back changes
/// nothing of that wait, asleep or queued to take the lock back.
#[actix::test]
async fn a_late_waits_give_back_after_its_cancel_leaves_the_owners_next_wait() {
    for asleep in [true, false] {
        let h = Harness::new();
        let cond = h.object("c", ObjectSpec::Condition).await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        let (first, undo) = a_late_grant(&cond, &mut a, &mut b, 1).await;
        assert_eq!(a.call(&cond, cancel(first)).await, Ok(Reply::Bool(false)));
        assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
        assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
        let a_wait = if asleep {
            a.send(&cond, wait(1, Wait::Forever)).await
        } else {
            a.send(&cond, wait(1, Wait::For(Duration::from_millis(10))))
                .await
        };
        assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
        if !asleep {
            // Timed waits end in deadline order: once c's later one has
            // ended, a's has, and a queues (2 times over) for the lock b
            // holds.
            c.send(&cond, acquire(1, Wait::For(Duration::from_millis(30))))
                .await;
            assert_eq!(c.next().await.result, Ok(Reply::Bool(false)));
        }
        assert_eq!(a.call(&cond, undo).await, Ok(Reply::Count(0)));
        a.nothing();
        if asleep {
            assert_eq!(b.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
        }
        assert_eq!(b.call(&cond, release(1)).await, Ok(Reply::Done));
        let back = a.next().await;
        assert_eq!((back.id, back.result), (a_wait, woken(a_wait, asleep, 2)));
        assert_eq!(holders(&h).await, [(1, 1, 2)]);
    }
}

/// The owner waited again before the give-back came, with no cancel
/// before (its caller retried the wait it gave up on, as a Python caller
/// would, holding the lock only through the late grant; a `Wait::No`
/// wait is not cancelled), and that second wait took the lock back and
/// was answered before the give-back arrived: its caller was told it
/// holds the lock. The give-back names the first wait, whose grant the
/// lock is no longer held through: it must not free the lock.
#[actix::test]
async fn a_late_waits_give_back_spares_a_later_wait_already_answered() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    let (_, undo) = a_late_grant(&cond, &mut a, &mut b, 1).await;
    // a's owner waits again: it holds the lock (the late grant), so the
    // wait is taken, and b notifies it.
    let a_wait = a.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(b.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(b.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    assert_eq!(b.call(&cond, release(1)).await, Ok(Reply::Done));
    let woke = a.next().await;
    assert_eq!((woke.id, woke.result), (a_wait, woke_once(a_wait)));
    // Only now does the give-back of the first wait arrive.
    assert_eq!(a.call(&cond, undo).await, Ok(Reply::Count(0)));
    assert_eq!(
        b.call(&cond, acquire(1, Wait::No)).await,
        Ok(Reply::Bool(false)),
        "another connection took a lock whose owner was just told it holds it"
    );
    assert_eq!(holders(&h).await, [(1, 1, 1)]);
}

/// A give-back names its wait: one that names another request, a wait
/// not granted yet, or another connection's, changes nothing; one that
/// names the grant the lock is held through takes no more than that
/// grant restored, whatever the client says.
#[actix::test]
async fn a_give_back_takes_only_the_grant_it_names() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    let give_back = |holds, wait| {
        ObjectRequest::Condition(ConditionRequest::GiveBack {
            owner: Owner(1),
            holds,
            pass_on_notify: false,
            wait,
        })
    };
    // Nothing held: nothing given back, not an error.
    assert_eq!(
        a.call(&cond, give_back(1, RequestId(1))).await,
        Ok(Reply::Count(0))
    );
    let first = a.send(&cond, acquire(1, Wait::Forever)).await;
    assert_eq!(a.now(first), T);
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    // An acquire is no wait's grant.
    assert_eq!(
        a.call(&cond, give_back(5, first)).await,
        Ok(Reply::Count(0))
    );
    // A wait not granted yet: it sleeps on, with what it saved.
    let a_wait = a.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(
        a.call(&cond, give_back(u64::MAX, a_wait)).await,
        Ok(Reply::Count(0))
    );
    assert_eq!(b.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(b.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    assert_eq!(b.call(&cond, release(1)).await, Ok(Reply::Done));
    assert_eq!(a.later(a_wait).await, woken(a_wait, true, 2));
    // Another request's id, or the same id from another connection.
    let stale = RequestId(a_wait.0 + 100);
    assert_eq!(
        a.call(&cond, give_back(u64::MAX, stale)).await,
        Ok(Reply::Count(0))
    );
    assert_eq!(
        b.call(&cond, give_back(u64::MAX, a_wait)).await,
        Ok(Reply::Count(0))
    );
    assert_eq!(holders(&h).await, [(1, 1, 2)]);
    // a acquires once more: the grant's 2, no more.
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    assert_eq!(
        a.call(&cond, give_back(u64::MAX, a_wait)).await,
        Ok(Reply::Count(2))
    );
    assert_eq!(holders(&h).await, [(1, 1, 1)]);
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    assert_eq!(b.call(&cond, acquire(1, Wait::No)).await, T);
    assert_eq!(b.call(&cond, notify_all(1)).await, Ok(Reply::Count(0)));
}

/// A cancel takes a wait back wherever it is: a sleeping wait consumed no
/// notify and passes nothing on; a notified one queued for the lock
/// passes its notify to the next sleeper; one whose wait ended passes
/// nothing on.
#[actix::test]
async fn a_cancelled_wait_passes_on_only_a_notify_it_consumed() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut b, mut c, mut d) = (Conn::new(1), Conn::new(2), Conn::new(3), Conn::new(4));
    let cancel = |request| ObjectRequest::Cancel { request };
    let mut waits = Vec::new();
    for conn in [&mut b, &mut c, &mut d] {
        assert_eq!(conn.call(&cond, acquire(1, Wait::Forever)).await, T);
        waits.push(conn.send(&cond, wait(1, Wait::Forever)).await);
    }
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    // b's sleeping wait is cancelled: the notify then picks c, not b.
    let b_cancel = b.send(&cond, cancel(waits[0])).await;
    assert_eq!(b.later(waits[0]).await, Err(ManagerError::Cancelled));
    assert_eq!(b.now(b_cancel), Ok(Reply::Bool(true)));
    assert_eq!(a.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
    // c, notified and queued for the lock a holds, is cancelled: d gets
    // its notify.
    let c_cancel = c.send(&cond, cancel(waits[1])).await;
    let cancelled = c.next().await;
    assert_eq!(
        (cancelled.id, cancelled.result),
        (waits[1], Err(ManagerError::Cancelled))
    );
    assert_eq!(c.now(c_cancel), Ok(Reply::Bool(true)));
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    let woke = d.next().await;
    assert_eq!((woke.id, woke.result), (waits[2], woke_once(waits[2])));
}

/// A wait that ended without a notify and queues for the lock consumed
/// no notify: cancelled there, it wakes nobody.
#[actix::test]
async fn a_cancelled_timed_out_wait_wakes_nobody() {
    let h = Harness::new();
    let cond = h.object("c", ObjectSpec::Condition).await;
    let (mut a, mut x, mut y, mut z) = (Conn::new(1), Conn::new(2), Conn::new(3), Conn::new(4));
    assert_eq!(y.call(&cond, acquire(1, Wait::Forever)).await, T);
    let y_wait = y
        .send(&cond, wait(1, Wait::For(Duration::from_millis(10))))
        .await;
    assert_eq!(x.call(&cond, acquire(1, Wait::Forever)).await, T);
    let x_wait = x.send(&cond, wait(1, Wait::Forever)).await;
    assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
    // Timed waits end in deadline order: once z's later one has ended,
    // y's has, and y queues for the lock a holds.
    z.send(&cond, acquire(1, Wait::For(Duration::from_millis(30))))
        .await;
    assert_eq!(z.next().await.result, Ok(Reply::Bool(false)));
    let y_cancel = y
        .send(&cond, ObjectRequest::Cancel { request: y_wait })
        .await;
    let cancelled = y.next().await;
    assert_eq!(
        (cancelled.id, cancelled.result),
        (y_wait, Err(ManagerError::Cancelled))
    );
    assert_eq!(y.now(y_cancel), Ok(Reply::Bool(true)));
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    x.nothing();
    assert_eq!(a.call(&cond, acquire(1, Wait::No)).await, T);
    assert_eq!(a.call(&cond, notify_all(1)).await, Ok(Reply::Count(1)));
    assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
    let woke = x.next().await;
    assert_eq!((woke.id, woke.result), (x_wait, woke_once(x_wait)));
}

/// A notified wait's grant, with its restored count, that cannot be
/// delivered gives back the lock and the notify, whether the object
/// hears of the undelivered reply before or after the connection's close.
#[actix::test]
async fn an_undelivered_notified_grant_gives_back_lock_and_notify_once() {
    for close_first in [false, true] {
        let h = Harness::new();
        let cond = h.object("c", ObjectSpec::Condition).await;
        let (mut a, mut b, mut c, mut d) = (Conn::new(1), Conn::new(2), Conn::new(3), Conn::new(4));
        // b holds the lock twice when it waits; c and d wait after it.
        for _ in 0..2 {
            assert_eq!(b.call(&cond, acquire(1, Wait::Forever)).await, T);
        }
        b.send(&cond, wait(1, Wait::Forever)).await;
        let mut waits = Vec::new();
        for conn in [&mut c, &mut d] {
            assert_eq!(conn.call(&cond, acquire(1, Wait::Forever)).await, T);
            waits.push(conn.send(&cond, wait(1, Wait::Forever)).await);
        }
        assert_eq!(a.call(&cond, acquire(1, Wait::Forever)).await, T);
        assert_eq!(a.call(&cond, notify(1, 1)).await, Ok(Reply::Count(1)));
        // b gets the lock back (twice over), its reply unread.
        assert_eq!(a.call(&cond, release(1)).await, Ok(Reply::Done));
        assert_eq!(
            a.call(&cond, acquire(1, Wait::No)).await,
            Ok(Reply::Bool(false))
        );
        if close_first {
            cond.closed
                .send(crate::object::ConnectionClosed(ConnectionId(2)))
                .await
                .unwrap();
        }
        // The grant is dropped undelivered with b's reply queue.
        drop(b);
        let woke = c.next().await;
        assert_eq!(
            (woke.id, woke.result),
            (waits[0], woke_once(waits[0])),
            "close_first {close_first}"
        );
        // c holds it once; d still sleeps: the notify passed on once.
        assert_eq!(c.call(&cond, notify(1, 0)).await, Ok(Reply::Count(0)));
        assert_eq!(c.call(&cond, release(1)).await, Ok(Reply::Done));
        d.nothing();
        assert_eq!(a.call(&cond, acquire(1, Wait::No)).await, T);
        assert_eq!(a.call(&cond, notify_all(1)).await, Ok(Reply::Count(1)));
    }
}

/// Every call of this kind is answered in its `calls!` table's reply
/// type ([`ask`](crate::objects::testing::ask)).
#[actix::test]
async fn calls_reply_their_types() {
    use manager_core::request::{ConditionRequest, Owner, Wait};
    use manager_core::ObjectSpec;

    use crate::objects::testing::{Conn, Harness, ask};

    let (_h, condition) = Harness::start(ObjectSpec::Condition).await;
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
}
