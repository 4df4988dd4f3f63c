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
//! [`ManagerError::ObjectGone`] before the actor stops. An object that
//! must outlive its removal (a shared memory block still mapped) says so
//! ([`ObjectState::outlives_removal`]) and stops itself later.
//!
//! # Bulk requests
//!
//! An object shares its thread with other objects and connections (see
//! [`Threads`](crate::threads::Threads)), so a request that carries
//! millions of items (a list `extend`, a dict `update`) would stall them
//! all while it is applied. A state applies such a request with
//! [`ObjectContext::in_slices`]: at most [`BULK_SLICE`] items at a time,
//! and between two slices the actor yields to the executor, so other
//! objects and connections run. Meanwhile the object takes no message
//! (actix's `ctx.wait`): no other request to it, not even the next one of
//! the same batch, starts before the bulk request is applied whole and
//! answered. To every client the request is as atomic as a small one, and
//! one object's requests keep their order. A request of at most
//! [`BULK_SLICE`] items is applied at once, as any other.
//!
//! # Panics
//!
//! A panic in a state's code (any [`ObjectState`] method, a bulk slice, a
//! [`ObjectContext::when`] callback) is caught by the actor and *poisons*
//! the object, as a panic poisons a `std::sync::Mutex`: the state may be
//! half-updated, so it is not used again. The request that panicked is
//! answered [`ManagerError::Panicked`]; the requests the state had parked
//! are answered through [`ObjectState::removed`] (with
//! [`ManagerError::ObjectGone`]); every later request is answered
//! [`ManagerError::Panicked`] with `earlier: true`, until the object is
//! removed. The manager, its thread and every other object go on. (A
//! panic in a later slice of a bulk request is answered the same way:
//! the actor keeps where to answer it.) This holds for the
//! built-in kinds and for an application's own
//! ([`CustomKind`](crate::objects::CustomKind)) alike;
//! [`CustomState`](crate::objects::CustomState) catches the panics of a
//! [`CustomObject`](crate::objects::CustomObject) itself first, to tell a
//! panic in the type's `Deserialize` (which fails that request only) from
//! one in its `handle`.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, MessageResult, WrapFuture,
};
use manager_core::custom::panic_message;
#[cfg(doc)]
use manager_core::inspect::KindDetail;
use manager_core::inspect::ObjectDetail;
use manager_core::reply::Reply;
use manager_core::request::{KindRequest, NotTaken, ObjectRequest, RequestId};
use manager_core::{ManagerError, ObjectId, ObjectKind, ObjectName};

use crate::discard::discard;
use crate::latency::LatencyHistogram;
use crate::object::{
    Caller, ConnectionClosed, ConnectionId, MAILBOX_CAPACITY, ObjectBatch, ObjectCall, ReplySink,
    ReportObject, SharedStats, StopObject,
};
use crate::reply::{GiveBackNeeds, Undelivered};
use crate::waiters::{Deadlines, WaiterId};

/// The most items of one bulk request an object applies in one turn
/// before it yields the thread to other objects (see *Bulk requests*).
/// About a millisecond of work for the costliest kind (a dict `update`,
/// which hashes every key).
pub const BULK_SLICE: usize = 16_384;

/// The rest of a bulk request: applies its next slice and returns whether
/// it is done (and answered).
type BulkStep<S> = Box<dyn FnMut(&mut S) -> bool>;

/// The calls of a batch not yet handled because a bulk request before
/// them is being applied.
#[derive(Debug)]
struct RestOfBatch {
    connection: ConnectionId,
    calls: std::vec::IntoIter<ObjectCall>,
    replies: ReplySink,
    read_at: Instant,
}

