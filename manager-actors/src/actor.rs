//! [`ObjectActor`]: the one actor type behind every shared object, and
//! [`ObjectState`], what each kind of object implements.
//!
//! An object's state, its request enum and its handlers live together in
//! one file of [`crate::objects`]; this module gives each of them a mailbox,
//! counters, the deadlines of timed waits and the connection-closed notice.
//!
//! # Disconnection
//!
//! When a connection closes, the bridge sends
//! [`ConnectionClosed`] to every object the connection used, after its last
//! batch. The state then releases what that connection's owners held and
//! drops their parked requests.
//!
//! # Replies that are not delivered
//!
//! A reply that hands something over (a queue item, a unit, a lock) and
//! cannot be delivered comes back as [`Undelivered`] (see
//! [`crate::reply`]); the state's [`ObjectState::undelivered`] gives the
//! thing back.
//!
//! # Removal
//!
//! When the registry removes an object, its state's
//! [`ObjectState::removed`] answers every parked request with
//! [`ManagerError::ObjectGone`] before the actor stops.

use std::time::Instant;

use actix::{Actor, ActorContext, AsyncContext, Context, Handler, MessageResult};
#[cfg(doc)]
use manager_core::inspect::KindDetail;
use manager_core::inspect::ObjectDetail;
use manager_core::reply::Reply;
use manager_core::request::ObjectRequest;
use manager_core::{ManagerError, ObjectId, ObjectKind, ObjectName};

use crate::object::{
    Caller, ConnectionClosed, ConnectionId, MAILBOX_CAPACITY, ObjectBatch, ReportObject,
    SharedStats, StopObject,
};
use crate::reply::{GiveBackNeeds, Undelivered};
use crate::waiters::{Deadlines, WaiterId};

/// The state and behaviour of one kind of shared object.
pub trait ObjectState: Sized + Unpin + 'static {
    /// Carries out one request and answers it through `caller`, now or,
    /// for a request that must wait, later (parked in a
    /// [`Waiters`](crate::waiters::Waiters)).
    fn handle(&mut self, request: ObjectRequest, caller: Caller, ctx: &mut ObjectContext<'_, Self>);

    /// The wait of parked request `waiter` has ended.
    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        let _ = (waiter, ctx);
    }

    /// `connection` has closed: release what its owners held and drop its
    /// parked requests.
    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        let _ = (connection, ctx);
    }

    /// The object is being removed: answer every parked request (with
    /// [`ObjectContext::gone`]).
    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        let _ = ctx;
    }

    /// Whether the reply to `request` may hand something over (a queue
    /// item, a unit, a lock) that must be given back if the reply is not
    /// delivered, and what giving it back needs; such a request's
    /// [`Caller`] carries a give-back and the state's
    /// [`ObjectState::undelivered`] is called for it. By default the
    /// requests [`ObjectRequest::may_take`] names, with the request kept.
    fn gives_back(&self, request: &ObjectRequest) -> GiveBackNeeds {
        if request.may_take() {
            GiveBackNeeds::RequestAndReply
        } else {
            GiveBackNeeds::Nothing
        }
    }

    /// The `reply` to `request` from `connection` handed something over and
    /// was not delivered (the connection had gone): give it back. By
    /// default the state carries out [`ObjectRequest::undo_for`] on the
    /// connection's behalf, as a client does for a grant that came after
    /// it gave up; its reply goes nowhere.
    fn undelivered(
        &mut self,
        connection: ConnectionId,
        request: Option<ObjectRequest>,
        reply: Reply,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        if let Some(undo) = request.and_then(|request| request.undo_for(&reply)) {
            self.handle(undo, Caller::internal(connection), ctx);
        }
    }

    /// What the state reports for an inspection: its kind-specific size,
    /// parked requests, approximate bytes held and holders. Called on the
    /// actor's thread between batches; keep it to a walk over the state.
    /// The default reports nothing ([`KindDetail::Opaque`]).
    fn report(&self) -> ObjectDetail {
        ObjectDetail::default()
    }
}

/// What a state may use while it handles a request: the object's identity
/// for error messages, and the deadlines of its timed waits.
#[derive(Debug)]
pub struct ObjectContext<'a, S: ObjectState> {
    ctx: &'a mut Context<ObjectActor<S>>,
    id: ObjectId,
    name: &'a ObjectName,
    kind: &'a ObjectKind,
    deadlines: &'a mut Deadlines,
}

impl<S: ObjectState> ObjectContext<'_, S> {
    /// The object's kind.
    pub fn kind(&self) -> &ObjectKind {
        self.kind
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.name
    }

    /// The object as error messages name it, for example "queue `jobs`".
    pub fn what(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }

    /// The error for a request of another kind's family.
    pub fn wrong_kind(&self, request: &ObjectRequest) -> ManagerError {
        ManagerError::WrongKind {
            object: self.what(),
            actual: self.kind.clone(),
            requested: request.family().to_owned(),
        }
    }

    /// The error for an operation this kind does not have.
    pub fn unsupported(&self, operation: &str) -> ManagerError {
        ManagerError::Unsupported {
            object: self.what(),
            kind: self.kind.clone(),
            operation: operation.to_owned(),
        }
    }

    /// The error parked requests get when the object is removed.
    pub fn gone(&self) -> ManagerError {
        ManagerError::ObjectGone { id: self.id }
    }

    /// Calls the state's `timed_out(waiter)` once `deadline` has passed,
    /// unless [`ObjectContext::remove_deadline`] comes first.
    pub(crate) fn add_deadline(&mut self, deadline: Instant, waiter: WaiterId) {
        self.deadlines.insert(deadline, waiter);
        arm(self.deadlines, self.ctx);
    }

    /// Forgets the deadline of `waiter`, which has left its waiters.
    pub(crate) fn remove_deadline(&mut self, deadline: Instant, waiter: WaiterId) {
        self.deadlines.remove(deadline, waiter);
        if self.deadlines.is_empty() {
            // Nothing left to end: no timer stays behind. (Otherwise a
            // timer armed for an earlier deadline than the earliest left
            // fires, ends nothing and is armed again.)
            if let Some(timer) = self.deadlines.disarm() {
                self.ctx.cancel_future(timer);
            }
        }
    }

    /// The object's deadlines, for tests.
    #[cfg(test)]
    pub(crate) fn deadlines(&self) -> &Deadlines {
        self.deadlines
    }

    pub(crate) fn actix(&mut self) -> &mut Context<ObjectActor<S>> {
        self.ctx
    }
}

