//! [`Waiters`]: requests parked in an object's state until they can proceed.
//!
//! A waiting operation never blocks an actor: the object parks the caller
//! here and goes on serving others. A parked request leaves when the object
//! serves it (in arrival order), when its [`Wait`] ends (the object's
//! [`crate::actor::ObjectState::timed_out`] is
//! called with its [`WaiterId`]), when its caller cancels it
//! ([`Waiters::take_request`]), or when its connection closes.
//!
//! # Limits
//!
//! A connection may have only so many requests parked at once, across all
//! objects ([`ReplySink::max_parked`](crate::reply::ReplySink::max_parked)).
//! [`Waiters::park`] refuses one more itself, answering it with
//! [`ManagerError::LimitReached`](manager_core::ManagerError::LimitReached),
//! so every kind of object refuses the same way. The place is held by the
//! request's [`Caller`] and freed when the caller is answered or dropped,
//! so no way of leaving forgets it.
//!
//! # Cost
//!
//! [`WaiterId`]s grow with every park in the whole manager, so the parked
//! requests of a [`Waiters`] are kept in a map keyed by id, which is their
//! arrival order: taking the front, taking one by id and parking are
//! `O(log n)`. They are boxed, so the map moves pointers, not requests of
//! a few hundred bytes. A second index by connection makes dropping a closed
//! connection's requests `O(k log n)` for its `k` requests when they are
//! few among the others, and one `O(n)` pass that rebuilds the map when
//! they are many (all of them: the map is taken whole). The requests
//! dropped unanswered are freed off the actors' thread when they are many
//! ([`crate::discard`]).
//!
//! The deadlines of timed waits are not timers of their own: every
//! [`Waiters`] of an object shares the object's `Deadlines`, an ordered
//! index of `(deadline, id)` with one actix timer armed for the earliest.
//! When it fires, every wait whose deadline has passed ends, earliest
//! first (ties in arrival order), and the timer is armed for the next. So
//! `n` timed waits cost `O(n log n)` to end, and the actor's context holds
//! one timer, not `n`: actix polls every future spawned in a context on
//! each wake-up, so `n` timers would make every message to the object cost
//! `O(n)`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix::SpawnHandle;
use manager_core::request::{RequestId, Wait};

use crate::actor::{ObjectContext, ObjectState};
use crate::discard::discard;
use crate::object::{Caller, ConnectionId};

/// Names one parked request, unique in the whole manager. Ids grow with
/// every park, so their order is the order of arrival.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WaiterId(u64);

impl WaiterId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        WaiterId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// [`Waiters::remove_connection`] rebuilds the map, rather than take the
/// connection's requests out one by one, when they are more than one in
/// this many of the parked requests.
pub const REBUILD_SHARE: usize = 16;

/// One parked request with what the object needs to serve it later.
#[derive(Debug)]
pub struct Waiter<T> {
    /// Its id, as passed to `timed_out`.
    pub id: WaiterId,
    /// Who is waiting; reply through it.
    pub caller: Caller,
    /// What the object keeps with it (an item to put, a lock count, ...).
    pub data: T,
    /// When its wait ends; `None` for [`Wait::Forever`].
    deadline: Option<Instant>,
}

/// One connection's parked requests in one [`Waiters`].
#[derive(Debug, Default)]
struct Parked {
    /// Their ids, in arrival order.
    ids: BTreeSet<WaiterId>,
    /// Their ids by the connection's request ids, to cancel one.
    by_request: HashMap<RequestId, WaiterId>,
}

/// Parked requests in arrival order.
#[derive(Debug)]
pub struct Waiters<T> {
    /// By id, which is arrival order. Boxed: a waiter is a few hundred
    /// bytes, and the map moves its entries as it changes.
    parked: BTreeMap<WaiterId, Box<Waiter<T>>>,
    /// Each connection's parked requests.
    by_connection: HashMap<ConnectionId, Parked>,
}

impl<T> Default for Waiters<T> {
    fn default() -> Self {
        Waiters {
            parked: BTreeMap::new(),
            by_connection: HashMap::new(),
        }
    }
}

