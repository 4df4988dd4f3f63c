//! [`SemaphoreState`]: a counting semaphore, bounded or not, like Python's
//! `Manager().Semaphore()` and `Manager().BoundedSemaphore()`.
//!
//! An acquire takes one unit or, when there is none, is parked; parked
//! acquires get units in arrival order as releases bring them.
//!
//! # Plain and owned units
//!
//! A plain unit ([`SemaphoreRequest::Acquire`]) is only counted, as in
//! Python: any connection may release units ([`SemaphoreRequest::Release`]),
//! so one process can signal another through a semaphore of 0, and nobody
//! keeps track of who took what. An owned unit
//! ([`SemaphoreRequest::AcquireOwned`], what a proxy's guard takes) is held
//! by an owner of one connection, and only that owner gives it back
//! ([`SemaphoreRequest::ReleaseOwned`]). A plain release never gives back
//! an owned unit.
//!
//! # Bounds
//!
//! A bounded semaphore's initial value is also its bound. The units
//! available plus the owned units out never pass it: a plain release that
//! would take them past it fails with [`ManagerError::TooManyReleases`] and
//! changes nothing. Giving back an owned unit moves it from "out" to
//! "available", so it never passes the bound.
//!
//! # What happens when a holder dies
//!
//! When a connection closes, its parked acquires are dropped and the owned
//! units its owners still hold come back, going at once to whoever waits.
//! Its plain units do not come back: the manager cannot tell them from
//! units another process already released on its behalf (a hand-off), and
//! giving them back would create units nobody released.

use std::collections::HashMap;

