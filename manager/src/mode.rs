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
//! # Panics
//!
//! Like any blocking call, a blocking handle's calls must not be made from
//! inside an async runtime (tokio panics: it cannot start a runtime from
//! within a runtime); use an async handle there. Dropping the last handle
//! of a blocking client inside an async context panics for the same reason.

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
