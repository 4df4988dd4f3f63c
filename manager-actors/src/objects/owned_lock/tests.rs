//! Tests of [`OwnedLock`] itself, hosted in a state that is nothing but
//! the lock ([`Host`]): re-entry, the rules of who may release, hand-over
//! in arrival order past gone acquires, release when a connection closes,
//! timeout, cancel and give-back of a parked acquire.

use std::sync::{Arc, Mutex};

use actix::{Actor, Addr};
use manager_core::request::{ConditionRequest, ObjectRequest};
use manager_core::{ObjectId, ObjectKind, ObjectName};

use super::*;
use crate::actor::ObjectActor;
use crate::object::{ObjectHandle, ObjectStats};
use crate::objects::testing::Conn;

/// What a test acquire carries: a plain one (`Requeued(false)`) answers
/// `true` and passes nothing on; a requeued one ([`Host`]'s `Wait`)
/// answers `false` and passes on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Requeued(bool);

impl Pending for Requeued {
    const MAY_PASS_ON: bool = true;

    fn answer(self, _holds: u64, _request: RequestId) -> Reply {
        Reply::Bool(!self.0)
    }

    fn restores(self) -> bool {
        self.0
    }

    fn passes_on(self) -> bool {
        self.0
    }
}

/// A state that is only an [`OwnedLock`], speaking the condition's
/// requests: `Acquire` and `Release` are the core's; `Notify` answers the
/// depth and `NotifyAll` the parked count; `Wait` queues an acquire for 3
/// (`Requeued(true)`), `ReleaseAll` releases completely and hands on, and
/// `GiveBack` gives back the grant of the `Wait` it names, counting what
/// that passes on as lost. It adds up what the core says is lost.
#[derive(Debug)]
struct Host {
    lock: OwnedLock<Requeued>,
    lost: Arc<Mutex<u64>>,
}

impl Host {
    fn lose(&self, lost: u64) {
        *self.lost.lock().unwrap() += lost;
    }
}

impl ObjectState for Host {
    type Request = ConditionRequest;