use manager_core::ManagerError;
use manager_core::inspect::{Holding, KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::request::{Owner, RequestId, SemaphoreRequest, Wait};

use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
use crate::waiters::{WaiterId, Waiters};

/// The state of one semaphore or bounded semaphore.
#[derive(Debug)]
pub struct SemaphoreState {
    /// Units available now.
    value: u64,
    /// The most units a bounded semaphore may have, available and owned.
    bound: Option<u64>,
    /// Owned units each owner of each connection holds; never 0.
    owned: HashMap<(ConnectionId, Owner), u64>,
    /// The sum of `owned`.
    owned_total: u64,
    /// Parked acquires, with the owner of an owned one.
    waiters: Waiters<Option<Owner>>,
}

impl SemaphoreState {
    /// A semaphore with `value` units; `bounded` makes `value` its bound too.
    pub fn new(value: u64, bounded: bool) -> Self {
        SemaphoreState {
            value,
            bound: bounded.then_some(value),
            owned: HashMap::new(),
            owned_total: 0,
            waiters: Waiters::default(),
        }
    }

    /// Hands one unit to `caller`, owned by `owner` if there is one.
    fn grant(&mut self, caller: Caller, owner: Option<Owner>) {
        self.value -= 1;
        if let Some(owner) = owner {
            *self.owned.entry((caller.connection, owner)).or_default() += 1;
            self.owned_total += 1;
        }
        caller.reply(Ok(Reply::Bool(true)));
    }

    fn acquire(
        &mut self,
        owner: Option<Owner>,
        wait: Wait,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        if self.value > 0 {
            // Parked acquires are served whenever units come, so a unit
            // available now has nobody waiting ahead for it.
            self.grant(caller, owner);
        } else if wait == Wait::No {
            caller.reply(Ok(Reply::Bool(false)));
        } else {
            self.waiters.park(caller, owner, wait, ctx);
        }
    }

    /// Gives back `n` plain units, or says why not (and changes nothing).
    fn release(&mut self, n: u64, what: String) -> Result<(), ManagerError> {
        let Some(value) = self.value.checked_add(n) else {
            return Err(ManagerError::TooManyReleases {
                what,
                detail: format!("releasing {n} more units overflows u64"),
            });
        };
        if let Some(bound) = self.bound
            && value.saturating_add(self.owned_total) > bound
        {
            return Err(ManagerError::TooManyReleases {
                what,
                detail: format!("released past its bound of {bound}"),
            });
        }
        self.value = value;
        Ok(())
    }

    /// Gives back `n` units `owner` of `connection` owns, or says why not
    /// (and changes nothing).
    fn release_owned(
        &mut self,
        connection: ConnectionId,
        owner: Owner,
        n: u64,
        what: String,
    ) -> Result<(), ManagerError> {
        let key = (connection, owner);
        let held = self.owned.get(&key).copied().unwrap_or(0);
        if held < n {
            return Err(ManagerError::NotHeld { what });
        }
        if held == n {
            self.owned.remove(&key);
        } else {
            self.owned.insert(key, held - n);
        }
        self.owned_total -= n;
        // The owned units were counted out of `value`, which they return
        // to: no overflow, no bound passed.
        self.value += n;
        Ok(())
    }

    /// Hands units to parked acquires, longest-waiting first, while there
    /// are units.
    fn serve(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        while self.value > 0 {
            match self.waiters.pop_front(ctx) {
                Some(waiter) => self.grant(waiter.caller, waiter.data),
                None => break,
            }
        }
    }
}

/// The state of a new semaphore (`ObjectSpec::Semaphore`).
pub(super) fn semaphore(_: &super::Making<'_>, value: u64) -> Result<SemaphoreState, ManagerError> {
    Ok(SemaphoreState::new(value, false))
}

/// The state of a new bounded semaphore (`ObjectSpec::BoundedSemaphore`).
pub(super) fn bounded_semaphore(_: &super::Making<'_>, value: u64) -> Result<SemaphoreState, ManagerError> {
    Ok(SemaphoreState::new(value, true))
}

impl ObjectState for SemaphoreState {
    type Request = SemaphoreRequest;

    fn report(&self) -> ObjectDetail {
        let mut holders: Vec<Holding> = self
            .owned
            .iter()
            .map(|(&(connection, owner), &count)| Holding {
                connection: connection.0,
                owner: owner.0,
                count,
            })
            .collect();
        holders.sort_unstable();
        ObjectDetail {
            size: KindDetail::Semaphore {
                value: self.value,
                bound: self.bound,
                owned: self.owned_total,
            },
            waiters: self.waiters.len() as u64,
            bytes_held: 0,
            holders,
        }
    }

    fn handle(
        &mut self,
        request: SemaphoreRequest,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        match request {
            SemaphoreRequest::Acquire { wait } => self.acquire(None, wait, caller, ctx),
            SemaphoreRequest::AcquireOwned { owner, wait } => {
                self.acquire(Some(owner), wait, caller, ctx);
            }
            SemaphoreRequest::Release { n } => {
                let result = self.release(n, ctx.what());
                caller.reply(result.map(|()| Reply::Done));
                self.serve(ctx);
            }
            SemaphoreRequest::ReleaseOwned { owner, n } => {
                let result = self.release_owned(caller.connection, owner, n, ctx.what());
                caller.reply(result.map(|()| Reply::Done));
                self.serve(ctx);
            }
            SemaphoreRequest::Value => caller.reply(Ok(Reply::Count(self.value))),
            SemaphoreRequest::NWaiting => {
                caller.reply(Ok(Reply::Count(self.waiters.len() as u64)));
            }
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        if let Some(waiter) = self.waiters.take(waiter, ctx) {
            waiter.caller.reply(Ok(Reply::Bool(false)));
        }
    }

    fn cancel(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> bool {
        self.waiters.cancel(connection, request, ctx)
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        // Nobody is left to read these acquires' replies.
        self.waiters.drop_connection(connection, ctx);
        let mut units = 0;
        self.owned.retain(|(holder, _), held| {
            if *holder == connection {
                units += *held;
            }
            *holder != connection
        });
        if units == 0 {
            return;
        }
        self.owned_total -= units;
        // Owned units count against the bound while out, so this cannot
        // pass it; the cap only keeps that true should the books ever be
        // wrong.
        let value = self.value.saturating_add(units);
        self.value = match self.bound {
            Some(bound) => value.min(bound.saturating_sub(self.owned_total)),
            None => value,
        };
        tracing::debug!(
            semaphore = %ctx.what(),
            %connection,
            units,
            "holder's connection closed; its owned units came back"
        );
        self.serve(ctx);
    }

    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        for waiter in self.waiters.drain(ctx) {
            waiter.caller.reply(Err(ctx.gone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use manager_core::ObjectSpec;

    use super::*;
    use crate::objects::testing::{Conn, Harness};
    use manager_core::request::ObjectRequest;

    fn acquire(wait: Wait) -> ObjectRequest {
        ObjectRequest::Semaphore(SemaphoreRequest::Acquire { wait })
    }

    fn acquire_owned(owner: u64, wait: Wait) -> ObjectRequest {
        ObjectRequest::Semaphore(SemaphoreRequest::AcquireOwned {
            owner: Owner(owner),
            wait,
        })
    }

    fn release(n: u64) -> ObjectRequest {
        ObjectRequest::Semaphore(SemaphoreRequest::Release { n })
    }

    fn release_owned(owner: u64, n: u64) -> ObjectRequest {
        ObjectRequest::Semaphore(SemaphoreRequest::ReleaseOwned {
            owner: Owner(owner),
            n,
        })
    }

    const VALUE: ObjectRequest = ObjectRequest::Semaphore(SemaphoreRequest::Value);
    const N_WAITING: ObjectRequest = ObjectRequest::Semaphore(SemaphoreRequest::NWaiting);
    const T: Result<Reply, ManagerError> = Ok(Reply::Bool(true));

    #[actix::test]
    async fn units_limit_holders_and_waiters_are_served_in_order() {
        let h = Harness::new();
        let sem = h.object("s", ObjectSpec::Semaphore { value: 2 }).await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(2)));
        assert_eq!(a.call(&sem, acquire(Wait::Forever)).await, T);
        assert_eq!(a.call(&sem, acquire_owned(1, Wait::Forever)).await, T);
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(0)));
        assert_eq!(
            b.call(&sem, acquire(Wait::No)).await,
            Ok(Reply::Bool(false))
        );
        assert_eq!(a.call(&sem, N_WAITING).await, Ok(Reply::Count(0)));
        let b_id = b.send(&sem, acquire_owned(1, Wait::Forever)).await;
        let c_id = c.send(&sem, acquire(Wait::Forever)).await;
        assert!(b.ready().is_none() && c.ready().is_none());
        assert_eq!(a.call(&sem, N_WAITING).await, Ok(Reply::Count(2)));

        assert_eq!(a.call(&sem, release(1)).await, Ok(Reply::Done));
        let granted = b.next().await;
        assert_eq!((granted.id, granted.result), (b_id, T));
        assert!(c.ready().is_none());
        assert_eq!(a.call(&sem, N_WAITING).await, Ok(Reply::Count(1)));

        // An unbounded semaphore takes releases past its initial value.
        assert_eq!(a.call(&sem, release(3)).await, Ok(Reply::Done));
        let granted = c.next().await;
        assert_eq!((granted.id, granted.result), (c_id, T));
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(2)));
        assert_eq!(a.call(&sem, N_WAITING).await, Ok(Reply::Count(0)));
    }

    #[actix::test]
    async fn a_bounded_semaphore_refuses_releases_past_its_bound() {
        let h = Harness::new();
        let sem = h
            .object("b", ObjectSpec::BoundedSemaphore { value: 3 })
            .await;
        let mut a = Conn::new(1);
        a.call(&sem, acquire(Wait::Forever)).await.unwrap();
        a.call(&sem, acquire(Wait::Forever)).await.unwrap();
        match a.call(&sem, release(3)).await {
            Err(ManagerError::TooManyReleases { what, detail }) => {
                assert_eq!(what, "bounded semaphore `b`");
                assert_eq!(detail, "released past its bound of 3");
            }
            other => panic!("expected TooManyReleases, got {other:?}"),
        }
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(1)), "unchanged");
        assert_eq!(a.call(&sem, release(2)).await, Ok(Reply::Done));
        assert!(matches!(
            a.call(&sem, release(1)).await,
            Err(ManagerError::TooManyReleases { .. })
        ));
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(3)));
    }

    #[actix::test]
    async fn owned_units_count_against_the_bound() {
        let h = Harness::new();
        let sem = h
            .object("b", ObjectSpec::BoundedSemaphore { value: 2 })
            .await;
        let (mut a, mut b) = (Conn::new(1), Conn::new(2));
        assert_eq!(a.call(&sem, acquire_owned(1, Wait::Forever)).await, T);
        assert_eq!(b.call(&sem, acquire(Wait::Forever)).await, T);
        // b's plain unit may come back; a's owned unit is not b's to give.
        assert_eq!(b.call(&sem, release(1)).await, Ok(Reply::Done));
        assert!(matches!(
            b.call(&sem, release(1)).await,
            Err(ManagerError::TooManyReleases { .. })
        ));
        assert_eq!(b.call(&sem, VALUE).await, Ok(Reply::Count(1)));
        // Only a's owner 1 gives its unit back.
        for (conn, owner) in [(&mut a, 2), (&mut b, 1)] {
            assert!(matches!(
                conn.call(&sem, release_owned(owner, 1)).await,
                Err(ManagerError::NotHeld { what }) if what == "bounded semaphore `b`"
            ));
        }
        assert!(matches!(
            a.call(&sem, release_owned(1, 2)).await,
            Err(ManagerError::NotHeld { .. })
        ));
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(1)), "unchanged");
        assert_eq!(a.call(&sem, release_owned(1, 1)).await, Ok(Reply::Done));
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(2)));
        assert!(matches!(
            a.call(&sem, release_owned(1, 1)).await,
            Err(ManagerError::NotHeld { .. })
        ));
    }

    #[actix::test]
    async fn a_closed_connections_owned_units_come_back_to_waiters() {
        let h = Harness::new();
        let sem = h
            .object("b", ObjectSpec::BoundedSemaphore { value: 3 })
            .await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        // a holds two owned units (two owners) and a plain one.
        a.call(&sem, acquire_owned(1, Wait::Forever)).await.unwrap();
        a.call(&sem, acquire_owned(2, Wait::Forever)).await.unwrap();
        a.call(&sem, acquire(Wait::Forever)).await.unwrap();
        b.send(&sem, acquire_owned(1, Wait::Forever)).await;
        let c_id = c.send(&sem, acquire(Wait::Forever)).await;
        b.close(&[&sem]).await;
        assert_eq!(c.call(&sem, N_WAITING).await, Ok(Reply::Count(1)));
        a.close(&[&sem]).await;
        // b's acquire is dropped, so c gets one owned unit of a's and the
        // other stays free; a's plain unit does not come back.
        let granted = c.next().await;
        assert_eq!((granted.id, granted.result), (c_id, T));
        assert_eq!(c.call(&sem, VALUE).await, Ok(Reply::Count(1)));
        assert_eq!(c.call(&sem, N_WAITING).await, Ok(Reply::Count(0)));
        // Plain releases bring the plain units back, up to the bound.
        assert_eq!(c.call(&sem, release(2)).await, Ok(Reply::Done));
        assert_eq!(c.call(&sem, VALUE).await, Ok(Reply::Count(3)));
        assert!(matches!(
            c.call(&sem, release(1)).await,
            Err(ManagerError::TooManyReleases { .. })
        ));
    }

    /// A semaphore of 0 as a signal: b releases, a acquires, a's connection
    /// closes. The unit was b's release, consumed by a: none comes back.
    #[actix::test]
    async fn a_signal_consumed_by_a_closed_connection_does_not_come_back() {
        let h = Harness::new();
        let sem = h.object("sig", ObjectSpec::Semaphore { value: 0 }).await;
        let (mut a, mut b) = (Conn::new(1), Conn::new(2));
        assert_eq!(b.call(&sem, release(1)).await, Ok(Reply::Done));
        assert_eq!(a.call(&sem, acquire(Wait::Forever)).await, T);
        a.close(&[&sem]).await;
        assert_eq!(b.call(&sem, VALUE).await, Ok(Reply::Count(0)));
        assert_eq!(
            b.call(&sem, acquire(Wait::No)).await,
            Ok(Reply::Bool(false))
        );
    }

    /// A semaphore of 1 as a mutex handed across connections: a acquires,
    /// b releases for it and acquires. When a's connection closes, b still
    /// holds the only unit.
    #[actix::test]
    async fn a_handed_off_unit_does_not_come_back_twice() {
        for bounded in [false, true] {
            let h = Harness::new();
            let spec = if bounded {
                ObjectSpec::BoundedSemaphore { value: 1 }
            } else {
                ObjectSpec::Semaphore { value: 1 }
            };
            let sem = h.object("mutex", spec).await;
            let (mut a, mut b) = (Conn::new(1), Conn::new(2));
            assert_eq!(a.call(&sem, acquire(Wait::Forever)).await, T);
            assert_eq!(b.call(&sem, release(1)).await, Ok(Reply::Done));
            assert_eq!(b.call(&sem, acquire(Wait::Forever)).await, T);
            a.close(&[&sem]).await;
            assert_eq!(b.call(&sem, VALUE).await, Ok(Reply::Count(0)), "{bounded}");
            assert_eq!(b.call(&sem, release(1)).await, Ok(Reply::Done));
            assert_eq!(b.call(&sem, VALUE).await, Ok(Reply::Count(1)));
        }
    }

    #[actix::test]
    async fn a_timed_acquire_ends_false() {
        let h = Harness::new();
        let sem = h.object("s", ObjectSpec::Semaphore { value: 0 }).await;
        let (mut a, mut b) = (Conn::new(1), Conn::new(2));
        let a_id = a
            .send(&sem, acquire_owned(1, Wait::For(Duration::from_millis(20))))
            .await;
        let b_id = b.send(&sem, acquire(Wait::Forever)).await;
        let timed_out = a.next().await;
        assert_eq!(
            (timed_out.id, timed_out.result),
            (a_id, Ok(Reply::Bool(false)))
        );
        assert!(
            matches!(
                a.call(&sem, release_owned(1, 1)).await,
                Err(ManagerError::NotHeld { .. })
            ),
            "a timed-out owned acquire owns nothing"
        );
        assert_eq!(a.call(&sem, release(1)).await, Ok(Reply::Done));
        let granted = b.next().await;
        assert_eq!((granted.id, granted.result), (b_id, T));
    }

    #[actix::test]
    async fn removal_answers_waiters_with_gone() {
        let h = Harness::new();
        let sem = h.object("s", ObjectSpec::Semaphore { value: 0 }).await;
        let mut a = Conn::new(1);
        a.send(&sem, acquire(Wait::Forever)).await;
        a.send(&sem, acquire_owned(1, Wait::Forever)).await;
        h.remove("s").await;
        for _ in 0..2 {
            assert!(matches!(
                a.next().await.result,
                Err(ManagerError::ObjectGone { .. })
            ));
        }
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{Owner, SemaphoreRequest, Wait};
        use manager_core::ObjectSpec;

        use crate::objects::testing::{Conn, Harness, ask};

        let (_h, semaphore) = Harness::start(ObjectSpec::Semaphore { value: 2 }).await;
        let c = &mut Conn::new(1);
        let me = Owner(1);
        assert!(ask(c, &semaphore, SemaphoreRequest::acquire(Wait::No)).await);
        ask(c, &semaphore, SemaphoreRequest::release(1)).await;
        ask(c, &semaphore, SemaphoreRequest::acquire_owned(me, Wait::No)).await;
        ask(c, &semaphore, SemaphoreRequest::release_owned(me, 1)).await;
        assert_eq!(ask(c, &semaphore, SemaphoreRequest::value()).await, 2);
        ask(c, &semaphore, SemaphoreRequest::n_waiting()).await;
    }
}
