//! [`SemaphoreState`]: a counting semaphore, bounded or not, like Python's
//! `Manager().Semaphore()` and `Manager().BoundedSemaphore()`.
//!
//! An acquire takes one unit or, when there is none, is parked; parked
//! acquires get units in arrival order as releases bring them. Any
//! connection may release, as in Python.
//!
//! # Bounds
//!
//! A bounded semaphore's initial value is also its bound: a release that
//! would take the value past it fails with
//! [`ManagerError::TooManyReleases`] and changes nothing.
//!
//! # What happens when a holder dies
//!
//! The semaphore counts the units each connection has acquired and not yet
//! released. When a connection closes, its parked acquires are dropped and
//! the units it still holds come back (a bounded semaphore's never past its
//! bound), going at once to whoever waits. A release is counted against the
//! releasing connection's own units; a connection that releases units
//! another one acquired does not lower that other connection's count.

use std::collections::HashMap;

use manager_core::ManagerError;
use manager_core::reply::Reply;
use manager_core::request::{ObjectRequest, SemaphoreRequest, Wait};

use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
use crate::waiters::{WaiterId, Waiters};

/// The state of one semaphore or bounded semaphore.
#[derive(Debug)]
pub struct SemaphoreState {
    /// Units available now.
    value: u64,
    /// The most units a bounded semaphore may have.
    bound: Option<u64>,
    /// Units each connection acquired and has not released.
    held: HashMap<ConnectionId, u64>,
    /// Parked acquires.
    waiters: Waiters<()>,
}

impl SemaphoreState {
    /// A semaphore with `value` units; `bounded` makes `value` its bound too.
    pub fn new(value: u64, bounded: bool) -> Self {
        SemaphoreState {
            value,
            bound: bounded.then_some(value),
            held: HashMap::new(),
            waiters: Waiters::default(),
        }
    }

    /// Hands one unit to `caller`.
    fn grant(&mut self, caller: Caller) {
        self.value -= 1;
        *self.held.entry(caller.connection).or_default() += 1;
        caller.reply(Ok(Reply::Bool(true)));
    }

    /// Gives `n` units back for `connection`, or says why not.
    fn release(
        &mut self,
        connection: ConnectionId,
        n: u64,
        what: String,
    ) -> Result<(), ManagerError> {
        let value = self.value.checked_add(n);
        match (value, self.bound) {
            (Some(value), Some(bound)) if value <= bound => self.value = value,
            (Some(value), None) => self.value = value,
            (_, Some(bound)) => {
                return Err(ManagerError::TooManyReleases {
                    what,
                    detail: format!("released past its bound of {bound}"),
                });
            }
            (None, None) => {
                return Err(ManagerError::TooManyReleases {
                    what,
                    detail: format!("releasing {n} more units overflows u64"),
                });
            }
        }
        if let Some(held) = self.held.get_mut(&connection) {
            *held = held.saturating_sub(n);
            if *held == 0 {
                self.held.remove(&connection);
            }
        }
        Ok(())
    }

    /// Hands units to parked acquires, longest-waiting first, while there
    /// are units.
    fn serve(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        while self.value > 0 {
            match self.waiters.pop_front(ctx) {
                Some(waiter) => self.grant(waiter.caller),
                None => break,
            }
        }
    }
}

impl ObjectState for SemaphoreState {
    fn handle(
        &mut self,
        request: ObjectRequest,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        let request = match request {
            ObjectRequest::Semaphore(request) => request,
            other => return caller.reply(Err(ctx.wrong_kind(&other))),
        };
        match request {
            // Parked acquires are served whenever units come, so a unit
            // available now has nobody waiting ahead for it.
            SemaphoreRequest::Acquire { .. } if self.value > 0 => self.grant(caller),
            SemaphoreRequest::Acquire { wait: Wait::No } => {
                caller.reply(Ok(Reply::Bool(false)));
            }
            SemaphoreRequest::Acquire { wait } => {
                self.waiters.park(caller, (), wait, ctx);
            }
            SemaphoreRequest::Release { n } => {
                let result = self.release(caller.connection, n, ctx.what());
                caller.reply(result.map(|()| Reply::Done));
                self.serve(ctx);
            }
            SemaphoreRequest::Value => caller.reply(Ok(Reply::Count(self.value))),
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        if let Some(waiter) = self.waiters.take(waiter, ctx) {
            waiter.caller.reply(Ok(Reply::Bool(false)));
        }
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        // Nobody is left to read these acquires' replies.
        drop(self.waiters.remove_connection(connection, ctx));
        let Some(units) = self.held.remove(&connection) else {
            return;
        };
        let value = self.value.saturating_add(units);
        self.value = match self.bound {
            Some(bound) => value.min(bound),
            None => value,
        };
        tracing::debug!(
            semaphore = %ctx.what(),
            %connection,
            units,
            "holder's connection closed; its units came back"
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

    use super::super::lock::harness::{Conn, Harness};
    use super::*;

    fn acquire(wait: Wait) -> ObjectRequest {
        ObjectRequest::Semaphore(SemaphoreRequest::Acquire { wait })
    }

    fn release(n: u64) -> ObjectRequest {
        ObjectRequest::Semaphore(SemaphoreRequest::Release { n })
    }

    const VALUE: ObjectRequest = ObjectRequest::Semaphore(SemaphoreRequest::Value);

    #[actix::test]
    async fn units_limit_holders_and_waiters_are_served_in_order() {
        let h = Harness::new();
        let sem = h.object("s", ObjectSpec::Semaphore { value: 2 }).await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(2)));
        for _ in 0..2 {
            assert_eq!(
                a.call(&sem, acquire(Wait::Forever)).await,
                Ok(Reply::Bool(true))
            );
        }
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(0)));
        assert_eq!(
            b.call(&sem, acquire(Wait::No)).await,
            Ok(Reply::Bool(false))
        );
        let b_id = b.send(&sem, acquire(Wait::Forever)).await;
        let c_id = c.send(&sem, acquire(Wait::Forever)).await;
        assert!(b.ready().is_none() && c.ready().is_none());