    fn handle(
        &mut self,
        request: ConditionRequest,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        match request {
            ConditionRequest::Acquire { owner, wait } => {
                self.lock.acquire(owner, wait, caller, ctx);
            }
            ConditionRequest::Release { owner } => {
                let lost = self.lock.release(owner, caller, ctx);
                self.lose(lost);
            }
            ConditionRequest::Notify { .. } => {
                caller.reply(Ok(Reply::Count(self.lock.depth())));
            }
            ConditionRequest::NotifyAll { .. } | ConditionRequest::NWaiting => {
                caller.reply(Ok(Reply::Count(self.lock.parked() as u64)));
            }
            ConditionRequest::Wait { owner, wait } => {
                let acquirer = Acquirer {
                    owner,
                    count: 3,
                    pending: Requeued(true),
                };
                self.lock.enqueue(caller, acquirer, wait, ctx);
                let lost = self.lock.hand_over(ctx);
                self.lose(lost);
            }
            ConditionRequest::ReleaseAll { owner, .. } => {
                let released = self.lock.release_completely(caller.connection, owner);
                caller.reply(Ok(Reply::Count(released)));
                let lost = self.lock.hand_over(ctx);
                self.lose(lost);
            }
            ConditionRequest::GiveBack { holds, wait, .. } => {
                let given = self
                    .lock
                    .give_back_grant(caller.connection, wait, holds)
                    .map_or(0, |(given, passes_on)| {
                        self.lose(u64::from(passes_on));
                        given
                    });
                caller.reply(Ok(Reply::Count(given)));
                let lost = self.lock.hand_over(ctx);
                self.lose(lost);
            }
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        assert!(self.lock.timed_out(waiter, ctx), "only acquires are parked");
    }

    fn cancel(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> bool {
        let Some(pending) = self.lock.cancel(connection, request, ctx) else {
            return false;
        };
        self.lose(u64::from(pending.passes_on()));
        true
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        let lost = self.lock.connection_closed(connection, ctx);
        self.lose(lost);
    }

    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        self.lock.removed(ctx);
    }
}

/// A started host of a plain or re-entrant lock, its lost count and
/// its actor.
fn host(reentrant: bool) -> (ObjectHandle, Arc<Mutex<u64>>, Addr<ObjectActor<Host>>) {
    let lost = Arc::new(Mutex::new(0));
    let stats = Arc::new(ObjectStats::new());
    let kind = if reentrant {
        ObjectKind::RLock
    } else {
        ObjectKind::Lock
    };
    let state = Host {
        lock: OwnedLock::new(reentrant),
        lost: lost.clone(),
    };
    let actor = ObjectActor::new(
        ObjectId(1),
        ObjectName::new("core").unwrap(),
        kind.clone(),
        state,
        stats.clone(),
    )
    .start();
    let handle = ObjectHandle {
        id: ObjectId(1),
        kind,
        mailbox: actor.clone().recipient(),
        closed: actor.clone().recipient(),
        report: actor.clone().recipient(),
        stats,
    };
    (handle, lost, actor)
}

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

fn requeue(owner: u64, wait: Wait) -> ObjectRequest {
    ObjectRequest::Condition(ConditionRequest::Wait {
        owner: Owner(owner),
        wait,
    })
}

fn release_completely(owner: u64) -> ObjectRequest {
    ObjectRequest::Condition(ConditionRequest::ReleaseAll {
        owner: Owner(owner),
        pass_on_notify: false,
    })
}

const DEPTH: ObjectRequest = ObjectRequest::Condition(ConditionRequest::Notify {
    owner: Owner(0),
    n: 0,
});
const PARKED: ObjectRequest =
    ObjectRequest::Condition(ConditionRequest::NotifyAll { owner: Owner(0) });
const DONE: Result<Reply, ManagerError> = Ok(Reply::Done);
const TRUE: Result<Reply, ManagerError> = Ok(Reply::Bool(true));
const FALSE: Result<Reply, ManagerError> = Ok(Reply::Bool(false));

fn count(n: u64) -> Result<Reply, ManagerError> {
    Ok(Reply::Count(n))
}

fn not_held(result: Result<Reply, ManagerError>) -> bool {
    matches!(result, Err(ManagerError::NotHeld { what }) if what.ends_with("`core`"))
}

#[actix::test]
async fn a_reentrant_lock_counts_its_holders_acquires_and_only_it_releases() {
    let (lock, _, _) = host(true);
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    assert!(not_held(a.call(&lock, release(1)).await), "nobody holds it");
    for depth in 1..=3 {
        assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, TRUE);
        assert_eq!(a.call(&lock, DEPTH).await, count(depth));
    }
    // Another owner of the connection, or the same owner number on
    // another connection, is not the holder.
    assert_eq!(a.call(&lock, acquire(2, Wait::No)).await, FALSE);
    assert_eq!(b.call(&lock, acquire(1, Wait::No)).await, FALSE);
    assert!(not_held(a.call(&lock, release(2)).await));
    assert!(not_held(b.call(&lock, release(1)).await));
    assert_eq!(b.call(&lock, release_completely(1)).await, count(0));
    assert_eq!(a.call(&lock, DEPTH).await, count(3));
    // Once per acquire.
    for depth in (0..3).rev() {
        assert_eq!(a.call(&lock, release(1)).await, DONE);
        assert_eq!(a.call(&lock, DEPTH).await, count(depth));
    }
    assert!(not_held(a.call(&lock, release(1)).await));
    // Completely, however often it was taken.
    for _ in 0..2 {
        assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, TRUE);
    }
    assert_eq!(a.call(&lock, release_completely(1)).await, count(2));
    assert_eq!(b.call(&lock, acquire(1, Wait::No)).await, TRUE);
}

#[actix::test]
async fn a_plain_lock_is_held_once_and_released_by_any_owner_of_its_connection() {
    let (lock, _, _) = host(false);
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, TRUE);
    // Not re-entrant: the holder itself waits.
    assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, FALSE);
    assert_eq!(a.call(&lock, DEPTH).await, count(1));
    // No owner of another connection releases it.
    for owner in [1, 2] {
        assert!(not_held(b.call(&lock, release(owner)).await));
    }
    assert_eq!(a.call(&lock, release(2)).await, DONE);
    assert_eq!(a.call(&lock, DEPTH).await, count(0));
    assert!(not_held(a.call(&lock, release(1)).await));
}

#[actix::test]
async fn a_freed_lock_goes_to_the_longest_parked_live_acquire() {
    let (lock, lost, _) = host(false);
    let mut conns: Vec<Conn> = (1..=5).map(Conn::new).collect();
    assert_eq!(conns[0].call(&lock, acquire(1, Wait::No)).await, TRUE);
    let mut ids = vec![None];
    for conn in &mut conns[1..] {
        ids.push(Some(conn.send(&lock, acquire(1, Wait::Forever)).await));
    }
    assert_eq!(conns[0].call(&lock, PARKED).await, count(4));
    // The third's connection is gone, not yet reported closed.
    let mut gone = conns.remove(2);
    gone.nothing();
    drop(gone);
    ids.remove(2);
    for i in 1..conns.len() {
        assert!((i..conns.len()).all(|j| conns[j].ready().is_none()));
        let previous = i - 1;
        assert_eq!(conns[previous].call(&lock, release(1)).await, DONE);
        let granted = conns[i].next().await;
        assert_eq!((Some(granted.id), granted.result), (ids[i], TRUE));
    }
    assert_eq!(conns[0].call(&lock, PARKED).await, count(0));
    assert_eq!(*lost.lock().unwrap(), 0, "plain acquires pass nothing on");
}

