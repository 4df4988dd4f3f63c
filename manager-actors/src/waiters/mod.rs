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
//! The deadlines of timed waits are kept per object in `Deadlines`
//! (`deadlines.rs`): one timer per object, however many waits.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use manager_core::request::{RequestId, Wait};

use crate::actor::{ObjectContext, ObjectState};
use crate::discard::discard;
use crate::object::{Caller, ConnectionId};

mod deadlines;

pub(crate) use deadlines::Deadlines;

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

    /// The longest-waiting request, left parked, whether or not its
    /// connection is still open (the state decides what a gone one's data
    /// becomes): for a request served in parts, such as a bulk put that
    /// enters as room appears.
    pub fn front_mut(&mut self) -> Option<&mut Waiter<T>> {
        self.parked.values_mut().next().map(Box::as_mut)
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

#[cfg(test)]
mod tests;