/// The state and behaviour of one kind of shared object.
pub trait ObjectState: Sized + Send + Unpin + 'static {
    /// The kind's request enum ([`KindRequest`]). The actor answers a
    /// request of another kind's family with
    /// [`ManagerError::WrongKind`] and a [`ObjectRequest::Cancel`] through
    /// [`ObjectState::cancel`]; the state sees only its own requests.
    type Request: KindRequest;

    /// Carries out one request and answers it through `caller`, now or,
    /// for a request that must wait, later (parked in a
    /// [`Waiters`](crate::waiters::Waiters)).
    fn handle(&mut self, request: Self::Request, caller: Caller, ctx: &mut ObjectContext<'_, Self>);

    /// The wait of parked request `waiter` has ended.
    fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
        let _ = (waiter, ctx);
    }

    /// `connection` has closed: release what its owners held and drop its
    /// parked requests.
    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        let _ = (connection, ctx);
    }

    /// Request `request` of `connection` is to be taken back if it is still
    /// parked ([`ObjectRequest::Cancel`]): take it out of its
    /// [`Waiters`](crate::waiters::Waiters) (see
    /// [`Waiters::take_request`](crate::waiters::Waiters::take_request)),
    /// answer it [`ManagerError::Cancelled`], and return `true`. A kind
    /// whose parked requests count toward a result (a barrier's parties)
    /// keeps them and returns `false`, as the default does. A request
    /// answered already may have its grant given back here, as its caller
    /// gave up (a condition's wait: see
    /// [`ConditionState`](crate::objects::ConditionState)); that returns
    /// `false` too.
    fn cancel(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, Self>,
    ) -> bool {
        let _ = (connection, request, ctx);
        false
    }

    /// The object is being removed: answer every parked request (with
    /// [`ObjectContext::gone`]).
    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        let _ = ctx;
    }

    /// Whether the object, once [`removed`](ObjectState::removed), must
    /// outlive its removal: its name is free at once, but the actor keeps
    /// running (a shared memory block still mapped keeps its memory until
    /// its last holder has gone) and stops itself with
    /// [`ObjectContext::stop`]. Asked right after `removed`; `false` by
    /// default, and the actor stops then.
    fn outlives_removal(&self) -> bool {
        false
    }

    /// Whether the reply to `request` may hand something over (a queue
    /// item, a unit, a lock) that must be given back if the reply is not
    /// delivered, and what giving it back needs; such a request's
    /// [`Caller`] carries a give-back and the state's
    /// [`ObjectState::undelivered`] is called for it. By default the
    /// requests [`KindRequest::may_take`] names, with the request kept.
    fn gives_back(&self, request: &Self::Request) -> GiveBackNeeds {
        if request.may_take() {
            GiveBackNeeds::RequestAndReply
        } else {
            GiveBackNeeds::Nothing
        }
    }

    /// The `reply` to `request` from `connection` handed something over and
    /// was not delivered (the connection had gone): give it back. By
    /// default the state carries out [`KindRequest::undo_for`] on the
    /// connection's behalf, as a client does for a grant that came after
    /// it gave up; its reply goes nowhere.
    fn undelivered(
        &mut self,
        connection: ConnectionId,
        request: Option<Self::Request>,
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
/// for error messages, the deadlines of its timed waits, and bulk requests
/// applied in slices.
pub struct ObjectContext<'a, S: ObjectState> {
    ctx: &'a mut Context<ObjectActor<S>>,
    id: ObjectId,
    name: &'a ObjectName,
    kind: &'a ObjectKind,
    deadlines: &'a mut Deadlines,
    /// The bulk request left to apply in later turns, if one was started.
    bulk: &'a mut Option<BulkStep<S>>,
}