#[actix::test]
async fn a_closed_holders_lock_is_released_completely_and_handed_on() {
    let (lock, _, _) = host(true);
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    for _ in 0..3 {
        assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, TRUE);
    }
    // a's own second owner parks too, then b and c.
    a.send(&lock, acquire(2, Wait::Forever)).await;
    b.send(&lock, acquire(1, Wait::Forever)).await;
    let c_id = c.send(&lock, acquire(1, Wait::Forever)).await;
    b.close(&[&lock]).await;
    assert!(c.ready().is_none(), "a still holds it");
    assert_eq!(c.call(&lock, PARKED).await, count(2));
    a.close(&[&lock]).await;
    let granted = c.next().await;
    assert_eq!((granted.id, granted.result), (c_id, TRUE));
    assert_eq!(c.call(&lock, PARKED).await, count(0));
    assert_eq!(c.call(&lock, DEPTH).await, count(1));
    // A closed connection holding nothing changes nothing.
    Conn::new(4).close(&[&lock]).await;
    assert_eq!(c.call(&lock, DEPTH).await, count(1));
}

/// A queued acquire takes the lock with its count and answers what its
/// kind says; the ones that leave without it are counted lost when
/// they pass something on, whichever way they leave.
#[actix::test]
async fn a_queued_acquire_takes_its_count_and_lost_ones_are_counted() {
    let (lock, lost, _) = host(true);
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    let (mut d, mut e) = (Conn::new(4), Conn::new(5));
    assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, TRUE);
    b.send(&lock, requeue(1, Wait::Forever)).await;
    let c_id = c.send(&lock, requeue(1, Wait::Forever)).await;
    d.send(&lock, requeue(1, Wait::Forever)).await;
    let e_plain = e.send(&lock, acquire(1, Wait::Forever)).await;
    let e_queued = e.send(&lock, requeue(2, Wait::Forever)).await;
    // d's connection closes; e cancels its queued acquire.
    d.close(&[&lock]).await;
    assert_eq!(*lost.lock().unwrap(), 1);
    let cancel = e
        .send(&lock, ObjectRequest::Cancel { request: e_queued })
        .await;
    assert_eq!(e.now(e_queued), Err(ManagerError::Cancelled));
    assert_eq!(e.now(cancel), TRUE);
    assert_eq!(*lost.lock().unwrap(), 2);
    // b's is gone when its turn comes: skipped and counted.
    drop(b);
    assert_eq!(a.call(&lock, release(1)).await, DONE);
    assert_eq!(*lost.lock().unwrap(), 3);
    let granted = c.next().await;
    assert_eq!((granted.id, granted.result), (c_id, FALSE));
    assert_eq!(c.call(&lock, DEPTH).await, count(3));
    assert_eq!(c.call(&lock, release_completely(1)).await, count(3));
    let granted = e.next().await;
    assert_eq!((granted.id, granted.result), (e_plain, TRUE));
    assert_eq!(e.call(&lock, DEPTH).await, count(1));
    assert_eq!(
        *lost.lock().unwrap(),
        3,
        "a plain acquire passes nothing on"
    );
}

#[actix::test]
async fn an_ended_or_cancelled_acquire_leaves_without_the_lock() {
    let (lock, _, _) = host(false);
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, TRUE);
    // `Wait::No`, parked anyway, ends on the object's next turn.
    let ended = b.send(&lock, requeue(1, Wait::No)).await;
    assert_eq!(b.later(ended).await, FALSE);
    let cancelled = b.send(&lock, acquire(1, Wait::Forever)).await;
    let cancel = b
        .send(&lock, ObjectRequest::Cancel { request: cancelled })
        .await;
    assert_eq!(b.now(cancelled), Err(ManagerError::Cancelled));
    assert_eq!(b.now(cancel), TRUE);
    assert_eq!(b.call(&lock, PARKED).await, count(0));
    assert_eq!(a.call(&lock, release(1)).await, DONE);
    b.nothing();
    assert_eq!(a.call(&lock, DEPTH).await, count(0));
}

