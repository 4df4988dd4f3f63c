//! [`LockState`]: a lock or re-entrant lock held by an owner, like Python's
//! `Manager().Lock()` and `Manager().RLock()`.
//!
//! The holder is a connection plus the [`Owner`] (thread or task) the client
//! named. An acquire of a held lock is parked, never blocking the object, and
//! waiters get the lock in arrival order. Holding, waiting and releasing are
//! an [`OwnedLock`]'s; a lock is nothing more.
//!
//! # Who may release
//!
//! A re-entrant lock is released only by its holder, once per acquire; any
//! other owner gets [`ManagerError::NotHeld`]. A plain lock, like Python's
//! `threading.Lock`, may be released by another thread or task than the one
//! that took it, but only one of the holding process: any owner on the
//! holding connection. Another connection, or anyone while nobody holds it,
//! gets [`ManagerError::NotHeld`]. (Python also lets another process release
//! it; here that would race with release-on-death: the holder dies, its lock
//! goes to the next waiter, and a release meant for the dead holder's lock
//! would free the new holder's.) A plain lock is not re-entrant: its holder
//! acquiring it again waits like anyone else (and deadlocks itself without a
//! timeout, as in Python).
//!
//! # What happens when a holder dies
//!
//! When the holder's connection closes (the process returned, panicked or was
//! killed with SIGKILL), the lock is released completely, however many times
//! it was taken, and handed to the next waiter. Python's manager keeps such a
//! lock held forever and every other process deadlocks; this one does not.

use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::request::{LockRequest, RequestId};
use manager_core::ManagerError;
#[cfg(doc)]
use manager_core::request::Owner;

use super::owned_lock::OwnedLock;
use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
use crate::waiters::WaiterId;

/// The state of one lock or re-entrant lock.
#[derive(Debug)]
pub struct LockState {
    lock: OwnedLock,
}

impl LockState {
    /// An unheld lock; `reentrant` makes it an `RLock`.
    pub fn new(reentrant: bool) -> Self {
        LockState {
            lock: OwnedLock::new(reentrant),
        }
    }
}

/// The state of a new lock (`ObjectSpec::Lock`).
pub(super) fn lock(_: &super::Making<'_>) -> Result<LockState, ManagerError> {
    Ok(LockState::new(false))
}

/// The state of a new re-entrant lock (`ObjectSpec::RLock`).
pub(super) fn rlock(_: &super::Making<'_>) -> Result<LockState, ManagerError> {
    Ok(LockState::new(true))
}

