//! [`Pool`]: the handle an application holds: submit work (`map`,
//! `apply`, `imap`, ...), then `close`, `join` or `terminate`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use manager_core::Encoded;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::supervisor::{Slot, Supervisor, decode, encode_all, fail};
use super::worker::Order;
use super::{
    AsyncResult, DEFAULT_CLOSE_TIMEOUT, Imap, ImapUnordered, PoolBuilder, PoolError, STOP_GRACE,
};
use crate::Manager;

#[cfg(doc)]
use super::Tasks;

/// A pool of worker processes that run registered [`Tasks`].
///
/// See the [module documentation](super).
#[derive(Debug)]
pub struct Pool {
    pub(super) shared: Arc<Supervisor>,
    pub(super) chunksize: Option<usize>,
    pub(super) workers: usize,
    pub(super) close_timeout: Duration,
    pub(super) collector: Option<JoinHandle<()>>,
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
    pub fn builder(manager: &Manager) -> PoolBuilder<'_> {
        PoolBuilder {
            manager,
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

    /// Runs `task` on every input and returns the results in input order.
    ///
    /// # Errors
    ///
    /// The error of the first failed item in input order, once every item
    /// has finished.
    pub fn map<A, R>(
        &self,
        task: &str,
        inputs: impl IntoIterator<Item = A>,
    ) -> Result<Vec<R>, PoolError>
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
        let mut results: Vec<Option<Result<R, PoolError>>> = (0..n).map(|_| None).collect();
        for _ in 0..n {
            let (index, result) = replies.recv().map_err(|_| PoolError::Closed)?;
            results[index] = Some(decode(task, index, result));
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(PoolError::Closed)))
            .collect()
    }

    /// Runs `task` on every input; yields the results in input order, each
    /// as soon as it and those before it have finished.
    ///
    /// # Errors
    ///
    /// An item's error is yielded in its place; the others still come.
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
        Ok(Imap {
            task: task.to_owned(),
            replies,
            total,
            next: 0,
            early: BTreeMap::new(),
            _result: std::marker::PhantomData,
        })
    }

    /// Runs `task` on every input; yields each result as soon as it has
    /// finished, every one exactly once, in no set order.
    ///
    /// # Errors
    ///
    /// An item's error is yielded in its place; the others still come.
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
        let remaining = items.len();
        let replies = self
            .shared
            .submit(task, items, self.chunksize.unwrap_or(1))?;
        Ok(ImapUnordered {
            task: task.to_owned(),
            replies,
            remaining,
            _result: std::marker::PhantomData,
        })
    }

    /// Runs `task` on `args` and waits for its result.
    ///
    /// # Errors
    ///
    /// As [`AsyncResult::get`].
    pub fn apply<A, R>(&self, task: &str, args: &A) -> Result<R, PoolError>
    where
        A: Serialize + ?Sized,
        R: DeserializeOwned,
    {
        self.apply_async(task, args)?.get()
    }

    /// Starts `task` on `args`; the handle waits for its result.
    ///
    /// # Errors
    ///
    /// [`PoolError::Codec`] if `args` cannot be encoded, [`PoolError::Closed`]
    /// if the pool takes no more work.
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
        Ok(AsyncResult {
            task: task.to_owned(),
            replies,
            _result: std::marker::PhantomData,
        })
    }

    /// Takes no new work, waits for every task already submitted to finish
    /// (queued ones included, their results delivered to the handles), then
    /// stops the workers and removes the pool's queues: Python's `close()`
    /// and `join()`. The wait is bounded by [`PoolBuilder::close_timeout`].
    ///
    /// # Errors
    ///
    /// [`PoolError::CloseTimeout`] if the work had not finished in time: the
    /// workers were killed and each unfinished item failed with the same
    /// error. [`PoolError::Manager`] if a queue cannot be removed. Either
    /// way no worker is left running.
    pub fn close(mut self) -> Result<(), PoolError> {
        let ending = if self.finish_submitted() {
            Ending::Finished
        } else {
            Ending::TimedOut
        };
        self.stop(ending)
    }

    /// Stops at once, as dropping the pool does (Python's `terminate()`):
    /// kills the workers and fails every unfinished item, running or queued,
    /// with [`PoolError::Terminated`]; removes the pool's queues.
    ///
    /// # Errors
    ///
    /// [`PoolError::Manager`] if a queue cannot be removed; the workers are
    /// stopped regardless.
    pub fn terminate(mut self) -> Result<(), PoolError> {
        self.stop(Ending::Terminated)
    }

    /// Closes the pool to new work and waits, at most the close timeout,
    /// until no job is queued or running. Meanwhile the collector goes on
    /// handing out jobs and replacing dead workers. Returns whether it got
    /// there.
    pub(super) fn finish_submitted(&self) -> bool {
        let start = Instant::now();
        let deadline = start
            .checked_add(self.close_timeout)
            .unwrap_or(start + Duration::from_secs(86_400 * 365));
        let mut state = self.shared.lock();
        state.closed = true;
        loop {
            if state.is_idle() {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(
                    after = ?self.close_timeout,
                    "pool close timed out; killing the workers"
                );
                return false;
            }
            state = match self.shared.changed.wait_timeout(state, deadline - now) {
                Ok((state, _)) => state,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Stops the collector, fails what is unfinished as `ending` says,
    /// stops or kills the workers and removes the queues.
    pub(super) fn stop(&mut self, ending: Ending) -> Result<(), PoolError> {
        self.shared.stopping.store(true, Ordering::SeqCst);
        if let Some(collector) = self.collector.take() {
            let _ = collector.join();
        }
        let close_timeout = self.close_timeout;
        let error = |_: usize| match ending {
            Ending::TimedOut => PoolError::CloseTimeout(close_timeout),
            Ending::Finished | Ending::Terminated => PoolError::Terminated,
        };
        let mut state = self.shared.lock();
        state.closed = true;
        let pending = std::mem::take(&mut state.pending);
        drop(state);
        for job in pending {
            fail(job, error);
        }
        if ending != Ending::Finished {
            // A result sent before the end still counts. (No job is queued
            // any more, so this hands out no new work.)
            while let Ok(Some(report)) = self.shared.results.try_get() {
                self.shared.on_report(report);
            }
        }
        let slots = std::mem::take(&mut self.shared.lock().slots);
        let mut names = vec![self.shared.results_name.clone()];
        let mut slots: Vec<Slot> = slots
            .into_iter()
            .map(|mut slot| {
                if let Some(running) = slot.running.take() {
                    fail(running, error);
                }
                if ending == Ending::Finished {
                    let _ = slot.queue.put(&Order::Stop);
                }
                slot
            })
            .collect();
        // One grace for the whole pool, not one per worker.
        let deadline = Instant::now() + STOP_GRACE;
        for slot in &mut slots {
            let left = deadline.saturating_duration_since(Instant::now());
            if ending != Ending::Finished || slot.worker.join_timeout(left).is_err() {
                let _ = slot.worker.kill();
            }
            names.push(slot.queue_name.clone());
        }
        let mut failed = None;
        for name in names {
            if let Err(e) = self.shared.client.remove(&name) {
                failed.get_or_insert(PoolError::from(e));
            }
        }
        if ending == Ending::TimedOut {
            return Err(PoolError::CloseTimeout(close_timeout));
        }
        failed.map_or(Ok(()), Err)
    }
}

/// How a pool's work ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ending {
    /// Everything submitted finished: the workers are told to stop.
    Finished,
    /// The close timeout passed first: the workers are killed.
    TimedOut,
    /// Terminated or dropped: the workers are killed.
    Terminated,
}

impl Drop for Pool {
    fn drop(&mut self) {
        if self.collector.is_some() || !self.shared.lock().slots.is_empty() {
            let _ = self.stop(Ending::Terminated);
        }
    }
}
