//! [`PoolBuilder`]: how many workers, their program, chunk size, retries,
//! timeouts and initializer; and the building, on the calling thread or
//! off the runtime.

use std::ffi::OsString;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use manager_core::Encoded;
use serde::Serialize;
use tokio::sync::Notify;

use super::handle::Collector;
use super::supervisor::{Ending, Link, State, Supervisor};
use super::wait::{off_runtime, refuse_inside_runtime};
use super::worker::Report;
use super::{CALL_TIMEOUT, Pool, PoolError, WORKER_ENTRY};
use crate::launcher::Launcher;
use crate::{LaunchError, blocking, worker_report};

#[cfg(doc)]
use super::DEFAULT_CLOSE_TIMEOUT;
#[cfg(doc)]
use crate::launcher::Entries;

/// Builds a [`Pool`]; see [`Pool::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct PoolBuilder {
    /// The manager's address and key, and how workers start.
    pub(super) launcher: Launcher,
    pub(super) workers: usize,
    pub(super) chunksize: Option<usize>,
    pub(super) initializer: Option<(String, Result<Encoded, String>)>,
    pub(super) program: Option<OsString>,
    pub(super) close_timeout: Duration,
    pub(super) retries: u32,
}

impl PoolBuilder {
    /// How many worker processes (default: the number of cores; at least 1).
    pub fn workers(mut self, n: usize) -> Self {
        self.workers = n.max(1);
        self
    }

    /// Items per job for every call (default: Python's: for `map`, the
    /// inputs split in about four chunks per worker; 1 for the others).
    pub fn chunksize(mut self, n: usize) -> Self {
        self.chunksize = Some(n.max(1));
        self
    }

    /// Runs task `name` with `args` once in each worker before it takes
    /// work. Arguments of another type than the task takes fail it, and
    /// with it the pool ([`PoolError::Initializer`]).
    pub fn initializer<A: Serialize + ?Sized>(mut self, name: &str, args: &A) -> Self {
        let encoded = Encoded::encode(args).map_err(|e| e.to_string());
        self.initializer = Some((name.to_owned(), encoded));
        self
    }

    /// Workers run `program` (a binary whose `main` runs [`Entries`] with
    /// [`Entries::tasks`]) instead of a copy of the running program.
    pub fn program(mut self, program: impl Into<OsString>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// How long [`Pool::close`] waits for the submitted work to finish
    /// before it kills the workers (default [`DEFAULT_CLOSE_TIMEOUT`], 5
    /// minutes). There is no "forever": a close always ends.
    pub fn close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// How many times a job whose worker dies while running it is run again
    /// on another worker (default 0: its items fail with
    /// [`PoolError::WorkerDied`]). A retried job may have run in part, so
    /// retry only tasks that may run more than once (idempotent, or that
    /// record their progress). After `n` deaths the items fail with
    /// `WorkerDied`. A job handed to a worker that died before taking it
    /// always goes to another worker and is not counted.
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Creates the pool's queues and starts its workers, blocking the
    /// calling thread meanwhile; async code awaits
    /// [`PoolBuilder::build_async`] instead.
    ///
    /// # Errors
    ///
    /// [`PoolError`] if the manager cannot be reached, the initializer's
    /// arguments cannot be encoded or a worker cannot be started;
    /// [`PoolError::Launch`] with [`LaunchError::NotDispatched`] if this
    /// process is itself a worker whose `main` did not call
    /// [`Entries::run_if_worker`] first; [`PoolError::InsideRuntime`]
    /// inside an async context.
    pub fn build(self) -> Result<Pool, PoolError> {
        refuse_inside_runtime("PoolBuilder::build", "PoolBuilder::build_async")?;
        self.build_here()
    }

    /// Builds the pool as [`PoolBuilder::build`] does, on a thread of its
    /// own, without blocking the caller's thread: the async twin of
    /// `build`, with the same outcome. Any executor will do.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use manager::pool::Pool;
    ///
    /// # async fn demo(manager: &manager::Manager) -> Result<(), manager::PoolError> {
    /// let pool = Pool::builder(manager).workers(4).build_async().await?;
    /// let squares: Vec<u64> = pool.map_async("square", 0..100_u64)?.await?;
    /// pool.close_async().await?;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`PoolBuilder::build`], except `InsideRuntime`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before the pool is built, the
    /// building goes on on its thread and the pool is then dropped there,
    /// which stops it: no worker is left behind.
    pub async fn build_async(self) -> Result<Pool, PoolError> {
        off_runtime("pool-build", move || self.build_here()).await?
    }

    /// Builds the pool on the calling thread, which may block.
    fn build_here(self) -> Result<Pool, PoolError> {
        static POOLS: AtomicU64 = AtomicU64::new(0);
        worker_report::refuse_undispatched("PoolBuilder::build").map_err(|reason| {
            LaunchError::NotDispatched {
                entry: WORKER_ENTRY.to_owned(),
                reason,
            }
        })?;
        let initializer = match self.initializer {
            None => None,
            Some((task, Ok(input))) => Some((task, input)),
            Some((task, Err(message))) => return Err(PoolError::Codec { task, message }),
        };
        let client = blocking::Client::connect(self.launcher.address(), self.launcher.authkey())?
            .with_timeout(CALL_TIMEOUT);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let prefix = format!(
            "__pool/{}/{}/{nanos}",
            std::process::id(),
            POOLS.fetch_add(1, Ordering::Relaxed)
        );
        let results_name = format!("{prefix}/results");
        let results = client.queue::<Report>(&results_name, None)?;
        let results_async = client
            .mode()
            .run(client.as_async().queue::<Report>(&results_name, None))?;
        let link = Link {
            client,
            launcher: self.launcher,
            program: self.program,
            results_name,
            results,
            results_async,
        };
        let shared = Arc::new(Supervisor {
            prefix,
            initializer,
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            retries: self.retries,
        });
        let started = {
            let mut state = shared.lock();
            (0..self.workers).try_for_each(|_| {
                let slot = shared.start_worker(&link, &mut state)?;
                state.slots.push(slot);
                Ok::<_, PoolError>(())
            })
        };
        if let Err(e) = started {
            // The workers started so far, and the queues, go with it.
            let _ = shared.stop(&link, Ending::Terminated);
            return Err(e);
        }
        let (done, outcome) = tokio::sync::oneshot::channel();
        let collector = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("pool-collector".to_owned())
            .spawn(move || {
                let _ = done.send(collector.run(link));
            })
            .map_err(|e| PoolError::Manager(format!("start the collector thread: {e}")))?;
        Ok(Pool {
            shared,
            chunksize: self.chunksize,
            workers: self.workers,
            close_timeout: self.close_timeout,
            collector: Some(Collector {
                thread,
                done: outcome,
            }),
        })
    }
}