/// The grant is a hand-off: when it cannot be delivered, the lock is
/// released for the connection it was for, and goes to the next.
#[actix::test]
async fn an_undelivered_grant_is_given_back_and_handed_on() {
    let (lock, _, _) = host(true);
    let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
    assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, TRUE);
    b.send(&lock, acquire(1, Wait::Forever)).await;
    let c_id = c.send(&lock, acquire(1, Wait::Forever)).await;
    assert_eq!(a.call(&lock, release(1)).await, DONE);
    // b has its grant, unread, when its connection goes.
    drop(b);
    let granted = c.next().await;
    assert_eq!((granted.id, granted.result), (c_id, TRUE));
    assert_eq!(c.call(&lock, DEPTH).await, count(1));
}

fn give_back(owner: u64, holds: u64, wait: RequestId) -> ObjectRequest {
    ObjectRequest::Condition(ConditionRequest::GiveBack {
        owner: Owner(owner),
        holds,
        pass_on_notify: false,
        wait,
    })
}

/// A give-back takes only the grant it names, by its connection and
/// request, while the holder holds the lock through it: at most the holds
/// that grant restored, a release since using them up first, and only
/// once. A grant that passes something on, of a holder whose connection
/// closed, is given back once more with no holds, to pass that on.
#[actix::test]
async fn a_give_back_takes_only_the_grant_it_names() {
    let (lock, lost, actor) = host(true);
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, TRUE);
    // b's owner 2 queues to take back 3 holds: not granted yet.
    let b_queued = b.send(&lock, requeue(2, Wait::Forever)).await;
    assert_eq!(b.call(&lock, give_back(2, 3, b_queued)).await, count(0));
    // a's own acquire is no grant to give back.
    let a_acquire = a.send(&lock, acquire(1, Wait::No)).await;
    assert_eq!(a.now(a_acquire), TRUE);
    assert_eq!(a.call(&lock, give_back(1, 1, a_acquire)).await, count(0));
    assert_eq!(a.call(&lock, release_completely(1)).await, count(2));
    let granted = b.next().await;
    assert_eq!((granted.id, granted.result), (b_queued, FALSE));
    // An acquire, two releases (the second uses up one of the grant's
    // holds), an acquire: 3 held, 2 of them the grant's.
    assert_eq!(b.call(&lock, acquire(2, Wait::No)).await, TRUE);
    assert_eq!(b.call(&lock, release(2)).await, DONE);
    assert_eq!(b.call(&lock, release(2)).await, DONE);
    assert_eq!(b.call(&lock, acquire(2, Wait::No)).await, TRUE);
    assert_eq!(b.call(&lock, DEPTH).await, count(3));
    // Another request, or the same id on another connection: nothing.
    assert_eq!(
        b.call(&lock, give_back(2, 3, RequestId(999))).await,
        count(0)
    );
    assert_eq!(a.call(&lock, give_back(2, 3, b_queued)).await, count(0));
    assert_eq!(*lost.lock().unwrap(), 0);
    assert_eq!(b.call(&lock, give_back(2, 5, b_queued)).await, count(2));
    assert_eq!(b.call(&lock, DEPTH).await, count(1));
    assert_eq!(*lost.lock().unwrap(), 1, "it passes on what it carried");
    // Once only.
    assert_eq!(b.call(&lock, give_back(2, 5, b_queued)).await, count(0));
    assert_eq!(b.call(&lock, DEPTH).await, count(1));
    assert_eq!(b.call(&lock, release(2)).await, DONE);
    // Granted at once, then b's connection closes: the close releases
    // the holds, and the give-back of the grant passes on, once.
    let again = b.send(&lock, requeue(2, Wait::Forever)).await;
    assert_eq!(b.now(again), FALSE);
    actor
        .send(crate::object::ConnectionClosed(ConnectionId(2)))
        .await
        .unwrap();
    assert_eq!(a.call(&lock, DEPTH).await, count(0));
    for _ in 0..2 {
        assert_eq!(b.call(&lock, give_back(2, 3, again)).await, count(0));
    }
    assert_eq!(*lost.lock().unwrap(), 2);
    assert_eq!(a.call(&lock, PARKED).await, count(0));
}

#[actix::test]
async fn removal_answers_the_parked_acquires_with_gone() {
    let (lock, _, actor) = host(false);
    let (mut a, mut b) = (Conn::new(1), Conn::new(2));
    assert_eq!(a.call(&lock, acquire(1, Wait::No)).await, TRUE);
    let parked = b.send(&lock, acquire(1, Wait::Forever)).await;
    b.nothing();
    actor.send(crate::object::StopObject).await.unwrap();
    let gone = b.now(parked);
    assert!(matches!(gone, Err(ManagerError::ObjectGone { .. })));
}
