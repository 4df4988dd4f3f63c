//! [`Waiters`]: requests parked in an object's state until they can proceed.
//!
//! A waiting operation never blocks an actor: the object parks the caller
//! here and goes on serving others. A parked request leaves when the object
//! serves it (in arrival order), when its [`Wait`] ends (the object's
//! [`crate::actor::ObjectState::timed_out`] is
//! called with its [`WaiterId`]), or when its connection closes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use actix::{AsyncContext, SpawnHandle};
use manager_core::request::Wait;

use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};

/// Names one parked request, unique in the whole manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WaiterId(u64);

impl WaiterId {
    fn next() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        WaiterId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// One parked request with what the object needs to serve it later.
#[derive(Debug)]
pub struct Waiter<T> {
    /// Its id, as passed to `timed_out`.
    pub id: WaiterId,
    /// Who is waiting; reply through it.
    pub caller: Caller,
    /// What the object keeps with it (an item to put, a lock count, ...).
    pub data: T,
    timer: Option<SpawnHandle>,
}

/// Parked requests in arrival order.
#[derive(Debug)]
pub struct Waiters<T> {
    queue: VecDeque<Waiter<T>>,
}

impl<T> Default for Waiters<T> {
    fn default() -> Self {
        Waiters {
            queue: VecDeque::new(),
        }
    }
}

impl<T> Waiters<T> {
    /// Parks `caller` at the back. A [`Wait::For`] starts a timer that calls
    /// the state's `timed_out` with the returned id; [`Wait::Forever`] has no
    /// timer. Callers handle [`Wait::No`] themselves before parking; parking
    /// one anyway times it out at once.
    pub fn park<S: ObjectState>(
        &mut self,
        caller: Caller,
        data: T,
        wait: Wait,
        ctx: &mut ObjectContext<'_, S>,
    ) -> WaiterId {
        let id = WaiterId::next();
        let timer = match wait {
            Wait::Forever => None,
            Wait::For(after) => Some(ctx.timer(after, id)),
            Wait::No => Some(ctx.timer(std::time::Duration::ZERO, id)),
        };
        self.queue.push_back(Waiter {
            id,
            caller,
            data,
            timer,
        });
        id
    }

    /// Takes the longest-waiting request whose connection is still open
    /// (those of closed connections are dropped on the way), and stops its
    /// timer.
    pub fn pop_front<S: ObjectState>(
        &mut self,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Option<Waiter<T>> {
        while let Some(waiter) = self.queue.pop_front() {
            let waiter = Self::stop_timer(waiter, ctx);
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
        let index = self.queue.iter().position(|w| w.id == id)?;
        let waiter = self.queue.remove(index)?;
        Some(Self::stop_timer(waiter, ctx))
    }

    /// Drops every request of `connection`; returns how many there were.
    pub fn remove_connection<S: ObjectState>(
        &mut self,
        connection: ConnectionId,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Vec<Waiter<T>> {
        let (gone, kept): (VecDeque<_>, VecDeque<_>) = std::mem::take(&mut self.queue)
            .into_iter()
            .partition(|w| w.caller.connection == connection);
        self.queue = kept;
        gone.into_iter().map(|w| Self::stop_timer(w, ctx)).collect()
    }

    /// Takes every parked request, in arrival order.
    pub fn drain<S: ObjectState>(&mut self, ctx: &mut ObjectContext<'_, S>) -> Vec<Waiter<T>> {
        std::mem::take(&mut self.queue)
            .into_iter()
            .map(|w| Self::stop_timer(w, ctx))
            .collect()
    }

    /// How many are parked.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether none is parked.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The parked requests, in arrival order.
    pub fn iter(&self) -> impl Iterator<Item = &Waiter<T>> {
        self.queue.iter()
    }

    fn stop_timer<S: ObjectState>(
        mut waiter: Waiter<T>,
        ctx: &mut ObjectContext<'_, S>,
    ) -> Waiter<T> {
        if let Some(timer) = waiter.timer.take() {
            ctx.actix().cancel_future(timer);
        }
        waiter
    }
}
