//! [`BarrierState`]: a barrier for a fixed number of parties, like Python's
//! `Manager().Barrier()`.
//!
//! Each `wait` parks until `parties` waits have arrived; the last arrival
//! releases them all and the barrier is ready for the next round. Each
//! released wait answers its arrival index, as Python's `threading.Barrier`
//! numbers them: 0 for the first to arrive up to `parties - 1` for the last
//! ([`BarrierRequest::Wait`]).
//!
//! # Breaking
//!
//! The barrier breaks when a parked wait's own timeout ends (a wait with
//! [`Wait::No`] that is not the last arrival breaks it at once), on `abort`,
//! and when a waiting party's connection closes. Every parked wait is then
//! answered with [`ManagerError::BrokenBarrier`], and so is every later wait
//! until a `reset`. `reset` answers the parked waits with `BrokenBarrier`
//! too, and makes the barrier usable again.
//!
//! # What happens when a worker dies
//!
//! If the dead worker was parked in `wait`, the barrier breaks: the other
//! parties learn at once that one of them is gone instead of waiting for an
//! arrival that will never come (Python's barrier would hang them until
//! their timeouts). The last arrival checks the parked parties' peers
//! first: one found gone breaks the barrier there and then, so the others
//! are not released with a dead party. A worker that dies while not
//! waiting changes nothing; one that dies after the release does not undo
//! it (it did arrive).
//!
//! # Removal
//!
//! Every parked wait is answered with [`ManagerError::ObjectGone`].

use manager_core::ManagerError;
use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::request::{BarrierRequest, Wait};

use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
use crate::waiters::{WaiterId, Waiters};

/// The state of one barrier.
#[derive(Debug)]
pub struct BarrierState {
    /// How many waits release each other.
    parties: u64,
    /// The parked waits of this round, each with its arrival index.
    waiters: Waiters<u64>,
    /// Whether it is broken (until a reset).
    broken: bool,
}

impl BarrierState {
    /// A barrier for `parties` waiters (at least 1: [`spawn`](super::spawn)
    /// refuses 0).
    pub fn new(parties: u64) -> Self {
        BarrierState {
            parties: parties.max(1),
            waiters: Waiters::default(),
            broken: false,
        }
    }

    fn broken_error(ctx: &ObjectContext<'_, Self>) -> ManagerError {
        ManagerError::BrokenBarrier { what: ctx.what() }
    }

    /// Breaks the barrier: every parked wait fails.
    fn break_it(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        self.broken = true;
        self.fail_parked(ctx);
    }

    fn fail_parked(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        for waiter in self.waiters.drain(ctx) {
            waiter.caller.reply(Err(Self::broken_error(ctx)));
        }
    }

    fn wait(&mut self, wait: Wait, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        if self.broken {
            return caller.reply(Err(Self::broken_error(ctx)));
        }
        let index = self.waiters.len() as u64;
        if index + 1 == self.parties && self.waiters.iter().any(|w| w.caller.is_gone()) {
            // The last arrival, but a party's peer has gone and the bridge
            // has not said so yet: it breaks the barrier, as its
            // connection's close would a moment later, rather than
            // releasing the others with a dead party.
            self.break_it(ctx);
            caller.reply(Err(Self::broken_error(ctx)));
        } else if index + 1 == self.parties {
            // The last arrival: release this round; the next one starts
            // empty.
            for waiter in self.waiters.drain(ctx) {
                waiter.caller.reply(Ok(Reply::Count(waiter.data)));
            }
            caller.reply(Ok(Reply::Count(index)));
        } else if wait == Wait::No {
            // Not the last, and may not wait: its wait ends now.
            self.break_it(ctx);
            caller.reply(Err(Self::broken_error(ctx)));
        } else {
            self.waiters.park(caller, index, wait, ctx);
        }
    }
}

/// The state of a new barrier (`ObjectSpec::Barrier`).
///
/// # Errors
///
/// [`ManagerError::BadRequest`] for no parties.
pub(super) fn barrier(_: &super::Making<'_>, parties: u64) -> Result<BarrierState, ManagerError> {
    if parties == 0 {
        return Err(ManagerError::BadRequest(
            "a barrier needs at least one party".to_owned(),
        ));
    }
    Ok(BarrierState::new(parties))
}

