//! Settling give-ups on a connection whose replies are read only while
//! one of its calls runs, as a blocking client's are
//! ([`Connection::settle_give_ups`]).
//!
//! A call that gives up on a request that may take something (a lock, a
//! unit, an item) sends its cancel, and what the manager answers, the
//! cancel or a grant that crossed it, must be read: a grant is given back
//! only once it is read. Where a reader task runs all the time this
//! happens on its own. Where the runtime runs only inside calls, two
//! things see to it:
//!
//! - the call that gives up waits out its cancel, a little
//!   ([`GIVE_UP_WAIT`](super::GIVE_UP_WAIT) at most; see `call.rs`), so
//!   that in the common case the grant is given back before the call
//!   returns, ahead of any later request of its caller;
//! - should the manager answer later than that (it is busy), or should
//!   bytes be left to write when the call returns (a large give-back, or
//!   a request the socket took only part of, to a manager that does not
//!   read), the *settler*, a thread of its own, drives the connection's
//!   runtime until every given-up call has its answer and every byte is
//!   written, then ends. So an idle client holds nothing it does not know
//!   of, and leaves no frame half-written, for however long the manager
//!   takes.
//!
//! # Bounds
//!
//! One settler at most runs per connection, and only while a given-up
//! call waits for its answer or bytes wait to be written. It ends as soon as none is left, when the
//! connection closes (the manager gone: it then releases what the
//! connection held), when every handle on the connection is dropped, or
//! when the runtime is gone. It keeps no handle on the connection: only
//! the runtime stays alive while it runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use tokio::runtime::Runtime;
use tokio::sync::Notify;

use super::Inner;
use super::pending::Pending;

/// What a connection that settles its give-ups keeps for its settler.
pub(super) struct Settler {
    /// The runtime the connection's tasks run on, which the settler
    /// drives.
    runtime: Weak<Runtime>,
    /// Whether a settler thread runs now.
    running: AtomicBool,
}

impl Settler {
    pub(super) fn new(runtime: &Arc<Runtime>) -> Self {
        Settler {
            runtime: Arc::downgrade(runtime),
            running: AtomicBool::new(false),
        }
    }

    /// Whether a settler thread runs now.
    #[cfg(test)]
    pub(super) fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }
}

/// Called where a call gives up, and after a request is sent with no call
/// to wait for its reply (a cancel, a give-back): on a connection that
/// settles its give-ups, starts the settler if something is left for the
/// connection's tasks once no call runs (a given-up call's answer to read,
/// bytes queued to write) and it does not run yet.
pub(super) fn settle_later(inner: &Arc<Inner>) {
    let Some(settler) = inner.settler.get() else {
        return;
    };
    if is_settled(inner) || settler.running.swap(true, Ordering::AcqRel) {
        return;
    }
    let connection = Arc::downgrade(inner);
    let runtime = settler.runtime.clone();
    let spawned = std::thread::Builder::new()
        .name("manager-settle".into())
        .spawn(move || settle(&connection, &runtime));
    if let Err(e) = spawned {
        // The next call reads the answer instead, as without a settler.
        settler.running.store(false, Ordering::Release);
        tracing::warn!(error = %e, "cannot start a thread to settle a given-up call");
    }
}

/// The settler's thread: drives the runtime until nothing is unsettled.
fn settle(connection: &Weak<Inner>, runtime: &Weak<Runtime>) {
    loop {
        let Some(inner) = connection.upgrade() else {
            return;
        };
        let settled = inner.settled.clone();
        drop(inner);
        // Gone: nothing can be driven (and its shutdown closed the
        // connection); looping on would spin.
        let Some(runtime) = runtime.upgrade() else {
            return;
        };
        runtime.block_on(until_settled(connection, &settled));
        drop(runtime);
        // Another call may have given up after the last look and found
        // this thread still running: look once more after saying it ends.
        let Some(inner) = connection.upgrade() else {
            return;
        };
        let Some(settler) = inner.settler.get() else {
            return;
        };
        settler.running.store(false, Ordering::Release);
        if !is_settled(&inner) && !settler.running.swap(true, Ordering::AcqRel) {
            continue;
        }
        return;
    }
}

/// Whether no given-up call waits for its answer and no give-back waits
/// to be written, or the connection is closed.
fn is_settled(inner: &Inner) -> bool {
    let unanswered = match &*inner.pending.lock().expect("pending map poisoned") {
        Pending::Open { abandoned, .. } => abandoned.len(),
        Pending::Closed(_) => return true,
    };
    unanswered == 0 && !inner.outbox.is_flushing()
}

/// Resolves once the connection is settled, closed, or dropped. Every
/// change that may settle it notifies `settled`: an abandoned call's
/// answer read, the outbox emptied, the connection closed or dropped.
async fn until_settled(connection: &Weak<Inner>, settled: &Notify) {
    loop {
        let notified = settled.notified();
        tokio::pin!(notified);
        // Registered before the look, so a change right after it wakes us.
        notified.as_mut().enable();
        match connection.upgrade() {
            Some(inner) if !is_settled(&inner) => {}
            _ => return,
        }
        notified.await;
    }
}
