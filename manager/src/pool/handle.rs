//! [`Pool`]: the handle an application holds: submit work (`map`,
//! `apply`, `imap`, ...), then `close` or `terminate`, blocking or awaited.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use manager_core::Encoded;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use super::results::{finish_all, finish_one};
use super::supervisor::{Stop, Supervisor, encode_all};
use super::wait::refuse_inside_runtime;
use super::{AsyncResult, DEFAULT_CLOSE_TIMEOUT, Imap, ImapUnordered, PoolBuilder, PoolError};
use crate::Manager;

#[cfg(doc)]
use super::Tasks;

/// A pool of worker processes that run registered [`Tasks`].
///
/// Submitting work never blocks (the pool's collector thread hands it to
/// the workers), so every method that returns a handle may be called from
/// async code as from a plain thread; the handles are waited on either
/// way. See the [module documentation](super), and its section
/// [*Async code*](super#async-code).
#[derive(Debug)]
pub struct Pool {
    pub(super) shared: Arc<Supervisor>,
    pub(super) chunksize: Option<usize>,
    pub(super) workers: usize,
    pub(super) close_timeout: Duration,
    pub(super) collector: Option<Collector>,
}

/// The pool's collector thread, and how it says it has stopped the pool.
#[derive(Debug)]
pub(super) struct Collector {
    pub(super) thread: JoinHandle<()>,
    pub(super) done: oneshot::Receiver<Result<(), PoolError>>,
}