impl<T> Waiters<T> {
    /// Parks `caller` at the back and returns its id. A [`Wait::For`] gets
    /// a deadline, after which the state's `timed_out` is called with that
    /// id; [`Wait::Forever`] has none. Callers handle [`Wait::No`]
    /// themselves before parking; parking one anyway times it out at once
    /// (on the actor's next turn).
    ///
    /// The request takes a place in its connection's count of parked
    /// requests ([`ReplySink::max_parked`](crate::reply::ReplySink::max_parked)),
    /// which its caller holds until answered; a caller moved here from
    /// another `Waiters` of the object keeps the place it has.
    ///
    /// Returns `None` if the connection has as many parked requests as it
    /// may: the caller has then been answered with
    /// [`ManagerError::LimitReached`](manager_core::ManagerError::LimitReached)
    /// and nothing is parked, so the state must change nothing for it
    /// (park before changing anything, or check the result).
    pub fn park<S: ObjectState>(
        &mut self,
        mut caller: Caller,
        data: T,
        wait: Wait,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Option<WaiterId> {
        if let Err(refused) = caller.hold_parked_slot() {
            // Once per connection at warn: a client that keeps hitting the
            // cap must not flood the log.
            if caller.replies.first_parked_refusal() {
                tracing::warn!(
                    object = %ctx.what(),
                    connection = %caller.connection,
                    max = caller.replies.max_parked(),
                    "parked request limit reached; requests over it are refused \
                     (logged once per connection)"
                );
            } else {
                tracing::debug!(object = %ctx.what(), connection = %caller.connection, "parked request refused");
            }
            caller.reply(Err(refused));
            return None;
        }
        let id = WaiterId::next();
        let deadline = match wait {
            Wait::Forever => None,
            // A wait too long for the clock never ends.
            Wait::For(after) => Instant::now().checked_add(after),
            Wait::No => Some(Instant::now()),
        };
        if let Some(deadline) = deadline {
            ctx.add_deadline(deadline, id);
        }
        let mine = self.by_connection.entry(caller.connection).or_default();
        mine.ids.insert(id);
        // A client that reuses an id can cancel only the latest of them.
        mine.by_request.insert(caller.id, id);
        self.parked.insert(
            id,
            Box::new(Waiter {
                id,
                caller,
                data,
                deadline,
            }),
        );
        Some(id)
    }

    /// Takes the longest-waiting request whose connection is still open
    /// (those of closed connections are dropped on the way).
    pub fn pop_front<S: ObjectState>(
        &mut self,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Option<Waiter<T>> {
        while let Some((_, waiter)) = self.parked.pop_first() {
            let waiter = self.unindex(*waiter, ctx);
            if !waiter.caller.is_gone() {
                return Some(waiter);
            }
        }
        None
    }

    /// Takes the request `id` out (its wait ended), if it is still parked.
    pub fn take<S: ObjectState>(
        &mut self,
        id: WaiterId,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Option<Waiter<T>> {
        let waiter = *self.parked.remove(&id)?;
        Some(self.unindex(waiter, ctx))
    }

    /// Takes request `request` of `connection` out, if it is parked here:
    /// its caller gave up on it ([`ObjectRequest::Cancel`]).
    ///
    /// [`ObjectRequest::Cancel`]: manager_core::request::ObjectRequest::Cancel
    pub fn take_request<S: ObjectState>(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Option<Waiter<T>> {
        let id = *self
            .by_connection
            .get(&connection)?
            .by_request
            .get(&request)?;
        self.take(id, ctx)
    }

    /// Request `request` of `connection`, if it is parked here.
    pub fn get_request(&self, connection: ConnectionId, request: RequestId) -> Option<&Waiter<T>> {
        let id = self
            .by_connection
            .get(&connection)?
            .by_request
            .get(&request)?;
        self.parked.get(id).map(Box::as_ref)
    }

    /// Takes request `request` of `connection` out and answers it
    /// [`ManagerError::Cancelled`](manager_core::ManagerError::Cancelled),
    /// for a kind whose parked requests hold nothing; `false` if it is not
    /// parked here.
    pub fn cancel<S: ObjectState>(
        &mut self,
        connection: ConnectionId,
        request: RequestId,
        ctx: &mut ObjectContext<'_, S>,
    ) -> bool {
        match self.take_request(connection, request, ctx) {
            Some(waiter) => {
                waiter
                    .caller
                    .reply(Err(manager_core::ManagerError::Cancelled));
                true
            }
            None => false,
        }
    }

    /// Takes every request of `connection` out, in arrival order.
    pub fn remove_connection<S: ObjectState>(
        &mut self,
        connection: ConnectionId,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Vec<Waiter<T>> {
        self.take_connection(connection, ctx)
            .into_iter()
            .map(|waiter| *waiter)
            .collect()
    }

    /// Drops every request of `connection`, unanswered (nobody is left to
    /// read the answers): as [`Waiters::remove_connection`], but the
    /// requests are freed off the actors' thread if there are many
    /// ([`crate::discard`]), and when they are all the parked requests the
    /// map goes there whole.
    pub fn drop_connection<S: ObjectState>(
        &mut self,
        connection: ConnectionId,
        ctx: &mut ObjectContext<'_, S>,
    ) where
        T: Send + 'static,
    {
        if self.by_connection.len() == 1 && self.by_connection.contains_key(&connection) {
            // All of them: the map goes to the dropper whole, not even
            // walked here.
            let ids = self
                .by_connection
                .remove(&connection)
                .unwrap_or_default()
                .ids;
            let parked = std::mem::take(&mut self.parked);
            ctx.remove_deadlines_of(&ids);
            let len = parked.len();
            discard(ids, len);
            discard(parked, len);
            return;
        }
        let removed = self.take_connection(connection, ctx);
        let len = removed.len();
        discard(removed, len);
    }

    /// Takes every request of `connection` out, in arrival order, still
    /// boxed.
    ///
    /// When they are all the parked requests, the map is taken whole; when
    /// they are a large share (more than one in [`REBUILD_SHARE`]), the
    /// map is rebuilt in one pass without them; otherwise they are taken
    /// out one by one, `O(log n)` each.
    fn take_connection<S: ObjectState>(
        &mut self,
        connection: ConnectionId,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Vec<Box<Waiter<T>>> {
        let Some(Parked { ids, .. }) = self.by_connection.remove(&connection) else {
            return Vec::new();
        };
        let removed: Vec<_> = if self.by_connection.is_empty() {
            std::mem::take(&mut self.parked).into_values().collect()
        } else if ids.len() > self.parked.len() / REBUILD_SHARE {
            // Both in id order: one merge, never reading a waiter (each
            // would be a cache miss).
            let mut ids = ids.iter().peekable();
            let mut removed = Vec::with_capacity(ids.len());
            let mut kept = Vec::with_capacity(self.parked.len() - ids.len());
            for (id, waiter) in std::mem::take(&mut self.parked) {
                if ids.next_if_eq(&&id).is_some() {
                    removed.push(waiter);
                } else {
                    kept.push((id, waiter));
                }
            }
            // Sorted already: the map is built in one pass.
            self.parked = kept.into_iter().collect();
            removed
        } else {
            ids.iter().filter_map(|id| self.parked.remove(id)).collect()
        };
        // Whichever is fewer: the object's deadlines, or these waiters.
        if ctx.deadline_count() <= removed.len() {
            ctx.remove_deadlines_of(&ids);
        } else {
            for waiter in &removed {
                waiter.forget_deadline(ctx);
            }
        }
        discard(ids, removed.len());
        removed
    }

    /// Takes every parked request, in arrival order.
    pub fn drain<S: ObjectState>(&mut self, ctx: &mut ObjectContext<'_, S>) -> Vec<Waiter<T>> {
        self.by_connection.clear();
        std::mem::take(&mut self.parked)
            .into_values()
            .map(|waiter| *waiter)
            .inspect(|waiter| waiter.forget_deadline(ctx))
            .collect()
    }

    /// How many are parked.
    pub fn len(&self) -> usize {
        self.parked.len()
    }

    /// Whether none is parked.
    pub fn is_empty(&self) -> bool {
        self.parked.is_empty()
    }

    /// The parked requests, in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &Waiter<T>> {
        self.parked.values().map(Box::as_ref)
    }

    /// Drops `waiter`, already out of `parked`, from the other indexes.
    fn unindex<S: ObjectState>(
        &mut self,
        waiter: Waiter<T>,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Waiter<T> {
        let connection = waiter.caller.connection;
        if let Some(mine) = self.by_connection.get_mut(&connection) {
            mine.ids.remove(&waiter.id);
            if mine.by_request.get(&waiter.caller.id) == Some(&waiter.id) {
                mine.by_request.remove(&waiter.caller.id);
            }
            if mine.ids.is_empty() {
                self.by_connection.remove(&connection);
            }
        }
        waiter.forget_deadline(ctx);
        waiter
    }
}

impl<T> Waiter<T> {
    /// Takes this waiter's deadline, if it has one, out of the object's.
    fn forget_deadline<S: ObjectState>(&self, ctx: &mut ObjectContext<'_, S>) {
        if let Some(deadline) = self.deadline {
            ctx.remove_deadline(deadline, self.id);
        }
    }
}

/// The deadlines of one object's timed waits, earliest first, and the one
/// timer armed to end them; see the module docs. The actor owns it, and
/// [`ObjectContext`] arms the timer.
#[derive(Debug, Default)]
pub(crate) struct Deadlines {
    /// Ties are broken by id, so by arrival.
    index: BTreeSet<(Instant, WaiterId)>,
    /// The armed timer and the deadline it is armed for.
    timer: Option<(Instant, SpawnHandle)>,
}

impl Deadlines {
    pub(crate) fn insert(&mut self, deadline: Instant, id: WaiterId) {
        self.index.insert((deadline, id));
    }

    pub(crate) fn remove(&mut self, deadline: Instant, id: WaiterId) {
        self.index.remove(&(deadline, id));
    }

    /// Takes out the earliest wait whose deadline is at or before `now`.
    pub(crate) fn pop_expired(&mut self, now: Instant) -> Option<WaiterId> {
        let &(deadline, id) = self.index.first()?;
        (deadline <= now).then(|| {
            self.index.pop_first();
            id
        })
    }

    /// The earliest deadline.
    pub(crate) fn earliest(&self) -> Option<Instant> {
        self.index.first().map(|&(deadline, _)| deadline)
    }

    /// Forgets the deadlines of the waiters in `ids`.
    pub(crate) fn remove_all_of(&mut self, ids: &BTreeSet<WaiterId>) {
        self.index.retain(|(_, id)| !ids.contains(id));
    }

    /// How many timed waits there are.
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there is no timed wait.
    pub(crate) fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The deadline the timer is armed for, if it is armed.
    pub(crate) fn armed_for(&self) -> Option<Instant> {
        self.timer.map(|(at, _)| at)
    }

    /// Forgets the timer (it has fired, or is being stopped) and returns it.
    pub(crate) fn disarm(&mut self) -> Option<SpawnHandle> {
        self.timer.take().map(|(_, handle)| handle)
    }

    /// Records the timer armed for `deadline`.
    pub(crate) fn armed(&mut self, deadline: Instant, handle: SpawnHandle) {
        self.timer = Some((deadline, handle));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use actix::Actor;
    use manager_core::reply::Reply;
    use manager_core::request::{LockRequest, ObjectRequest, Owner, Wait};
    use manager_core::{ObjectId, ObjectKind, ObjectName};

    use super::*;
    use crate::actor::ObjectActor;
    use crate::object::{ConnectionClosed, ObjectHandle, ObjectStats};
    use crate::objects::testing::Conn;

    /// What [`Probe`] saw, shared with the test.
    #[derive(Debug, Default)]
    struct Log {
        /// Every park's id, in order.
        parked: Vec<WaiterId>,
        /// The data of each wait that ended, in order.
        timed_out: Vec<u64>,
        /// How many deadlines the object had, and the deadline its timer
        /// was armed for, after the last request.
        deadlines: usize,
        armed_for: Option<Instant>,
    }

    /// A state that only parks, speaking the lock's requests: `Acquire`
    /// parks (its data is its request id), `NWaiting` serves the front
    /// one, `Release` of owner `n` takes the `n`-th park by id, and
    /// `IsLocked` does nothing but let the state record the object's
    /// deadlines.
    #[derive(Debug)]
    struct Probe {
        waiters: Waiters<u64>,
        log: Arc<Mutex<Log>>,
    }

    impl Probe {
        fn record(&self, ctx: &ObjectContext<'_, Self>) {
            let mut log = self.log.lock().unwrap();
            log.deadlines = ctx.deadlines().len();
            log.armed_for = ctx.deadlines().armed_for();
        }
    }

    impl ObjectState for Probe {
        type Request = LockRequest;

        fn handle(
            &mut self,
            request: LockRequest,
            caller: Caller,
            ctx: &mut ObjectContext<'_, Self>,
        ) {
            match request {
                LockRequest::Acquire { wait, .. } => {
                    let data = caller.id.0;
                    if let Some(id) = self.waiters.park(caller, data, wait, ctx) {
                        self.log.lock().unwrap().parked.push(id);
                    }
                }
                // The request's own reply goes first, then the served one's.
                LockRequest::NWaiting => {
                    caller.reply(Ok(Reply::Done));
                    if let Some(waiter) = self.waiters.pop_front(ctx) {
                        waiter.caller.reply(Ok(Reply::Bool(true)));
                    }
                }
                LockRequest::Release { owner } => {
                    caller.reply(Ok(Reply::Done));
                    let id = self.log.lock().unwrap().parked[owner.0 as usize];
                    if let Some(waiter) = self.waiters.take(id, ctx) {
                        assert_eq!(waiter.id, id);
                        waiter.caller.reply(Ok(Reply::Bool(true)));
                    }
                }
                _ => caller.reply(Ok(Reply::Done)),
            }
            self.record(ctx);
        }

        fn timed_out(&mut self, waiter: WaiterId, ctx: &mut ObjectContext<'_, Self>) {
            let waiter = self
                .waiters
                .take(waiter, ctx)
                .expect("only a parked wait ends");
            self.log.lock().unwrap().timed_out.push(waiter.data);
            waiter.caller.reply(Ok(Reply::Bool(false)));
            self.record(ctx);
        }

        fn connection_closed(
            &mut self,
            connection: ConnectionId,
            ctx: &mut ObjectContext<'_, Self>,
        ) {
            self.waiters.drop_connection(connection, ctx);
            self.record(ctx);
        }
    }

    /// A started probe object and its log.
    fn probe() -> (ObjectHandle, Arc<Mutex<Log>>) {
        let log = Arc::new(Mutex::new(Log::default()));
        let stats = Arc::new(ObjectStats::new());
        let state = Probe {
            waiters: Waiters::default(),
            log: log.clone(),
        };
        let actor = ObjectActor::new(
            ObjectId(1),
            ObjectName::new("probe").unwrap(),
            ObjectKind::Lock,
            state,
            stats.clone(),
        )
        .start();
        let handle = ObjectHandle {
            id: ObjectId(1),
            kind: ObjectKind::Lock,
            mailbox: actor.clone().recipient(),
            closed: actor.clone().recipient(),
            report: actor.recipient(),
            stats,
        };
        (handle, log)
    }

    fn wait_for(after: Duration) -> ObjectRequest {
        ObjectRequest::Lock(LockRequest::Acquire {
            owner: Owner(0),
            wait: Wait::For(after),
        })
    }

    const FOREVER: ObjectRequest = ObjectRequest::Lock(LockRequest::Acquire {
        owner: Owner(0),
        wait: Wait::Forever,
    });
    const SERVE_FRONT: ObjectRequest = ObjectRequest::Lock(LockRequest::NWaiting);
    const RECORD: ObjectRequest = ObjectRequest::Lock(LockRequest::IsLocked);

    fn take_nth(n: u64) -> ObjectRequest {
        ObjectRequest::Lock(LockRequest::Release { owner: Owner(n) })
    }

    /// The object's deadline count and armed deadline, once it has handled
    /// every earlier request of `conn`.
    async fn deadlines(
        conn: &mut Conn,
        object: &ObjectHandle,
        log: &Mutex<Log>,
    ) -> (usize, Option<Instant>) {
        conn.call(object, RECORD).await.unwrap();
        let log = log.lock().unwrap();
        (log.deadlines, log.armed_for)
    }

    #[test]
    fn deadlines_end_earliest_first_and_ties_in_arrival_order() {
        let mut deadlines = Deadlines::default();
        let t = Instant::now();
        let (a, b, c, d) = (WaiterId(10), WaiterId(11), WaiterId(12), WaiterId(13));
        deadlines.insert(t + Duration::from_secs(2), a);
        deadlines.insert(t + Duration::from_secs(1), c);
        deadlines.insert(t + Duration::from_secs(1), b);
        deadlines.insert(t + Duration::from_secs(3), d);
        deadlines.remove(t + Duration::from_secs(3), d);
        assert_eq!(deadlines.earliest(), Some(t + Duration::from_secs(1)));
        assert_eq!(deadlines.pop_expired(t), None, "nothing has passed yet");
        let later = t + Duration::from_secs(2);
        let ended: Vec<_> = std::iter::from_fn(|| deadlines.pop_expired(later)).collect();
        assert_eq!(ended, [b, c, a]);
        assert!(deadlines.is_empty());
    }

    #[actix::test]
    async fn timed_waits_end_in_deadline_order() {
        let (object, log) = probe();
        let mut conn = Conn::new(1);
        let slow = conn.send(&object, wait_for(Duration::from_secs(1))).await;
        let fast = conn
            .send(&object, wait_for(Duration::from_millis(20)))
            .await;
        let forever = conn.send(&object, FOREVER).await;
        let middle = conn
            .send(&object, wait_for(Duration::from_millis(500)))
            .await;
        for expected in [fast, middle, slow] {
            assert_eq!(conn.later(expected).await, Ok(Reply::Bool(false)));
        }
        assert_eq!(log.lock().unwrap().timed_out, [fast.0, middle.0, slow.0]);
        assert_eq!(
            deadlines(&mut conn, &object, &log).await,
            (0, None),
            "no deadline and no timer left once the timed waits ended"
        );
        // The wait without a deadline is still parked.
        assert_eq!(conn.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
        let served = conn.next().await;
        assert_eq!((served.id, served.result), (forever, Ok(Reply::Bool(true))));
    }

    #[actix::test]
    async fn an_earlier_deadline_rearms_the_timer() {
        let (object, log) = probe();
        let mut conn = Conn::new(1);
        conn.send(&object, wait_for(Duration::from_secs(600))).await;
        let (n, late) = deadlines(&mut conn, &object, &log).await;
        let late = late.expect("armed for the only deadline");
        assert_eq!(n, 1);

        let early = conn
            .send(&object, wait_for(Duration::from_millis(20)))
            .await;
        let (n, armed) = deadlines(&mut conn, &object, &log).await;
        assert_eq!(n, 2);
        assert!(armed.expect("armed") < late, "armed for the earlier one");

        assert_eq!(conn.later(early).await, Ok(Reply::Bool(false)));
        assert_eq!(
            deadlines(&mut conn, &object, &log).await,
            (1, Some(late)),
            "armed again for the next deadline once the earlier one ended"
        );

        // A later deadline does not move the timer.
        conn.send(&object, wait_for(Duration::from_secs(900))).await;
        assert_eq!(deadlines(&mut conn, &object, &log).await, (2, Some(late)));
    }

    /// A closed connection's requests leave, whatever their share of the
    /// parked ones (one by one, the map rebuilt, the map taken whole),
    /// and the others stay in arrival order with their deadlines.
    #[actix::test]
    async fn a_closed_connections_requests_leave_whatever_their_share() {
        let (object, log) = probe();
        let (mut a, mut b, mut c) = (Conn::new(1), Conn::new(2), Conn::new(3));
        let long = Duration::from_secs(600);
        let mut kept = Vec::new();
        for i in 0..40 {
            if i % 4 == 0 {
                kept.push(a.send(&object, wait_for(long)).await);
            } else {
                b.send(&object, wait_for(long)).await;
            }
            if i == 20 {
                c.send(&object, FOREVER).await;
            }
        }
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 40);
        // One of 41: taken out by id.
        c.close(&[&object]).await;
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 40);
        // 30 of 40: the map is rebuilt without them.
        b.close(&[&object]).await;
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 10);
        for expected in kept.drain(..5) {
            assert_eq!(a.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
            assert_eq!(a.next().await.id, expected);
        }
        // All that are left: the map goes whole.
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 5);
        a.close(&[&object]).await;
        let mut e = Conn::new(5);
        assert_eq!(deadlines(&mut e, &object, &log).await, (0, None));
        assert_eq!(e.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
        e.nothing();
    }

    #[actix::test]
    async fn take_and_remove_keep_the_deadlines_in_step() {
        let (object, log) = probe();
        let (mut a, mut b) = (Conn::new(1), Conn::new(2));
        let long = Duration::from_secs(600);
        // Parks 0 to 5: a, b, a (forever), b, a, a (`Wait::No`).
        let a0 = a.send(&object, wait_for(long)).await;
        b.send(&object, wait_for(long)).await;
        let a2 = a.send(&object, FOREVER).await;
        b.send(&object, wait_for(long)).await;
        let a4 = a.send(&object, wait_for(long)).await;
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 4);

        // `Wait::No`, parked anyway, ends at once.
        let now = a
            .send(
                &object,
                ObjectRequest::Lock(LockRequest::Acquire {
                    owner: Owner(0),
                    wait: Wait::No,
                }),
            )
            .await;
        assert_eq!(a.later(now).await, Ok(Reply::Bool(false)));
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 4);

        // Taken by id.
        assert_eq!(a.call(&object, take_nth(4)).await, Ok(Reply::Done));
        let taken = a.next().await;
        assert_eq!((taken.id, taken.result), (a4, Ok(Reply::Bool(true))));
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 3);
        // Taken again: nothing there, nothing changes.
        assert_eq!(a.call(&object, take_nth(4)).await, Ok(Reply::Done));
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 3);

        // Removed with its connection: both of b's.
        b.close(&[&object]).await;
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 1);

        // Served from the front, in arrival order.
        for expected in [a0, a2] {
            assert_eq!(a.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
            let served = a.next().await;
            assert_eq!(
                (served.id, served.result),
                (expected, Ok(Reply::Bool(true)))
            );
        }
        assert_eq!(
            deadlines(&mut a, &object, &log).await,
            (0, None),
            "no timer left once nothing is parked"
        );
        assert!(
            log.lock().unwrap().timed_out.len() == 1,
            "only `Wait::No` ended"
        );
        a.close(&[&object]).await;
        // The object is still well: a connection with nothing parked closes.
        object
            .closed
            .send(ConnectionClosed(ConnectionId(3)))
            .await
            .unwrap();
    }

    #[actix::test]
    async fn many_timed_waits_end_in_arrival_order() {
        let (object, log) = probe();
        let mut conn = Conn::new(1);
        let n = 2_000;
        let mut ids = Vec::new();
        for _ in 0..n {
            ids.push(
                conn.send(&object, wait_for(Duration::from_millis(50)))
                    .await,
            );
        }
        for id in &ids {
            assert_eq!(conn.later(*id).await, Ok(Reply::Bool(false)));
        }
        let ids: Vec<_> = ids.iter().map(|id| id.0).collect();
        assert_eq!(log.lock().unwrap().timed_out, ids, "in arrival order");
        assert_eq!(deadlines(&mut conn, &object, &log).await, (0, None));
    }

    #[actix::test]
    async fn parked_requests_are_capped_per_connection_and_counted_until_they_leave() {
        let (object, log) = probe();
        let (other, _other_log) = probe();
        let (mut a, mut b) = (Conn::with_max_parked(1, 3), Conn::new(2));
        let long = Duration::from_secs(600);
        // Parks 0 to 2 (the third on another object): a's three.
        let a0 = a.send(&object, wait_for(long)).await;
        let a1 = a.send(&object, FOREVER).await;
        let on_other = a.send(&other, FOREVER).await;
        assert_eq!(a.sink().parked(), 3);
        // The fourth is refused at once, and nothing is parked for it.
        let limit = Err(manager_core::ManagerError::LimitReached {
            what: "parked requests on this connection".into(),
            max: 3,
        });
        assert_eq!(a.call(&object, wait_for(long)).await, limit);
        assert_eq!(a.call(&object, FOREVER).await, limit);
        assert_eq!(deadlines(&mut a, &object, &log).await.0, 1);
        assert_eq!(log.lock().unwrap().parked.len(), 2);
        // Another connection parks as before.
        b.send(&object, FOREVER).await;
        b.send(&object, wait_for(Duration::from_millis(10))).await;
        assert_eq!(b.sink().parked(), 2);

        // Served from the front: a's place is free before its answer comes.
        assert_eq!(b.call(&object, SERVE_FRONT).await, Ok(Reply::Done));
        let served = a.next().await;
        assert_eq!((served.id, served.result), (a0, Ok(Reply::Bool(true))));
        assert_eq!(a.sink().parked(), 2);
        // Taken by id (park 1 is a1).
        assert_eq!(b.call(&object, take_nth(1)).await, Ok(Reply::Done));
        let taken = a.next().await;
        assert_eq!((taken.id, taken.result), (a1, Ok(Reply::Bool(true))));
        assert_eq!(a.sink().parked(), 1);
        // Timed out: b's short wait.
        assert_eq!(b.next().await.result, Ok(Reply::Bool(false)));
        assert_eq!(b.sink().parked(), 1);

        // a parks up to its cap again, then its connection closes.
        a.send(&object, FOREVER).await;
        a.send(&object, wait_for(long)).await;
        assert_eq!(a.sink().parked(), 3);
        assert_eq!(a.call(&other, FOREVER).await, limit);
        assert_eq!(a.call(&other, take_nth(0)).await, Ok(Reply::Done));
        let freed = a.next().await;
        assert_eq!((freed.id, freed.result), (on_other, Ok(Reply::Bool(true))));
        assert_eq!(a.sink().parked(), 2);
        object
            .closed
            .send(ConnectionClosed(ConnectionId(1)))
            .await
            .unwrap();
        assert_eq!(a.sink().parked(), 0, "dropped with its connection");
        assert_eq!(b.sink().parked(), 1, "b's wait stays");
    }

    /// Not a test but a measurement (`cargo test --release -p
    /// manager-actors --lib measure_ -- --ignored --nocapture`): parks
    /// 40,000 timed gets on one queue in one batch, so their deadlines lie
    /// within the few milliseconds it takes to park them, and times a `len`
    /// on that queue and on another while they are parked and while they
    /// end. Everything runs on one thread, as the manager's actors do, so
    /// a probe's latency is how long the actor thread was busy.
    #[actix::test]
    #[ignore = "a measurement, not a test"]
    async fn measure_expiry_of_40k_timed_gets() {
        use manager_core::ObjectSpec;
        use manager_core::request::QueueRequest;

        use crate::objects::testing::Harness;

        const N: usize = 40_000;
        const WAIT: Duration = Duration::from_millis(1500);
        let h = Harness::new();
        let spec = ObjectSpec::Queue { maxsize: None };
        let burst = h.object("burst", spec.clone()).await;
        let other = h.object("other", spec).await;
        let (mut waiter, mut prober) = (Conn::new(1), Conn::new(2));
        let len = || ObjectRequest::Queue(QueueRequest::Len);
        let mut probe = async |object: &ObjectHandle| {
            let start = Instant::now();
            prober.call(object, len()).await.unwrap();
            start.elapsed()
        };
        let summary = |mut v: Vec<Duration>| {
            v.sort_unstable();
            format!(
                "n={:<6} median {:>10.3?}  max {:>10.3?}",
                v.len(),
                v[v.len() / 2],
                v[v.len() - 1]
            )
        };

        let start = Instant::now();
        let gets = (0..N)
            .map(|_| {
                ObjectRequest::Queue(QueueRequest::Get {
                    wait: Wait::For(WAIT),
                })
            })
            .collect();
        waiter.send_batch(&burst, gets).await;
        let parked = start.elapsed();

        let (mut same, mut another) = (Vec::new(), Vec::new());
        for _ in 0..200 {
            same.push(probe(&burst).await);
            another.push(probe(&other).await);
        }
        println!("{N} timed gets parked in one batch in {parked:.3?}");
        println!("all parked, len on the same queue:  {}", summary(same));
        println!("all parked, len on another queue:   {}", summary(another));
        assert!(start.elapsed() < WAIT, "the probes ran into the expiry");

        let (mut same, mut another) = (Vec::new(), Vec::new());
        let (mut ended, mut first, mut last) = (0, None, start);
        while ended < N {
            same.push(probe(&burst).await);
            another.push(probe(&other).await);
            while let Some(reply) = waiter.ready() {
                assert!(reply.result.is_err(), "a get ended with an item");
                ended += 1;
                first.get_or_insert_with(Instant::now);
                last = Instant::now();
            }
        }
        let first = first.unwrap_or(last);
        println!(
            "expiry: the first Empty {:.3?} after the batch's first deadline; \
             all {N} within {:.3?} of the first",
            first.saturating_duration_since(start + WAIT),
            last - first
        );
        println!("expiring, len on the same queue:    {}", summary(same));
        println!("expiring, len on another queue:     {}", summary(another));
    }
}