/// The actor that owns one shared object's state.
#[derive(Debug)]
pub struct ObjectActor<S: ObjectState> {
    id: ObjectId,
    name: ObjectName,
    kind: ObjectKind,
    state: S,
    stats: SharedStats,
    /// The deadlines of every timed wait parked in `state`.
    deadlines: Deadlines,
}

impl<S: ObjectState> ObjectActor<S> {
    /// An actor for `state`, not yet started.
    pub fn new(
        id: ObjectId,
        name: ObjectName,
        kind: ObjectKind,
        state: S,
        stats: SharedStats,
    ) -> Self {
        ObjectActor {
            id,
            name,
            kind,
            state,
            stats,
            deadlines: Deadlines::default(),
        }
    }

    fn with_state(
        &mut self,
        ctx: &mut Context<Self>,
        f: impl FnOnce(&mut S, &mut ObjectContext<'_, S>),
    ) {
        let mut octx = ObjectContext {
            ctx,
            id: self.id,
            name: &self.name,
            kind: &self.kind,
            deadlines: &mut self.deadlines,
        };
        f(&mut self.state, &mut octx);
    }

    /// The timer has fired: ends every wait whose deadline has passed,
    /// earliest first, then arms the timer for the next deadline.
    fn expire(&mut self, ctx: &mut Context<Self>) {
        // This timer is spent; parks below may arm another.
        self.deadlines.disarm();
        // Only deadlines passed by `now` end in this turn, so the loop ends
        // even if `timed_out` parks more (those arm the timer again).
        let now = Instant::now();
        self.with_state(ctx, |state, octx| {
            while let Some(waiter) = octx.deadlines.pop_expired(now) {
                state.timed_out(waiter, octx);
            }
        });
        arm(&mut self.deadlines, ctx);
    }
}

/// Arms the object's one timer for its earliest deadline, unless it is
/// armed for that or an earlier one; stops it when there is no deadline.
fn arm<S: ObjectState>(deadlines: &mut Deadlines, ctx: &mut Context<ObjectActor<S>>) {
    let Some(earliest) = deadlines.earliest() else {
        if let Some(timer) = deadlines.disarm() {
            ctx.cancel_future(timer);
        }
        return;
    };
    if deadlines.armed_for().is_some_and(|at| at <= earliest) {
        return;
    }
    if let Some(timer) = deadlines.disarm() {
        ctx.cancel_future(timer);
    }
    let after = earliest.saturating_duration_since(Instant::now());
    let timer = ctx.run_later(after, |actor, ctx| actor.expire(ctx));
    deadlines.armed(earliest, timer);
}

impl<S: ObjectState> Actor for ObjectActor<S> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(MAILBOX_CAPACITY);
        tracing::debug!(id = %self.id, name = %self.name, kind = %self.kind, "object started");
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        tracing::debug!(id = %self.id, name = %self.name, kind = %self.kind, "object stopped");
    }
}

impl<S: ObjectState> Handler<ObjectBatch> for ObjectActor<S> {
    type Result = ();

    fn handle(&mut self, batch: ObjectBatch, ctx: &mut Self::Context) {
        self.stats.took_batch(batch.calls.len() as u64);
        let ObjectBatch {
            connection,
            calls,
            replies,
        } = batch;
        self.with_state(ctx, |state, octx| {
            for call in calls {
                let mut caller = Caller::new(connection, call.id, replies.clone());
                let request = match state.gives_back(&call.op) {
                    GiveBackNeeds::Nothing => None,
                    GiveBackNeeds::Reply => Some(None),
                    GiveBackNeeds::RequestAndReply => Some(Some(call.op.clone())),
                };
                if let Some(request) = request {
                    let me = octx.actix().address().recipient();
                    caller = caller.giving_back_to(me, request);
                }
                state.handle(call.op, caller, octx);
            }
        });
    }
}

impl<S: ObjectState> Handler<ConnectionClosed> for ObjectActor<S> {
    type Result = ();

    fn handle(&mut self, msg: ConnectionClosed, ctx: &mut Self::Context) {
        self.with_state(ctx, |state, octx| state.connection_closed(msg.0, octx));
    }
}

impl<S: ObjectState> Handler<Undelivered> for ObjectActor<S> {
    type Result = ();

    fn handle(&mut self, msg: Undelivered, ctx: &mut Self::Context) {
        let Undelivered {
            connection,
            request,
            reply,
        } = msg;
        self.with_state(ctx, |state, octx| {
            state.undelivered(connection, request, reply, octx);
        });
    }
}

impl<S: ObjectState> Handler<StopObject> for ObjectActor<S> {
    type Result = ();

    fn handle(&mut self, _msg: StopObject, ctx: &mut Self::Context) {
        self.with_state(ctx, |state, octx| state.removed(octx));
        ctx.stop();
    }
}

impl<S: ObjectState> Handler<ReportObject> for ObjectActor<S> {
    type Result = MessageResult<ReportObject>;

    fn handle(&mut self, _msg: ReportObject, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(self.state.report())
    }
}
