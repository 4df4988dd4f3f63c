//! [`Threads`]: the threads a manager's objects and connections run on,
//! and which of them each new one gets.
//!
//! A manager asked for `n` threads (see [`ActorSystem::start`]) runs its
//! objects and connections on `n` actix arbiters, numbered 1 to `n`, and
//! keeps the actor system's own thread (number 0) for the registry and the
//! accept loop alone, so that no busy object or connection can hold up
//! creating, finding or connecting for everyone. Each new connection's
//! tasks go to the arbiter with the fewest live connections (the next in
//! turn among equals), and each new object's actor starts
//! on the thread of the connection that creates it (the next in turn when
//! no connection does), so `n` clients busy with objects of their own use
//! `n` cores, and a client's calls to its own objects never hop between
//! threads. With `n = 1` there is no arbiter: everything shares the
//! system's thread, as a single-threaded manager does.
//!
//! # Shared objects
//!
//! A call from a connection on one thread to an object on another costs
//! two hops between threads (the request to the object's mailbox, the
//! reply to the connection's writer). Objects that every worker uses (a
//! shared counter, a work queue) are reached that way by most connections:
//! on a machine with idle cores the hops overlap with other work, but on
//! one with fewer cores than busy threads they cost; see
//! docs/benchmarks.md for both, and set the manager's threads to 1 for a
//! workload of one hot object.
//!
//! # Ordering
//!
//! An actor lives on one thread for its whole life and takes its mailbox in
//! order, so one object applies one connection's requests in the order they
//! were sent, whatever thread the connection runs on. Requests to
//! *different* objects were never ordered against each other (each object
//! has its own mailbox) and are not now.
//!
//! # Why this placement
//!
//! An object's thread is chosen when it is created and never changes: moving
//! a live actor would mean handing its mailbox over mid-stream. Counting
//! live connections keeps them even as clients come and go (turns alone
//! would put a newcomer beside a long-lived client while another thread
//! sits empty), and objects follow their creators, which is
//! what matters when clients work on objects of their own; one object that
//! is hotter than all the others still runs on one thread, as it must to
//! keep its requests in order.
//!
//! [`ActorSystem::start`]: crate::system::ActorSystem::start

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix::{Actor, Addr, Context};
use actix_rt::ArbiterHandle;

/// The threads of one manager, shared by its registry (which places
/// objects) and its server (which places connections). Cheap to clone.
#[derive(Debug, Clone)]
pub struct Threads {
    inner: Arc<Inner>,
}

/// [`Threads::current_only`].
impl Default for Threads {
    fn default() -> Self {
        Self::current_only()
    }
}

#[derive(Debug)]
struct Inner {
    /// The threads besides the system's own (thread 0).
    others: Vec<ArbiterHandle>,
    /// The thread the next object goes to, counted without end.
    next_object: AtomicUsize,
    /// Where the search for the next connection's thread starts.
    next_connection: AtomicUsize,
    /// Live connections per placement thread (one entry per arbiter, or
    /// one for the system's thread when it is the only one).
    connections: Box<[AtomicUsize]>,
}

impl Inner {
    /// The entry of `connections` for thread `at`.
    fn slot(&self, at: ThreadIndex) -> usize {
        at.0.saturating_sub(1)
    }
}

/// A connection's place on one of the threads (see
/// [`Threads::seat_connection`]); dropping it frees the place.
#[derive(Debug)]
pub struct Seat {
    inner: Arc<Inner>,
    at: ThreadIndex,
}

impl Seat {
    /// The thread this seat is on.
    pub fn at(&self) -> ThreadIndex {
        self.at
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.inner.connections[self.inner.slot(self.at)].fetch_sub(1, Ordering::Relaxed);
    }
}

/// One of a manager's threads: `0` is the actor system's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ThreadIndex(pub usize);