        assert_eq!(a.call(&sem, release(1)).await, Ok(Reply::Done));
        let granted = b.next().await;
        assert_eq!((granted.id, granted.result), (b_id, Ok(Reply::Bool(true))));
        assert!(c.ready().is_none());

        // An unbounded semaphore takes releases past its initial value.
        assert_eq!(a.call(&sem, release(3)).await, Ok(Reply::Done));
        let granted = c.next().await;
        assert_eq!((granted.id, granted.result), (c_id, Ok(Reply::Bool(true))));
        assert_eq!(a.call(&sem, VALUE).await, Ok(Reply::Count(2)));
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
    async fn a_closed_connections_units_come_back_to_waiters() {
        let h = Harness::new();
        let sem = h
            .object("b", ObjectSpec::BoundedSemaphore { value: 2 })
            .await;
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        a.call(&sem, acquire(Wait::Forever)).await.unwrap();
        a.call(&sem, acquire(Wait::Forever)).await.unwrap();
        b.send(&sem, acquire(Wait::Forever)).await;
        let c_id = c.send(&sem, acquire(Wait::Forever)).await;
        b.close(&[&sem]).await;
        a.close(&[&sem]).await;
        // b's acquire is dropped, so c gets one unit and one stays free.
        let granted = c.next().await;
        assert_eq!((granted.id, granted.result), (c_id, Ok(Reply::Bool(true))));
        assert_eq!(c.call(&sem, VALUE).await, Ok(Reply::Count(1)));
        assert_eq!(c.call(&sem, release(1)).await, Ok(Reply::Done));
        assert_eq!(c.call(&sem, VALUE).await, Ok(Reply::Count(2)));
    }

    #[actix::test]
    async fn returned_units_never_pass_the_bound() {
        let h = Harness::new();
        let sem = h
            .object("b", ObjectSpec::BoundedSemaphore { value: 1 })
            .await;
        let (mut a, mut b) = (Conn::new(1), Conn::new(2));
        a.call(&sem, acquire(Wait::Forever)).await.unwrap();
        // b releases the unit a acquired; a's count is still 1.
        assert_eq!(b.call(&sem, release(1)).await, Ok(Reply::Done));
        a.close(&[&sem]).await;
        assert_eq!(b.call(&sem, VALUE).await, Ok(Reply::Count(1)));
    }

    #[actix::test]
    async fn a_timed_acquire_ends_false() {
        let h = Harness::new();
        let sem = h.object("s", ObjectSpec::Semaphore { value: 0 }).await;
        let (mut a, mut b) = (Conn::new(1), Conn::new(2));
        let a_id = a
            .send(&sem, acquire(Wait::For(Duration::from_millis(20))))
            .await;
        let b_id = b.send(&sem, acquire(Wait::Forever)).await;
        let timed_out = a.next().await;
        assert_eq!(
            (timed_out.id, timed_out.result),
            (a_id, Ok(Reply::Bool(false)))
        );
        assert_eq!(a.call(&sem, release(1)).await, Ok(Reply::Done));
        let granted = b.next().await;
        assert_eq!((granted.id, granted.result), (b_id, Ok(Reply::Bool(true))));
    }

    #[actix::test]
    async fn removal_answers_waiters_with_gone() {
        let h = Harness::new();
        let sem = h.object("s", ObjectSpec::Semaphore { value: 0 }).await;
        let mut a = Conn::new(1);
        a.send(&sem, acquire(Wait::Forever)).await;
        h.remove("s").await;
        assert!(matches!(
            a.next().await.result,
            Err(ManagerError::ObjectGone { .. })
        ));
    }
}