impl<S: ObjectState> std::fmt::Debug for ObjectContext<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectContext")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("bulk", &self.bulk.is_some())
            .finish_non_exhaustive()
    }
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

    /// How many timed waits the object has.
    pub(crate) fn deadline_count(&self) -> usize {
        self.deadlines.len()
    }

    /// Forgets the deadlines of the waiters in `ids`, which have left
    /// their waiters: one pass over the object's deadlines.
    pub(crate) fn remove_deadlines_of(&mut self, ids: &std::collections::BTreeSet<WaiterId>) {
        if self.deadlines.is_empty() {
            return;
        }
        self.deadlines.remove_all_of(ids);
        self.disarm_if_none();
    }

    /// Forgets the deadline of `waiter`, which has left its waiters.
    pub(crate) fn remove_deadline(&mut self, deadline: Instant, waiter: WaiterId) {
        self.deadlines.remove(deadline, waiter);
        self.disarm_if_none();
    }

    /// Stops the timer if no deadline is left.
    fn disarm_if_none(&mut self) {
        if self.deadlines.is_empty() {
            // Nothing left to end: no timer stays behind. (Otherwise a
            // timer armed for an earlier deadline than the earliest left
            // fires, ends nothing and is armed again.)
            if let Some(timer) = self.deadlines.disarm() {
                self.ctx.cancel_future(timer);
            }
        }
    }

    /// Applies a bulk request's `items` to `state` with `apply`, then
    /// answers `caller` with what `finish` returns; see *Bulk requests* in
    /// the module docs.
    ///
    /// At most [`BULK_SLICE`] items are applied at once. A request of that
    /// many or fewer is applied and answered now, with no allocation of
    /// its own. A larger one gets its first slice now; the object then
    /// yields, takes no other message and applies the others one per turn,
    /// in order, then calls `finish` and goes on with the rest of the
    /// batch. So `apply` must not fail: check whatever can fail before
    /// (a request that fails must change nothing), and let `finish` say
    /// what the reply is. A state starts at most one bulk request per
    /// request it handles. The request's own buffer is freed off the
    /// actors' thread ([`crate::discard`]).
    pub fn in_slices<T: Send + 'static>(
        &mut self,
        state: &mut S,
        caller: Caller,
        items: Vec<T>,
        mut apply: impl FnMut(&mut S, Vec<T>) + 'static,
        finish: impl FnOnce(&mut S) -> Result<Reply, ManagerError> + 'static,
    ) {
        self.in_slices_with(
            state,
            caller,
            items,
            (),
            move |state, (), slice| apply(state, slice),
            move |state, ()| finish(state),
        );
    }

    /// As [`ObjectContext::in_slices`], for a request that gathers
    /// something from its items before it answers (a set `intersection`
    /// reads the values into a set first): `apply` adds each slice to
    /// `gathered`, which `finish` then gets.
    pub fn in_slices_with<T: Send + 'static, A: 'static>(
        &mut self,
        state: &mut S,
        caller: Caller,
        items: Vec<T>,
        mut gathered: A,
        mut apply: impl FnMut(&mut S, &mut A, Vec<T>) + 'static,
        finish: impl FnOnce(&mut S, A) -> Result<Reply, ManagerError> + 'static,
    ) {
        if items.len() <= BULK_SLICE {
            apply(state, &mut gathered, items);
            caller.reply(finish(state, gathered));
            return;
        }
        debug_assert!(self.bulk.is_none(), "one bulk request at a time");
        let len = items.len();
        let mut rest = Some((items.into_iter(), gathered, finish, caller));
        let mut step = move |state: &mut S| {
            let Some((items, gathered, _, _)) = rest.as_mut() else {
                return true;
            };
            apply(state, gathered, items.by_ref().take(BULK_SLICE).collect());
            if items.len() > 0 {
                return false;
            }
            if let Some((items, gathered, finish, caller)) = rest.take() {
                // The request's buffer, empty now but as large as it was
                // (hundreds of megabytes, unmapped page by page).
                discard(items, len);
                caller.reply(finish(state, gathered));
            }
            true
        };
        step(state);
        *self.bulk = Some(Box::new(step));
    }

    /// Stops the object's actor once this turn ends: for an object that
    /// outlived its removal ([`ObjectState::outlives_removal`]) and is now
    /// done.
    pub fn stop(&mut self) {
        self.ctx.stop();
    }

    /// Runs `then` on the state once `event` has completed, unless the
    /// actor has stopped first: how an object watches something outside
    /// its mailbox (a connection's writer ending, as an Erlang monitor
    /// watches a process), whichever object or thread ends it.
    pub fn when<F>(
        &mut self,
        event: F,
        then: impl FnOnce(&mut S, F::Output, &mut ObjectContext<'_, S>) + 'static,
    ) where
        F: std::future::Future + 'static,
    {
        let watch =
            actix::fut::wrap_future::<_, ObjectActor<S>>(event).map(move |output, actor, ctx| {
                actor.with_state(ctx, |state, octx| {
                    then(state, output, octx);
                    None
                });
            });
        self.ctx.spawn(watch);
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
    /// How long its requests took to handle.
    latency: LatencyHistogram,
    /// When the bulk request being applied in slices was read, to count
    /// its latency once its last slice is applied.
    bulk_read_at: Option<Instant>,
    /// The message of the panic that poisoned the state (see *Panics*):
    /// once set, the state is not used again.
    poisoned: Option<String>,
    /// Where the bulk request being applied in slices is answered should
    /// a later slice panic (its own caller goes with the panic).
    bulk_caller: Option<Caller>,
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
            latency: LatencyHistogram::default(),
            bulk_read_at: None,
            poisoned: None,
            bulk_caller: None,
        }
    }

    /// The object as error messages name it, for example "queue `jobs`".
    fn what(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }

    /// The error every request gets once the state is poisoned.
    fn poisoned_error(&self, earlier: bool) -> Option<ManagerError> {
        self.poisoned
            .as_ref()
            .map(|message| ManagerError::Panicked {
                object: self.what(),
                message: message.clone(),
                earlier,
            })
    }

    /// The state panicked (see *Panics*): it is not used again, but first
    /// answers its parked requests ([`ObjectState::removed`]) if it can.
    fn poison(&mut self, panic: &(dyn std::any::Any + Send), ctx: &mut Context<Self>) {
        let message = panic_message(panic);
        tracing::error!(object = %self.what(), %message, "object panicked; it is poisoned");
        let mut bulk = None;
        let mut octx = ObjectContext {
            ctx,
            id: self.id,
            name: &self.name,
            kind: &self.kind,
            deadlines: &mut self.deadlines,
            bulk: &mut bulk,
        };
        let state = &mut self.state;
        if catch_unwind(AssertUnwindSafe(|| state.removed(&mut octx))).is_err() {
            tracing::error!(object = %self.what(), "a poisoned object panicked again answering its parked requests");
        }
        self.poisoned = Some(message);
        // Its timed waits end with it.
        if let Some(timer) = self.deadlines.disarm() {
            ctx.cancel_future(timer);
        }
        self.deadlines = Deadlines::default();
    }

    /// Runs `f` on the state, unless it is poisoned. If it started a bulk
    /// request, the rest of it is applied in later turns, then the
    /// `RestOfBatch` `f` returns. Returns whether `f` ran whole: `false`
    /// if the state is poisoned, now (a panic in `f`) or before.
    fn with_state(
        &mut self,
        ctx: &mut Context<Self>,
        f: impl FnOnce(&mut S, &mut ObjectContext<'_, S>) -> Option<RestOfBatch>,
    ) -> bool {
        if self.poisoned.is_some() {
            return false;
        }
        let mut bulk = None;
        let outcome = {
            let mut octx = ObjectContext {
                ctx,
                id: self.id,
                name: &self.name,
                kind: &self.kind,
                deadlines: &mut self.deadlines,
                bulk: &mut bulk,
            };
            let state = &mut self.state;
            catch_unwind(AssertUnwindSafe(|| f(state, &mut octx)))
        };
        match outcome {
            Ok(rest) => {
                if let Some(step) = bulk {
                    self.next_slice_later(step, rest, ctx);
                }
                true
            }
            Err(panic) => {
                self.poison(&*panic, ctx);
                false
            }
        }
    }

    /// Handles `batch`'s calls in order, stopping after one that starts a
    /// bulk request (the rest then waits for it).
    fn run_calls(&mut self, batch: RestOfBatch, ctx: &mut Context<Self>) {
        let read_at = batch.read_at;
        let connection = batch.connection;
        let mut handled = 0;
        let mut bulk_started = false;
        // The bulk request started, to answer should a later slice panic.
        let mut bulk_caller = None;
        // Kept out here so that a panic does not lose the calls left.
        let mut left = Some(batch);
        // The call being handled, to answer should the state panic.
        let current = std::cell::Cell::new(None);
        let ran = self.with_state(ctx, |state, octx| {
            let batch = left.as_mut()?;
            while let Some(call) = batch.calls.next() {
                handled += 1;
                current.set(Some((call.id, call.bulk)));
                let mut caller = Caller::new(batch.connection, call.id, batch.replies.clone())
                    .answering_bulk(call.bulk);
                if let ObjectRequest::Cancel { request } = call.op {
                    let cancelled = state.cancel(batch.connection, request, octx);
                    caller.reply(Ok(Reply::Bool(cancelled)));
                    continue;
                }
                let what = crate::objects::Lazy(|| octx.what());
                let request = match S::Request::take(call.op, &what) {
                    Ok(request) => request,
                    Err(NotTaken::OtherFamily(other)) => {
                        caller.reply(Err(octx.wrong_kind(&other)));
                        continue;
                    }
                    Err(NotTaken::Refused(refused)) => {
                        caller.reply(Err(refused));
                        continue;
                    }
                };
                let kept = match state.gives_back(&request) {
                    GiveBackNeeds::Nothing => None,
                    GiveBackNeeds::Reply => Some(None),
                    GiveBackNeeds::RequestAndReply => Some(Some(request.clone().into())),
                };
                if let Some(kept) = kept {
                    let me = octx.actix().address().recipient();
                    caller = caller.giving_back_to(me, kept);
                }
                state.handle(request, caller, octx);
                if octx.bulk.is_some() {
                    bulk_started = true;
                    bulk_caller = Some(
                        Caller::new(batch.connection, call.id, batch.replies.clone())
                            .answering_bulk(call.bulk),
                    );
                    current.set(None);
                    let more = batch.calls.len() > 0;
                    return left.take().filter(|_| more);
                }
            }
            current.set(None);
            None
        });
        if !ran {
            // The state panicked on the current call, or earlier.
            if let Some(batch) = left.take() {
                if let Some((id, bulk)) = current.take() {
                    Caller::new(connection, id, batch.replies.clone())
                        .answering_bulk(bulk)
                        .reply(Err(self
                            .poisoned_error(false)
                            .unwrap_or(ManagerError::Cancelled)));
                }
                for call in batch.calls {
                    let caller = Caller::new(connection, call.id, batch.replies.clone())
                        .answering_bulk(call.bulk);
                    let answer = match call.op {
                        ObjectRequest::Cancel { .. } => Ok(Reply::Bool(false)),
                        _ => Err(self.poisoned_error(true).unwrap_or(ManagerError::Cancelled)),
                    };
                    caller.reply(answer);
                }
            }
        }
        // One clock read for the calls of this turn: each is counted as
        // done when the last of them is. A bulk request goes on in later
        // turns, and is counted when its last slice is applied.
        if bulk_started {
            handled -= 1;
            self.bulk_read_at = Some(read_at);
            self.bulk_caller = bulk_caller;
        }
        self.latency.record(read_at.elapsed(), handled);
    }

    /// Yields the thread, then applies the bulk request's next slice, the
    /// mailbox closed meanwhile (`ctx.wait`); once the request is done,
    /// handles `rest`.
    fn next_slice_later(
        &mut self,
        mut step: BulkStep<S>,
        rest: Option<RestOfBatch>,
        ctx: &mut Context<Self>,
    ) {
        let turn = tokio::task::yield_now().into_actor(self);
        ctx.wait(turn.map(move |(), actor, ctx| {
            let earlier = actor.poisoned.is_some();
            if !earlier {
                let state = &mut actor.state;
                match catch_unwind(AssertUnwindSafe(|| step(state))) {
                    Ok(true) => actor.bulk_caller = None,
                    Ok(false) => {
                        actor.next_slice_later(step, rest, ctx);
                        return;
                    }
                    Err(panic) => actor.poison(&*panic, ctx),
                }
            }
            if actor.poisoned.is_some() {
                // The bulk request's own caller went with the panic: it is
                // answered here, so that its client (and its connection's
                // next bulk request, which waits for this reply) is not
                // left waiting; the calls after it are answered as a
                // poisoned object's.
                if let Some(caller) = actor.bulk_caller.take() {
                    caller.reply(Err(actor
                        .poisoned_error(earlier)
                        .unwrap_or(ManagerError::Cancelled)));
                }
                if let Some(rest) = rest {
                    actor.run_calls(rest, ctx);
                }
                return;
            }
            if let Some(read_at) = actor.bulk_read_at.take() {
                actor.latency.record(read_at.elapsed(), 1);
            }
            if let Some(rest) = rest {
                actor.run_calls(rest, ctx);
            }
        }));
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
            None
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
            read_at,
        } = batch;
        let batch = RestOfBatch {
            connection,
            calls: calls.into_iter(),
            replies,
            read_at,
        };
        self.run_calls(batch, ctx);
    }
}