impl Threads {
    /// Only the current thread: every object and connection runs where the
    /// registry does (the registry must be started on this thread).
    pub fn current_only() -> Self {
        Self::new(Vec::new())
    }

    /// The current thread (the actor system's, index 0, kept for the
    /// registry when there are others) and `others`, which hold the
    /// objects and connections (indexes 1 to `others.len()`).
    pub fn new(others: Vec<ArbiterHandle>) -> Self {
        let connections = (0..others.len().max(1))
            .map(|_| AtomicUsize::new(0))
            .collect();
        Threads {
            inner: Arc::new(Inner {
                others,
                next_object: AtomicUsize::new(0),
                next_connection: AtomicUsize::new(0),
                connections,
            }),
        }
    }

    /// How many threads hold objects and connections: the arbiters, or the
    /// system's own thread if there is none.
    pub fn len(&self) -> usize {
        self.inner.others.len().max(1)
    }

    /// Always `false`: there is at least one thread.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether objects and connections may be placed on `at`.
    pub fn holds(&self, at: ThreadIndex) -> bool {
        if self.inner.others.is_empty() {
            at.0 == 0
        } else {
            (1..=self.inner.others.len()).contains(&at.0)
        }
    }

    /// The `k`-th placement thread, counted without end.
    fn nth(&self, k: usize) -> ThreadIndex {
        if self.inner.others.is_empty() {
            ThreadIndex(0)
        } else {
            ThreadIndex(1 + k % self.inner.others.len())
        }
    }

    /// The thread for the next object created without a connection.
    pub fn next_for_object(&self) -> ThreadIndex {
        self.nth(self.inner.next_object.fetch_add(1, Ordering::Relaxed))
    }

    /// A seat for a new connection on the thread with the fewest live
    /// connections (the next in turn among equals). The connection counts
    /// there until the seat is dropped, so hold it for the connection's
    /// whole life.
    pub fn seat_connection(&self) -> Seat {
        let inner = &self.inner;
        let first = inner.next_connection.fetch_add(1, Ordering::Relaxed);
        let at = (0..self.len())
            .map(|k| self.nth(first.wrapping_add(k)))
            .min_by_key(|&at| inner.connections[inner.slot(at)].load(Ordering::Relaxed))
            .unwrap_or(ThreadIndex(0));
        inner.connections[inner.slot(at)].fetch_add(1, Ordering::Relaxed);
        Seat {
            inner: self.inner.clone(),
            at,
        }
    }

    /// How many live connections hold a seat on thread `at`.
    pub fn connections_on(&self, at: ThreadIndex) -> usize {
        if !self.holds(at) {
            return 0;
        }
        self.inner.connections[self.inner.slot(at)].load(Ordering::Relaxed)
    }

    /// Starts `actor` on thread `at`. Thread 0 is the calling thread, which
    /// must be the actor system's (the registry's).
    pub fn start<A>(&self, at: ThreadIndex, actor: A) -> Addr<A>
    where
        A: Actor<Context = Context<A>> + Send,
    {
        match at.0.checked_sub(1).and_then(|i| self.inner.others.get(i)) {
            Some(arbiter) => A::start_in_arbiter(arbiter, move |_| actor),
            None => actor.start(),
        }
    }

    /// Runs the future `make` builds on thread `at`, building it there, so
    /// the future need not be `Send` (only `make` must be). Thread 0 is the
    /// calling thread, which must be the actor system's. `false` if that
    /// thread has stopped (the manager is shutting down); `make` is then
    /// dropped.
    pub fn spawn<M, F>(&self, at: ThreadIndex, make: M) -> bool
    where
        M: FnOnce() -> F + Send + 'static,
        F: Future<Output = ()> + 'static,
    {
        match at.0.checked_sub(1).and_then(|i| self.inner.others.get(i)) {
            Some(arbiter) => arbiter.spawn_fn(move || {
                actix_rt::spawn(make());
            }),
            None => {
                actix_rt::spawn(make());
                true
            }
        }
    }
}
