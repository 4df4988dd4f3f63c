//! [`Barrier`]: the async proxy of a shared barrier for a fixed number of
//! parties, like Python's `Manager().Barrier()`, and [`Client::barrier`],
//! which finds or creates one.
//!
//! The [`Barrier`] type's docs say how waiting, breaking and dead workers
//! work.

use std::future::Future;
use std::time::Duration;

#[cfg(doc)]
use manager_core::ManagerError;
use manager_core::ObjectSpec;
use manager_core::request::{BarrierRequest, Call, Wait};

use super::handle::Proxy;
use crate::mode::{Async, Mode};
use crate::{Client, Error};

/// A handle on a shared barrier for a fixed number of parties, like
/// Python's `Manager().Barrier()`.
///
/// It has the methods every [`Proxy`] has as well: [`name`](Proxy::name),
/// [`id`](Proxy::id), [`kind`](Proxy::kind),
/// [`with_timeout`](Proxy::with_timeout) and [`share`](Proxy::share).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let manager = manager::Manager::start()?;
/// # let client = manager.connect_async().await?;
/// let start = client.barrier("start", 2).await?;
/// assert_eq!(start.parties().await?, 2);
///
/// // Two parties (here tasks; usually processes) meet at the barrier.
/// let other = tokio::spawn({
///     let start = start.clone();
///     async move { start.wait().await }
/// });
/// let mine = start.wait().await?;
/// let theirs = other.await??;
/// // Each got its own arrival index: one 0 and one 1.
/// assert_eq!(mine + theirs, 1);
/// assert!(!start.broken().await?);
/// # Ok(())
/// # }
/// ```
///
/// # Waiting
///
/// [`Barrier::wait`] parks in the manager (never blocking it) until
/// `parties` waits have arrived; then all are released and the barrier is
/// ready for the next round. Each gets its arrival index, as in Python: 0 for
/// the first to arrive up to `parties - 1` for the last, so exactly one party
/// gets 0 (what `if barrier.wait() == 0` relies on).
///
/// # Breaking
///
/// A wait that times out, an [`abort`](Barrier::abort), or the death of a
/// party parked in `wait` breaks the barrier: every waiting party, and every
/// later wait until a [`reset`](Barrier::reset), fails with
/// [`ManagerError::BrokenBarrier`]. On a handle made with `with_timeout(d)`,
/// a wait lasts at most `d`, and its end breaks the barrier too.
///
/// # What happens when a worker dies
///
/// If it was waiting, the barrier breaks at once, so the other parties learn
/// that one of them is gone instead of waiting for it forever.
pub type Barrier<M = Async> = Proxy<marker::Barrier, M>;

kind_markers! {
    /// The kind of a [`Barrier`](super::Barrier) proxy: it sees barriers.
    Barrier => Barrier;
}

impl<M: Mode> Barrier<M> {
    /// Waits until `parties` waits have arrived (Python's `wait()`), and
    /// returns this wait's arrival index: 0 for the first to arrive up to
    /// `parties - 1` for the last, as in Python.
    ///
    /// # Errors
    ///
    /// [`ManagerError::BrokenBarrier`] (as [`Error::Manager`]) if the
    /// barrier is or becomes broken while waiting (on a handle with a
    /// timeout, also when that passes first: the barrier breaks), and the
    /// errors of every call.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: a dropped wait still counts as arrived in the
    /// manager. Use [`Barrier::wait_timeout`] instead of dropping it.
    pub fn wait(&self) -> M::Answer<impl Future<Output = Result<u64, Error>>> {
        self.object
            .mode()
            .answer(async move { self.wait_within(None).await })
    }

    /// Waits at most `timeout` for the other parties (Python's
    /// `wait(timeout)`); if they do not all arrive in time, the barrier
    /// breaks.
    ///
    /// # Errors
    ///
    /// [`ManagerError::BrokenBarrier`] (as [`Error::Manager`]) if the
    /// barrier is broken, or breaks, among others by this wait's timeout.
    /// Otherwise as [`Barrier::wait`].
    pub fn wait_timeout(
        &self,
        timeout: Duration,
    ) -> M::Answer<impl Future<Output = Result<u64, Error>>> {
        self.object
            .mode()
            .answer(async move { self.wait_within(Some(timeout)).await })
    }

    async fn wait_within(&self, timeout: Option<Duration>) -> Result<u64, Error> {
        let wait = Wait::from_timeout(timeout);
        self.object.ask(BarrierRequest::wait(wait)).await
    }

    /// Breaks the barrier (Python's `abort()`): waiting parties and later
    /// waits fail with [`ManagerError::BrokenBarrier`] until a reset.
    ///
    /// # Errors
    ///
    /// The errors of every call (see [`Client::call`](crate::Client::call)).
    pub fn abort(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_done(BarrierRequest::abort()).await })
    }

    /// Makes the barrier usable again (Python's `reset()`); parties waiting
    /// now fail with [`ManagerError::BrokenBarrier`].
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn reset(&self) -> M::Answer<impl Future<Output = Result<(), Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_done(BarrierRequest::reset()).await })
    }

    /// How many parties release each other (Python's `parties`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn parties(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
        self.object
            .mode()
            .answer(async move { self.count(BarrierRequest::parties()).await })
    }

    /// How many parties are waiting now (Python's `n_waiting`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn n_waiting(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
        self.object
            .mode()
            .answer(async move { self.count(BarrierRequest::n_waiting()).await })
    }

    /// Whether the barrier is broken (Python's `broken`).
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn broken(&self) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.ask(BarrierRequest::broken()).await })
    }

    async fn count(&self, call: Call<u64>) -> Result<usize, Error> {
        self.object.call_len(call).await
    }
}

impl<M: Mode> Client<M> {
    /// Finds the barrier `name`, or creates it for `parties` waiters.
    ///
    /// # Errors
    ///
    /// As [`Client::object`]; a barrier for 0 parties is a `BadRequest`.
    pub fn barrier(
        &self,
        name: &str,
        parties: usize,
    ) -> M::Answer<impl Future<Output = Result<Barrier<M>, Error>>> {
        self.mode().answer(async move {
            let spec = ObjectSpec::Barrier {
                parties: parties as u64,
            };
            Ok(Proxy::new(self.object_in(name, spec).await?))
        })
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared barrier; see [`proxy::Barrier`](super::Barrier).
    pub type Barrier = super::Barrier<Blocking>;
}
