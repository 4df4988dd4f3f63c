//! [`EventState`]: a flag processes wait for, like Python's
//! `Manager().Event()`.
//!
//! `set` raises the flag and answers every parked `wait` with `true`; a
//! `wait` while the flag is up answers `true` at once. `clear` lowers it;
//! waits that arrive afterwards park again. A wait that ends first answers
//! `false`, as Python's `Event.wait(timeout)` does.
//!
//! # What happens when a worker dies
//!
//! Its parked waits are dropped when its connection closes; the flag is
//! left as it is.
//!
//! # Removal
//!
//! Every parked wait is answered with [`ManagerError::ObjectGone`].
//!
//! [`ManagerError::ObjectGone`]: manager_core::ManagerError::ObjectGone

use manager_core::ManagerError;
use manager_core::inspect::{KindDetail, ObjectDetail};
use manager_core::reply::Reply;
use manager_core::request::{EventRequest, RequestId, Wait};

use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
use crate::waiters::{WaiterId, Waiters};

/// The state of one event.
#[derive(Debug, Default)]
pub struct EventState {
    /// Whether the flag is up.
    flag: bool,
    /// Waits parked until the flag goes up.
    waiters: Waiters<()>,
}

impl EventState {
    /// A clear event.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The state of a new event (`ObjectSpec::Event`).
pub(super) fn event(_: &super::Making<'_>) -> Result<EventState, ManagerError> {
    Ok(EventState::new())
}

impl ObjectState for EventState {
    type Request = EventRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::Event { set: self.flag },
            waiters: self.waiters.len() as u64,
            ..ObjectDetail::default()
        }
    }

    fn handle(&mut self, request: EventRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>) {
        match request {
            EventRequest::Set => {
                self.flag = true;
                for waiter in self.waiters.drain(ctx) {
                    waiter.caller.reply(Ok(Reply::Bool(true)));
                }
                caller.reply(Ok(Reply::Done));
            }
            EventRequest::Clear => {
                self.flag = false;
                caller.reply(Ok(Reply::Done));
            }
            EventRequest::IsSet => caller.reply(Ok(Reply::Bool(self.flag))),
            EventRequest::NWaiting => {
                caller.reply(Ok(Reply::Count(self.waiters.len() as u64)));
            }
            EventRequest::Wait { wait } => {
                if self.flag {
                    caller.reply(Ok(Reply::Bool(true)));
                } else if wait == Wait::No {
                    caller.reply(Ok(Reply::Bool(false)));
                } else {
                    self.waiters.park(caller, (), wait, ctx);
                }
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
        self.waiters.drop_connection(connection, ctx);
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
    use manager_core::request::{EventRequest, ObjectRequest, QueueRequest, Wait};
    use manager_core::{ManagerError, ObjectSpec};

    use crate::objects::testing::{Conn, Harness};

    fn e(request: EventRequest) -> ObjectRequest {
        ObjectRequest::Event(request)
    }

    fn wait(wait: Wait) -> ObjectRequest {
        e(EventRequest::Wait { wait })
    }

    #[actix::test]
    async fn set_releases_every_waiter_and_later_waits_pass() {
        let (h, t) = Harness::start(ObjectSpec::Event).await;
        let mut a = Conn::new(1);
        let mut b = Conn::new(2);
        assert_eq!(
            a.call(&t, e(EventRequest::IsSet)).await,
            Ok(Reply::Bool(false))
        );
        assert_eq!(a.call(&t, wait(Wait::No)).await, Ok(Reply::Bool(false)));
        let wa = a.send(&t, wait(Wait::Forever)).await;
        let wb = b.send(&t, wait(Wait::For(Duration::from_secs(60)))).await;
        a.nothing();
        b.nothing();
        let s = b.send(&t, e(EventRequest::Set)).await;
        assert_eq!(a.now(wa), Ok(Reply::Bool(true)));
        assert_eq!(b.now(wb), Ok(Reply::Bool(true)));
        assert_eq!(b.now(s), Ok(Reply::Done));
        assert_eq!(a.call(&t, wait(Wait::No)).await, Ok(Reply::Bool(true)));
        assert_eq!(
            a.call(&t, e(EventRequest::IsSet)).await,
            Ok(Reply::Bool(true))
        );
        assert_eq!(a.call(&t, e(EventRequest::Clear)).await, Ok(Reply::Done));
        assert_eq!(
            a.call(&t, e(EventRequest::IsSet)).await,
            Ok(Reply::Bool(false))
        );
        let w = a.send(&t, wait(Wait::Forever)).await;
        a.nothing();
        h.remove("t").await;
        assert!(matches!(a.now(w), Err(ManagerError::ObjectGone { .. })));
    }

    #[actix::test]
    async fn a_wait_that_ends_answers_false() {
        let (_h, t) = Harness::start(ObjectSpec::Event).await;
        let mut a = Conn::new(1);
        let w = a.send(&t, wait(Wait::For(Duration::from_millis(30)))).await;
        assert_eq!(a.later(w).await, Ok(Reply::Bool(false)));
        // A closed connection's waits are dropped, and `set` still works.
        let mut dead = Conn::new(2);
        let _ = dead.send(&t, wait(Wait::Forever)).await;
        dead.close(&[&t]).await;
        assert_eq!(a.call(&t, e(EventRequest::Set)).await, Ok(Reply::Done));
        assert!(matches!(
            a.call(&t, ObjectRequest::Queue(QueueRequest::Len)).await,
            Err(ManagerError::WrongKind { .. })
        ));
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::request::{EventRequest, Wait};
        use manager_core::ObjectSpec;

        use crate::objects::testing::{Conn, Harness, ask};

        let (_h, event) = Harness::start(ObjectSpec::Event).await;
        let c = &mut Conn::new(1);
        ask(c, &event, EventRequest::set()).await;
        assert!(ask(c, &event, EventRequest::is_set()).await);
        assert!(ask(c, &event, EventRequest::wait(Wait::No)).await);
        ask(c, &event, EventRequest::clear()).await;
        assert_eq!(ask(c, &event, EventRequest::n_waiting()).await, 0);
    }
}