impl ObjectState for LockState {
    type Request = LockRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Lock {
                depth: self.lock.depth(),
            },
            waiters: self.lock.parked() as u64,
            bytes_held: 0,
            holders: self.lock.holders(),
        }
    }

    fn handle(&mut self, request: LockRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        match request {
            LockRequest::Acquire { owner, wait } => self.lock.acquire(owner, wait, caller, ctx),
            LockRequest::Release { owner } => {
                // A lock's acquires carry nothing to pass on.
                self.lock.release(owner, caller, ctx);
            }
            LockRequest::IsLocked => caller.reply(Ok(Reply::Bool(self.lock.is_locked()))),
            LockRequest::NWaiting => {
                caller.reply(Ok(Reply::Count(self.lock.parked() as u64)));
            }
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        self.lock.timed_out(waiter, ctx);
    }

    fn cancel(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> bool {
        self.lock.cancel(connection, request, ctx).is_some()
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        self.lock.connection_closed(connection, ctx);
    }

    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        self.lock.removed(ctx);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use manager_core::ObjectSpec;

    use manager_core::ManagerError;
    use manager_core::request::{Owner, Wait};

    use super::*;
    use crate::objects::testing::{Conn, Harness};
    use manager_core::request::ObjectRequest;

    fn acquire(owner: u64, wait: Wait) -> ObjectRequest {
        ObjectRequest::Lock(LockRequest::Acquire {
            owner: Owner(owner),
            wait,
        })
    }

    fn release(owner: u64) -> ObjectRequest {
        ObjectRequest::Lock(LockRequest::Release {
            owner: Owner(owner),
        })
    }

    const LOCKED: ObjectRequest = ObjectRequest::Lock(LockRequest::IsLocked);
    const N_WAITING: ObjectRequest = ObjectRequest::Lock(LockRequest::NWaiting);

    #[actix::test]
    async fn waiters_get_a_plain_lock_in_arrival_order() {
        let h = Harness::new();
        let lock = h.object("l", ObjectSpec::Lock).await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        assert_eq!(a.call(&lock, LOCKED).await, Ok(Reply::Bool(false)));
        assert_eq!(
            a.call(&lock, acquire(1, Wait::Forever)).await,
            Ok(Reply::Bool(true))
        );
        assert_eq!(a.call(&lock, LOCKED).await, Ok(Reply::Bool(true)));
        assert_eq!(
            b.call(&lock, acquire(1, Wait::No)).await,
            Ok(Reply::Bool(false))
        );
        let b_id = b.send(&lock, acquire(1, Wait::Forever)).await;
        let c_id = c.send(&lock, acquire(1, Wait::Forever)).await;
        assert!(b.ready().is_none() && c.ready().is_none(), "both parked");

        assert_eq!(a.call(&lock, release(1)).await, Ok(Reply::Done));
        let granted = b.next().await;
        assert_eq!((granted.id, granted.result), (b_id, Ok(Reply::Bool(true))));
        assert!(c.ready().is_none(), "c still waits");

        // A plain lock: another owner of the holding connection may release
        // it; no owner of another connection may.
        assert_eq!(a.call(&lock, N_WAITING).await, Ok(Reply::Count(1)));
        for owner in [1, 7] {
            assert!(matches!(
                a.call(&lock, release(owner)).await,
                Err(ManagerError::NotHeld { what }) if what == "lock `l`"
            ));
        }
        assert!(c.ready().is_none(), "c still waits");
        assert_eq!(b.call(&lock, release(7)).await, Ok(Reply::Done));
        let granted = c.next().await;
        assert_eq!((granted.id, granted.result), (c_id, Ok(Reply::Bool(true))));
        assert_eq!(c.call(&lock, release(1)).await, Ok(Reply::Done));
        assert!(matches!(
            c.call(&lock, release(1)).await,
            Err(ManagerError::NotHeld { what }) if what == "lock `l`"
        ));
    }

    #[actix::test]
    async fn a_plain_lock_is_not_reentrant() {
        let h = Harness::new();
        let lock = h.object("l", ObjectSpec::Lock).await;
        let mut a = Conn::new(1);
        assert_eq!(
            a.call(&lock, acquire(1, Wait::Forever)).await,
            Ok(Reply::Bool(true))
        );
        assert_eq!(
            a.call(&lock, acquire(1, Wait::No)).await,
            Ok(Reply::Bool(false))
        );
    }

    #[actix::test]
    async fn an_rlock_counts_its_holders_acquires() {
        let h = Harness::new();
        let lock = h.object("r", ObjectSpec::RLock).await;
        let (mut a, mut b) = (Conn::new(1), Conn::new(2));
        for _ in 0..2 {
            assert_eq!(
                a.call(&lock, acquire(1, Wait::Forever)).await,
                Ok(Reply::Bool(true))
            );
        }
        // Another owner, on the same connection or another, waits.
        assert_eq!(
            a.call(&lock, acquire(2, Wait::No)).await,
            Ok(Reply::Bool(false))
        );
        let b_id = b.send(&lock, acquire(1, Wait::Forever)).await;
        // Only the holder may release.
        for (conn, owner) in [(&mut a, 2), (&mut b, 1)] {
            assert!(matches!(
                conn.call(&lock, release(owner)).await,
                Err(ManagerError::NotHeld { .. })
            ));
        }
        assert_eq!(a.call(&lock, release(1)).await, Ok(Reply::Done));
        assert!(b.ready().is_none(), "held once more");
        assert_eq!(a.call(&lock, release(1)).await, Ok(Reply::Done));
        let granted = b.next().await;
        assert_eq!((granted.id, granted.result), (b_id, Ok(Reply::Bool(true))));
        assert!(matches!(
            a.call(&lock, release(1)).await,
            Err(ManagerError::NotHeld { what }) if what == "rlock `r`"
        ));
    }

    #[actix::test]
    async fn a_timed_acquire_ends_false_and_leaves_the_queue() {
        let h = Harness::new();
        let lock = h.object("l", ObjectSpec::Lock).await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        a.call(&lock, acquire(1, Wait::Forever)).await.unwrap();
        let b_id = b
            .send(&lock, acquire(1, Wait::For(Duration::from_millis(20))))
            .await;
        let c_id = c.send(&lock, acquire(1, Wait::Forever)).await;
        let timed_out = b.next().await;
        assert_eq!(
            (timed_out.id, timed_out.result),
            (b_id, Ok(Reply::Bool(false)))
        );
        a.call(&lock, release(1)).await.unwrap();
        let granted = c.next().await;
        assert_eq!((granted.id, granted.result), (c_id, Ok(Reply::Bool(true))));
        assert!(
            b.ready().is_none(),
            "the timed-out acquire got nothing more"
        );
    }

    #[actix::test]
    async fn a_closed_holders_lock_goes_to_the_next_live_waiter() {
        let h = Harness::new();
        let lock = h.object("r", ObjectSpec::RLock).await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        for _ in 0..3 {
            a.call(&lock, acquire(1, Wait::Forever)).await.unwrap();
        }
        b.send(&lock, acquire(1, Wait::Forever)).await;
        let c_id = c.send(&lock, acquire(1, Wait::Forever)).await;
        // b dies waiting, then a dies holding the lock three times over.
        b.close(&[&lock]).await;
        a.close(&[&lock]).await;
        let granted = c.next().await;
        assert_eq!((granted.id, granted.result), (c_id, Ok(Reply::Bool(true))));
        assert_eq!(c.call(&lock, release(1)).await, Ok(Reply::Done));
        assert_eq!(c.call(&lock, LOCKED).await, Ok(Reply::Bool(false)));
    }

    /// A process that meant to release a plain lock for its holder must
    /// not free it for whoever got it after the holder died.
    #[actix::test]
    async fn a_release_from_another_connection_cannot_free_the_next_holder() {
        let h = Harness::new();
        let lock = h.object("l", ObjectSpec::Lock).await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        a.call(&lock, acquire(1, Wait::Forever)).await.unwrap();
        let c_id = c.send(&lock, acquire(1, Wait::Forever)).await;
        assert_eq!(b.call(&lock, N_WAITING).await, Ok(Reply::Count(1)));
        a.close(&[&lock]).await;
        let granted = c.next().await;
        assert_eq!((granted.id, granted.result), (c_id, Ok(Reply::Bool(true))));
        assert_eq!(b.call(&lock, N_WAITING).await, Ok(Reply::Count(0)));
        assert!(matches!(
            b.call(&lock, release(1)).await,
            Err(ManagerError::NotHeld { .. })
        ));
        assert_eq!(
            b.call(&lock, LOCKED).await,
            Ok(Reply::Bool(true)),
            "c holds it"
        );
        // Another thread of c's process releases it.
        assert_eq!(c.call(&lock, release(2)).await, Ok(Reply::Done));
        assert_eq!(b.call(&lock, LOCKED).await, Ok(Reply::Bool(false)));
    }

    #[actix::test]
    async fn a_waiter_whose_connection_is_gone_is_skipped() {
        let h = Harness::new();
        let lock = h.object("l", ObjectSpec::Lock).await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        a.call(&lock, acquire(1, Wait::Forever)).await.unwrap();
        b.send(&lock, acquire(1, Wait::Forever)).await;
        let c_id = c.send(&lock, acquire(1, Wait::Forever)).await;
        // b's connection is gone but the object has not been told yet.
        drop(b);
        a.call(&lock, release(1)).await.unwrap();
        let granted = c.next().await;
        assert_eq!((granted.id, granted.result), (c_id, Ok(Reply::Bool(true))));
    }

    #[actix::test]
    async fn removal_answers_waiters_with_gone() {
        let h = Harness::new();
        let lock = h.object("l", ObjectSpec::Lock).await;
        let (mut a, mut b) = (Conn::new(1), Conn::new(2));
        a.call(&lock, acquire(1, Wait::Forever)).await.unwrap();
        let b_id = b.send(&lock, acquire(1, Wait::Forever)).await;
        h.remove("l").await;
        let gone = b.next().await;
        assert_eq!(gone.id, b_id);
        assert!(matches!(gone.result, Err(ManagerError::ObjectGone { .. })));
    }

    #[actix::test]
    async fn other_families_are_wrong_kind() {
        let h = Harness::new();
        let lock = h.object("l", ObjectSpec::Lock).await;
        let mut a = Conn::new(1);
        let op = ObjectRequest::Semaphore(manager_core::request::SemaphoreRequest::Value);
        assert!(matches!(
            a.call(&lock, op).await,
            Err(ManagerError::WrongKind { requested, .. }) if requested == "semaphore"
        ));
    }

    #[actix::test]
    async fn inspect_reports_each_kind() {
        use manager_core::inspect::{Holding, KindDetail};
        use manager_core::request::{
            DictRequest, LockRequest, ObjectRequest, Owner, QueueRequest, SemaphoreRequest, Wait,
        };
        use manager_core::{Encoded, ObjectKind};

        let harness = Harness::new();
        let queue = harness
            .object("jobs", ObjectSpec::JoinableQueue { maxsize: Some(10) })
            .await;
        let dict = harness.object("table", ObjectSpec::Dict).await;
        let lock = harness.object("mutex", ObjectSpec::RLock).await;
        let semaphore = harness
            .object("slots", ObjectSpec::BoundedSemaphore { value: 3 })
            .await;
        let mut one = Conn::new(1);
        let mut two = Conn::new(2);
        let item = Encoded::encode(&7_u64).unwrap();
        for _ in 0..4 {
            let put = QueueRequest::Put {
                value: item.clone(),
                wait: Wait::No,
            };
            one.call(&queue, ObjectRequest::Queue(put)).await.unwrap();
        }
        let items = (0..5_u32)
            .map(|k| (Encoded::encode(&k).unwrap(), item.clone()))
            .collect();
        one.call(&dict, ObjectRequest::Dict(DictRequest::Update { items }))
            .await
            .unwrap();
        let acquire = |owner| {
            ObjectRequest::Lock(LockRequest::Acquire {
                owner: Owner(owner),
                wait: Wait::Forever,
            })
        };
        one.call(&lock, acquire(9)).await.unwrap();
        one.call(&lock, acquire(9)).await.unwrap();
        two.send(&lock, acquire(1)).await;
        let owned = SemaphoreRequest::AcquireOwned {
            owner: Owner(4),
            wait: Wait::No,
        };
        two.call(&semaphore, ObjectRequest::Semaphore(owned))
            .await
            .unwrap();

        let reports = harness.inspect().await;
        let names: Vec<_> = reports.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["jobs", "mutex", "slots", "table"], "sorted by name");
        let by_name = |n: &str| reports.iter().find(|r| r.name.as_str() == n).unwrap();

        let jobs = by_name("jobs");
        assert_eq!(jobs.kind, ObjectKind::JoinableQueue);
        assert_eq!((jobs.messages_handled, jobs.mailbox), (4, 0));
        assert!(jobs.last_operation.is_some_and(|t| t >= jobs.created_at));
        let detail = jobs.detail.as_ref().unwrap();
        assert_eq!(
            detail.size,
            KindDetail::Queue {
                len: 4,
                maxsize: Some(10),
                unfinished: Some(4),
                in_flight: 0,
            }
        );
        assert_eq!(detail.bytes_held, 4 * item.heap_size() as u64);

        let table = by_name("table").detail.clone().unwrap();
        assert_eq!(table.size, KindDetail::Items { len: 5 });
        assert!(table.bytes_held > 5 * item.heap_size() as u64);

        let mutex = by_name("mutex").detail.clone().unwrap();
        assert_eq!(mutex.size, KindDetail::Lock { depth: 2 });
        assert_eq!(mutex.waiters, 1);
        assert_eq!(
            mutex.holders,
            [Holding {
                connection: 1,
                owner: 9,
                count: 2
            }]
        );

        let slots = by_name("slots").detail.clone().unwrap();
        assert_eq!(
            slots.size,
            KindDetail::Semaphore {
                value: 2,
                bound: Some(3),
                owned: 1
            }
        );
        assert_eq!(
            slots.holders,
            [Holding {
                connection: 2,
                owner: 4,
                count: 1
            }]
        );
        two.close(&[&lock, &semaphore]).await;
        let reports = harness.inspect().await;
        let slots = reports.iter().find(|r| r.name.as_str() == "slots").unwrap();
        assert!(slots.detail.as_ref().unwrap().holders.is_empty());
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{LockRequest, Owner, Wait};
        use manager_core::ObjectSpec;

        use crate::objects::testing::{Conn, Harness, ask};

        let (_h, lock) = Harness::start(ObjectSpec::RLock).await;
        let c = &mut Conn::new(1);
        let me = Owner(1);
        assert!(ask(c, &lock, LockRequest::acquire(me, Wait::No)).await);
        ask(c, &lock, LockRequest::is_locked()).await;
        ask(c, &lock, LockRequest::n_waiting()).await;
        ask(c, &lock, LockRequest::release(me)).await;
    }
}