impl<S: ObjectState> Handler<ConnectionClosed> for ObjectActor<S> {
    type Result = ();

    fn handle(&mut self, msg: ConnectionClosed, ctx: &mut Self::Context) {
        self.with_state(ctx, |state, octx| {
            state.connection_closed(msg.0, octx);
            None
        });
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
        // The request was the state's own when it was kept.
        let request = request.and_then(|request| S::Request::try_from(request).ok());
        self.with_state(ctx, |state, octx| {
            state.undelivered(connection, request, reply, octx);
            None
        });
    }
}

impl<S: ObjectState> Handler<StopObject> for ObjectActor<S> {
    type Result = ();

    fn handle(&mut self, _msg: StopObject, ctx: &mut Self::Context) {
        let mut outlives = false;
        self.with_state(ctx, |state, octx| {
            state.removed(octx);
            outlives = state.outlives_removal();
            None
        });
        if !outlives {
            ctx.stop();
        }
    }
}

impl<S: ObjectState> Handler<ReportObject> for ObjectActor<S> {
    type Result = MessageResult<ReportObject>;

    fn handle(&mut self, _msg: ReportObject, _ctx: &mut Self::Context) -> Self::Result {
        let state = &self.state;
        let detail = match self.poisoned {
            Some(_) => ObjectDetail::default(),
            None => catch_unwind(AssertUnwindSafe(|| state.report())).unwrap_or_default(),
        };
        MessageResult((detail, self.latency.summary()))
    }
}