impl ObjectState for BarrierState {
    type Request = BarrierRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Barrier {
                parties: self.parties,
                waiting: self.waiters.len() as u64,
                broken: self.broken,
            },
            waiters: self.waiters.len() as u64,
            ..ObjectDetail::default()
        }
    }

    fn handle(
        &mut self,
        request: BarrierRequest,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        match request {
            BarrierRequest::Wait { wait } => self.wait(wait, caller, ctx),
            BarrierRequest::Abort => {
                self.break_it(ctx);
                caller.reply(Ok(Reply::Done));
            }
            BarrierRequest::Reset => {
                self.fail_parked(ctx);
                self.broken = false;
                caller.reply(Ok(Reply::Done));
            }
            BarrierRequest::Parties => caller.reply(Ok(Reply::Count(self.parties))),
            BarrierRequest::NWaiting => {
                caller.reply(Ok(Reply::Count(self.waiters.len() as u64)));
            }
            BarrierRequest::Broken => caller.reply(Ok(Reply::Bool(self.broken))),
        }
    }

    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        if let Some(waiter) = self.waiters.take(waiter, ctx) {
            self.break_it(ctx);
            waiter.caller.reply(Err(Self::broken_error(ctx)));
        }
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        let gone = self.waiters.remove_connection(connection, ctx);
        if !gone.is_empty() {
            // A party will never arrive: tell the others now.
            self.break_it(ctx);
        }
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

    use manager_core::reply::Reply;
    use manager_core::request::{BarrierRequest, EventRequest, ObjectRequest, Wait};
    use manager_core::{ManagerError, ObjectSpec};

    use crate::object::ObjectHandle;
    use crate::objects::testing::{Conn, Harness};

    fn b(request: BarrierRequest) -> ObjectRequest {
        ObjectRequest::Barrier(request)
    }

    fn wait(wait: Wait) -> ObjectRequest {
        b(BarrierRequest::Wait { wait })
    }

    async fn barrier(parties: u64) -> (Harness, ObjectHandle) {
        Harness::start(ObjectSpec::Barrier { parties }).await
    }

    fn is_broken(result: Result<Reply, ManagerError>) -> bool {
        matches!(result, Err(ManagerError::BrokenBarrier { what }) if what == "barrier `t`")
    }

    #[actix::test]
    async fn last_arrival_releases_everyone_with_arrival_indices_and_rounds_repeat() {
        let (_h, t) = barrier(3).await;
        let mut a = Conn::new(1);
        let mut c = Conn::new(2);
        assert_eq!(
            a.call(&t, b(BarrierRequest::Parties)).await,
            Ok(Reply::Count(3))
        );
        for _round in 0..2 {
            let w1 = a.send(&t, wait(Wait::Forever)).await;
            let w2 = c.send(&t, wait(Wait::For(Duration::from_secs(60)))).await;
            a.nothing();
            c.nothing();
            assert_eq!(
                a.call(&t, b(BarrierRequest::NWaiting)).await,
                Ok(Reply::Count(2))
            );
            let w3 = c.send(&t, wait(Wait::No)).await;
            assert_eq!(a.now(w1), Ok(Reply::Count(0)));
            assert_eq!(c.now(w2), Ok(Reply::Count(1)));
            assert_eq!(c.now(w3), Ok(Reply::Count(2)));
            assert_eq!(
                a.call(&t, b(BarrierRequest::NWaiting)).await,
                Ok(Reply::Count(0))
            );
            assert_eq!(
                a.call(&t, b(BarrierRequest::Broken)).await,
                Ok(Reply::Bool(false))
            );
        }
    }

    #[actix::test]
    async fn one_party_never_waits() {
        let (_h, t) = barrier(1).await;
        let mut a = Conn::new(1);
        assert_eq!(a.call(&t, wait(Wait::No)).await, Ok(Reply::Count(0)));
    }

    #[actix::test]
    async fn a_timeout_breaks_it_until_reset() {
        let (_h, t) = barrier(3).await;
        let mut a = Conn::new(1);
        let mut c = Conn::new(2);
        let w1 = a.send(&t, wait(Wait::Forever)).await;
        let w2 = c.send(&t, wait(Wait::For(Duration::from_millis(30)))).await;
        // The timed-out wait is answered first, then the others.
        assert!(is_broken(c.later(w2).await));
        assert!(is_broken(a.now(w1)));
        assert_eq!(
            a.call(&t, b(BarrierRequest::Broken)).await,
            Ok(Reply::Bool(true))
        );
        assert!(is_broken(a.call(&t, wait(Wait::Forever)).await));
        assert_eq!(a.call(&t, b(BarrierRequest::Reset)).await, Ok(Reply::Done));
        assert_eq!(
            a.call(&t, b(BarrierRequest::Broken)).await,
            Ok(Reply::Bool(false))
        );
        let w = a.send(&t, wait(Wait::Forever)).await;
        a.nothing();
        // A non-waiting wait that is not the last breaks it at once.
        assert!(is_broken(c.call(&t, wait(Wait::No)).await));
        assert!(is_broken(a.now(w)));
    }

    #[actix::test]
    async fn abort_and_reset_fail_the_parked() {
        let (_h, t) = barrier(2).await;
        let mut a = Conn::new(1);
        let w = a.send(&t, wait(Wait::Forever)).await;
        let r = a.send(&t, b(BarrierRequest::Reset)).await;
        assert!(is_broken(a.now(w)));
        assert_eq!(a.now(r), Ok(Reply::Done));
        assert_eq!(
            a.call(&t, b(BarrierRequest::Broken)).await,
            Ok(Reply::Bool(false))
        );
        let w = a.send(&t, wait(Wait::Forever)).await;
        let x = a.send(&t, b(BarrierRequest::Abort)).await;
        assert!(is_broken(a.now(w)));
        assert_eq!(a.now(x), Ok(Reply::Done));
        assert!(is_broken(a.call(&t, wait(Wait::Forever)).await));
    }

    #[actix::test]
    async fn the_last_arrival_breaks_it_if_a_parked_party_is_gone() {
        let (_h, t) = barrier(3).await;
        let mut a = Conn::new(1);
        let mut dead = Conn::new(2);
        let mut last = Conn::new(3);
        let w = a.send(&t, wait(Wait::Forever)).await;
        let _ = dead.send(&t, wait(Wait::Forever)).await;
        // Its peer is gone; the bridge has not told the barrier yet.
        drop(dead);
        let l = last.send(&t, wait(Wait::Forever)).await;
        assert!(is_broken(last.now(l)));
        assert!(is_broken(a.now(w)));
        assert_eq!(
            a.call(&t, b(BarrierRequest::Broken)).await,
            Ok(Reply::Bool(true))
        );
    }

    #[actix::test]
    async fn a_closed_waiting_connection_breaks_it_and_removal_answers_gone() {
        let (h, t) = barrier(3).await;
        let mut a = Conn::new(1);
        let mut dead = Conn::new(2);
        let w = a.send(&t, wait(Wait::Forever)).await;
        let _ = dead.send(&t, wait(Wait::Forever)).await;
        dead.close(&[&t]).await;
        assert!(is_broken(a.now(w)));

        // A connection that closes without waiting changes nothing.
        a.call(&t, b(BarrierRequest::Reset)).await.unwrap();
        let idle = Conn::new(3);
        let w = a.send(&t, wait(Wait::Forever)).await;
        idle.close(&[&t]).await;
        a.nothing();
        assert_eq!(
            a.call(&t, b(BarrierRequest::Broken)).await,
            Ok(Reply::Bool(false))
        );
        assert!(matches!(
            a.call(&t, ObjectRequest::Event(EventRequest::IsSet)).await,
            Err(ManagerError::WrongKind { .. })
        ));
        h.remove("t").await;
        assert!(matches!(a.now(w), Err(ManagerError::ObjectGone { .. })));
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{BarrierRequest, Wait};
        use manager_core::ObjectSpec;

        use crate::objects::testing::{Conn, Harness, ask};

        let (_h, barrier) = Harness::start(ObjectSpec::Barrier { parties: 1 }).await;
        let c = &mut Conn::new(1);
        ask(c, &barrier, BarrierRequest::wait(Wait::No)).await;
        assert_eq!(ask(c, &barrier, BarrierRequest::parties()).await, 1);
        ask(c, &barrier, BarrierRequest::n_waiting()).await;
        ask(c, &barrier, BarrierRequest::broken()).await;
        ask(c, &barrier, BarrierRequest::abort()).await;
        ask(c, &barrier, BarrierRequest::reset()).await;
    }
}
