//! [`Mode`]: whether the calls of a client and its proxies are awaited
//! ([`Async`]) or run to their end on the calling thread ([`Blocking`]).
//!
//! Every proxy method is written once, as a future, and the handle's mode
//! decides what the caller gets: an async handle (`Namespace`, which is
//! `Namespace<Async>`) returns the future, to be awaited; a blocking one
//! (`blocking::Namespace`, which is `Namespace<Blocking>`) runs it on the
//! calling thread and returns its result. So the two APIs cannot drift
//! apart: they are the same methods.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let manager = manager::Manager::start()?;
//!
//! // Blocking: plain threads, no runtime in sight.
//! let ns = manager.connect()?.namespace("stats")?;
//! assert_eq!(ns.add("hits", 1)?, 1);
//!
//! // Async: the same method, awaited.
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! runtime.block_on(async {
//!     let ns = manager.connect_async().await?.namespace("stats").await?;
//!     assert_eq!(ns.add("hits", 1).await?, 2);
//!     Ok::<_, manager::Error>(())
//! })?;
//! # Ok(())
//! # }
//! ```
//!
//! # How a blocking call runs
//!
//! A blocking client owns a current-thread tokio runtime. A call runs its
//! future on that runtime from the calling thread: it writes its request,
//! reads replies and wakes itself there. Several threads may share one
//! blocking client; one of them reads for all.
//!
//! Replies are read only while a call runs, so a call that gives up at its
//! deadline on a request that may take something (a lock, a unit, an item)
//! first waits out the cancel it sends, no longer than its deadline again
//! ([`GIVE_UP_WAIT`](manager_ipc::connection::GIVE_UP_WAIT) at most): a
//! grant that crossed the cancel is given back before the call returns,
//! not at the client's next call. Should the manager answer later than
//! that (it is busy), a thread of the client's drives the runtime until
//! the answer is read and what it took given back, then ends; meanwhile
//! the client's calls work as before.
//!
//! # Inside an async runtime
//!
//! Blocking inside an async context of a tokio runtime (a task, or the
//! future a `block_on` runs, such as the body of `#[tokio::main]`) would
//! stall the runtime's thread, and tokio refuses it with a panic. So the
//! blocking constructors ([`Manager::connect`](crate::Manager::connect),
//! [`blocking::Client::connect`](crate::blocking::Client::connect) and
//! `from_env`, [`ManagerProcess::connect`](crate::ManagerProcess::connect))
//! check first and fail there with [`Error::InsideRuntime`], which names
//! the async call to await instead. Where blocking is allowed they work as
//! anywhere: in `spawn_blocking`, in `block_in_place`, on a plain thread
//! that merely entered a runtime (`Handle::enter`).
//!
//! Tokio has no public call that says whether this thread may block (its
//! own check is private), and `Handle::try_current` is not that answer: it
//! succeeds in `spawn_blocking` too. What tells the two apart is the task
//! budget of tokio's cooperative scheduling: every future a runtime polls
//! (a task, a `block_on`) runs with a finite budget, while
//! `spawn_blocking` closures, `block_in_place` sections and threads
//! outside a runtime run without one. The check reads it through
//! [`tokio::task::coop::poll_proceed`] and puts it back as it was. Code
//! inside `tokio::task::coop::unconstrained` opts out of budgets, so it is
//! not recognised: there tokio's panic remains.
//!
//! # Panics
//!
//! A blocking handle's calls (not only its constructors) must not be made
//! inside an async context either; they are not checked, and tokio panics
//! (it cannot start a runtime from within a runtime); use an async handle
//! there. Dropping the last handle of a blocking client inside an async
//! context panics for the same reason.

use std::future::Future;
use std::sync::Arc;

use tokio::runtime::Runtime;

use crate::Error;

/// How a handle runs its calls: [`Async`] or [`Blocking`]. Sealed: these
/// two are the only modes.
pub trait Mode: Clone + std::fmt::Debug + Send + Sync + 'static + sealed::Sealed {
    /// What a call of a handle in this mode returns for the future `F`
    /// that makes it: `F` itself ([`Async`]) or its output ([`Blocking`]).
    type Answer<F: Future>;

    /// Turns the future that makes a call into what this mode returns.
    fn answer<F: Future>(&self, call: F) -> Self::Answer<F>;

    /// Runs `call` to its end on this thread if this mode blocks, and
    /// returns its output; `None` (and `call` is not run) if it does not.
    /// A guard dropped in a blocking handle releases before `drop` returns
    /// this way; an async one cannot wait, and sends its release instead.
    fn run_here<F: Future>(&self, call: F) -> Option<F::Output>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Async {}
    impl Sealed for super::Blocking {}
}

/// Calls return futures, to be awaited on a tokio runtime.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Async;

impl Mode for Async {
    type Answer<F: Future> = F;

    fn answer<F: Future>(&self, call: F) -> F {
        call
    }

    fn run_here<F: Future>(&self, _call: F) -> Option<F::Output> {
        None
    }
}

/// Calls run to their end on the calling thread, driving the client's own
/// runtime.
#[derive(Debug, Clone)]
pub struct Blocking {
    runtime: Arc<Runtime>,
}

impl Blocking {
    /// A new blocking mode with a runtime of its own.
    pub(crate) fn new() -> Result<Blocking, Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)?;
        Ok(Blocking {
            runtime: Arc::new(runtime),
        })
    }

    /// Runs `future` to its end on the calling thread.
    pub(crate) fn run<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    /// The runtime the calls run on.
    pub(crate) fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }
}

/// Fails with [`Error::InsideRuntime`] if the calling thread is in an async
/// context of a tokio runtime, where the blocking `call` would panic; see
/// [Inside an async runtime](self#inside-an-async-runtime).
pub(crate) fn refuse_inside_runtime(
    call: &'static str,
    instead: &'static str,
) -> Result<(), Error> {
    if inside_async_context() {
        Err(Error::InsideRuntime { call, instead })
    } else {
        Ok(())
    }
}

/// Whether the calling thread is running a future polled by a tokio
/// runtime, where blocking panics: it has a runtime handle, and a finite
/// task budget.
pub(crate) fn inside_async_context() -> bool {
    use std::task::{Context, Poll, Waker};
    use tokio::task::coop::poll_proceed;

    // Outside any runtime context: blocking is fine (the common case for
    // blocking users, answered without touching the budget).
    if tokio::runtime::Handle::try_current().is_err() {
        return false;
    }
    // A budget is at most `u8::MAX` units today (128 per poll); an
    // unconstrained one never runs out.
    const MAX_BUDGET: usize = 1024;
    let mut cx = Context::from_waker(Waker::noop());
    // Dropped unused, `before` restores the budget this call found.
    let Poll::Ready(before) = poll_proceed(&mut cx) else {
        // Already spent: only a polled task has a budget to spend.
        return true;
    };
    let mut finite = false;
    for _ in 0..MAX_BUDGET {
        match poll_proceed(&mut cx) {
            // Keeps this unit spent; `before` puts them all back.
            Poll::Ready(unit) => unit.made_progress(),
            Poll::Pending => {
                finite = true;
                break;
            }
        }
    }
    drop(before);
    finite
}

impl Mode for Blocking {
    type Answer<F: Future> = F::Output;

    fn answer<F: Future>(&self, call: F) -> F::Output {
        self.run(call)
    }

    fn run_here<F: Future>(&self, call: F) -> Option<F::Output> {
        Some(self.run(call))
    }
}