impl std::fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Supervisor")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A builder for a pool whose workers use `manager`.
    pub fn builder(manager: &Manager) -> PoolBuilder {
        PoolBuilder {
            launcher: manager.launcher(),
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            chunksize: None,
            initializer: None,
            program: None,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            retries: 0,
        }
    }

    /// The process ids of the current workers.
    pub fn pids(&self) -> Vec<u32> {
        self.shared
            .lock()
            .slots
            .iter()
            .map(|s| s.worker.pid())
            .collect()
    }

    /// Runs `task` on every input and returns the results in input order,
    /// blocking the calling thread; async code awaits
    /// [`Pool::map_async`]'s handle instead.
    ///
    /// # Errors
    ///
    /// The error of the first failed item in input order, once every item
    /// has finished; as [`Pool::map_async`] if the work cannot be submitted;
    /// [`PoolError::InsideRuntime`] inside an async context.
    pub fn map<A, R>(
        &self,
        task: &str,
        inputs: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, PoolError>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        refuse_inside_runtime("Pool::map", "Pool::map_async")?;
        self.map_async(task, inputs)?
            .wait(None, "Pool::map", "Pool::map_async")
    }

    /// Starts `task` on every input (Python's `map_async`); the handle
    /// gives every result in input order. Await it in async code, or
    /// [`get`](AsyncResult::get) it on a plain thread.
    ///
    /// The inputs are split in chunks as for [`Pool::map`]: about four per
    /// worker unless [`PoolBuilder::chunksize`] says otherwise.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(pool: &manager::pool::Pool) -> Result<(), manager::PoolError> {
    /// let squares: Vec<u64> = pool.map_async("square", 0..100_u64)?.await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`PoolError::Codec`] if an input cannot be encoded,
    /// [`PoolError::Closed`] if the pool takes no more work,
    /// [`PoolError::Initializer`] if its initializer failed,
    /// [`PoolError::NoWorkers`] if it has no worker left. The handle then
    /// gives the first failed item's error in input order.
    pub fn map_async<A, R>(
        &self,
        task: &str,
        inputs: impl IntoIterator<Item = A>,
    ) -> Result<AsyncResult<Vec<R>>, PoolError>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let items = encode_all(task, inputs)?;
        let n = items.len();
        let chunksize = self
            .chunksize
            .unwrap_or_else(|| n.div_ceil(4 * self.workers).max(1));
        let replies = self.shared.submit(task, items, chunksize)?;
        Ok(AsyncResult::new(task, replies, n, finish_all::<R>))
    }

    /// Runs `task` on every input; yields the results in input order, each
    /// as soon as it and those before it have finished. The iterator blocks
    /// the calling thread; in async code, read
    /// [`Imap::into_stream`] instead.
    ///
    /// # Errors
    ///
    /// As [`Pool::map_async`] if the work cannot be submitted. An item's
    /// error is yielded in its place; the others still come.
    pub fn imap<A, R>(
        &self,
        task: &str,
        inputs: impl IntoIterator<Item = A>,
    ) -> Result<Imap<R>, PoolError>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let items = encode_all(task, inputs)?;
        let total = items.len();
        let replies = self
            .shared
            .submit(task, items, self.chunksize.unwrap_or(1))?;
        Ok(Imap::new(task, replies, total))
    }

    /// Runs `task` on every input; yields each result as soon as it has
    /// finished, every one exactly once, in no set order. The iterator
    /// blocks the calling thread; in async code, read
    /// [`ImapUnordered::into_stream`] instead.
    ///
    /// # Errors
    ///
    /// As [`Pool::map_async`] if the work cannot be submitted. An item's
    /// error is yielded in its place; the others still come.
    pub fn imap_unordered<A, R>(
        &self,
        task: &str,
        inputs: impl IntoIterator<Item = A>,
    ) -> Result<ImapUnordered<R>, PoolError>
    where
        A: Serialize,
        R: DeserializeOwned,
    {
        let items = encode_all(task, inputs)?;
        let total = items.len();
        let replies = self
            .shared
            .submit(task, items, self.chunksize.unwrap_or(1))?;
        Ok(ImapUnordered::new(task, replies, total))
    }

    /// Runs `task` on `args` and waits for its result, blocking the
    /// calling thread; async code awaits [`Pool::apply_async`]'s handle
    /// instead.
    ///
    /// # Errors
    ///
    /// As [`Pool::apply_async`] and [`AsyncResult::get`].
    pub fn apply<A, R>(&self, task: &str, args: &A) -> Result<R, PoolError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        refuse_inside_runtime("Pool::apply", "Pool::apply_async")?;
        self.apply_async(task, args)?
            .wait(None, "Pool::apply", "Pool::apply_async")
    }

    /// Starts `task` on `args` (Python's `apply_async`); the handle gives
    /// its result. Await it in async code, or [`get`](AsyncResult::get) it
    /// on a plain thread.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(pool: &manager::pool::Pool) -> Result<(), manager::PoolError> {
    /// let square: u64 = pool.apply_async("square", &7_u64)?.await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`PoolError::Codec`] if `args` cannot be encoded; otherwise as
    /// [`Pool::map_async`].
    pub fn apply_async<A, R>(&self, task: &str, args: &A) -> Result<AsyncResult<R>, PoolError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        let input = Encoded::encode(args).map_err(|e| PoolError::Codec {
            task: task.to_owned(),
            message: e.to_string(),
        })?;
        let replies = self.shared.submit(task, vec![(0, input)], 1)?;
        Ok(AsyncResult::new(task, replies, 1, finish_one::<R>))
    }

    /// Takes no new work, waits for every task already submitted to finish
    /// (queued ones included, their results delivered to the handles), then
    /// stops the workers and removes the pool's queues: Python's `close()`
    /// and `join()`. The wait is bounded by [`PoolBuilder::close_timeout`].
    /// It blocks the calling thread; async code awaits
    /// [`Pool::close_async`] instead.
    ///
    /// # Errors
    ///
    /// [`PoolError::CloseTimeout`] if the work had not finished in time: the
    /// workers were killed and each unfinished item failed with the same
    /// error. [`PoolError::Manager`] if a queue cannot be removed. Either
    /// way no worker is left running.
    pub fn close(mut self) -> Result<(), PoolError> {
        self.ask_close();
        self.join()
    }

    /// Closes the pool as [`Pool::close`] does, without blocking the
    /// thread: the async twin of `close`, with the same outcome.
    ///
    /// # Errors
    ///
    /// As [`Pool::close`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the future owns the pool, and dropping it before it
    /// ends drops the pool, which terminates it (unfinished items fail
    /// with [`PoolError::Terminated`]; no worker is left).
    pub async fn close_async(mut self) -> Result<(), PoolError> {
        self.ask_close();
        self.stopped().await
    }

    /// Stops at once, as dropping the pool does (Python's `terminate()`):
    /// kills the workers and fails every unfinished item, running or queued,
    /// with [`PoolError::Terminated`]; removes the pool's queues. It blocks
    /// the calling thread for as long as that takes (killing and reaping
    /// the workers); async code may await [`Pool::terminate_async`].
    ///
    /// # Errors
    ///
    /// [`PoolError::Manager`] if a queue cannot be removed; the workers are
    /// stopped regardless.
    pub fn terminate(mut self) -> Result<(), PoolError> {
        self.shared.ask(Stop::Terminate);
        self.join()
    }

    /// Terminates the pool as [`Pool::terminate`] does, without blocking
    /// the thread.
    ///
    /// # Errors
    ///
    /// As [`Pool::terminate`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in effect: dropping the future drops the pool, which
    /// terminates it all the same (then blocking for the rest of the
    /// stop).
    pub async fn terminate_async(mut self) -> Result<(), PoolError> {
        self.shared.ask(Stop::Terminate);
        self.stopped().await
    }

    fn ask_close(&self) {
        let start = Instant::now();
        let deadline = start
            .checked_add(self.close_timeout)
            .unwrap_or(start + Duration::from_secs(86_400 * 365));
        self.shared.ask(Stop::Close {
            deadline,
            timeout: self.close_timeout,
        });
    }

    /// Waits, blocking, for the collector to have stopped the pool as asked.
    fn join(&mut self) -> Result<(), PoolError> {
        let Some(mut collector) = self.collector.take() else {
            return Ok(());
        };
        let _ = collector.thread.join();
        collector
            .done
            .try_recv()
            .unwrap_or_else(|_| Err(collector_panicked()))
    }

    /// Waits, without blocking the thread, for the collector to have
    /// stopped the pool as asked. If this future is dropped first, the
    /// collector is still in `self`, and dropping the pool terminates it.
    async fn stopped(&mut self) -> Result<(), PoolError> {
        let Some(collector) = self.collector.as_mut() else {
            return Ok(());
        };
        let outcome = (&mut collector.done)
            .await
            .unwrap_or_else(|_| Err(collector_panicked()));
        // The collector has done all its work and is ending: not joined, so
        // as not to block; nothing of the pool is left to it.
        self.collector = None;
        outcome
    }
}

fn collector_panicked() -> PoolError {
    PoolError::Manager("the pool's collector thread panicked".to_owned())
}

impl Drop for Pool {
    /// Terminates the pool, as [`Pool::terminate`] does, unless it was
    /// closed or terminated already. Blocks for as long as killing and
    /// reaping the workers takes; no call to the manager is made on this
    /// thread, so it may be dropped inside an async context.
    fn drop(&mut self) {
        if self.collector.is_some() {
            self.shared.ask(Stop::Terminate);
            let _ = self.join();
        }
    }
}
