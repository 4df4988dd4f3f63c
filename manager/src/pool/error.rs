//! [`PoolError`]: what went wrong with a pool or one of its tasks.

use std::time::Duration;

use crate::{Error, LaunchError};

#[cfg(doc)]
use super::Pool;

/// What went wrong with a pool or one of its tasks.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// The task returned an error or panicked; the worker went on.
    #[error("task `{task}` failed on item {index}: {message}")]
    Task {
        /// The task's name.
        task: String,
        /// The item's index among the call's inputs.
        index: usize,
        /// The error's (or panic's) message.
        message: String,
    },
    /// The worker running the item's job died; a replacement was started.
    #[error("worker {pid} died running task `{task}` on item {index}: {how}")]
    WorkerDied {
        /// The dead worker's process id.
        pid: u32,
        /// The task's name.
        task: String,
        /// The item's index among the call's inputs.
        index: usize,
        /// How it ended.
        how: String,
    },
    /// The initializer failed in a worker; the pool takes no more work.
    #[error("initializer `{task}` failed in worker {pid}: {message}")]
    Initializer {
        /// The initializer's task name.
        task: String,
        /// The worker it failed in.
        pid: u32,
        /// Its error's message.
        message: String,
    },
    /// An input is of another type than the task takes; the task did not
    /// run on it.
    #[error("task `{task}` takes `{expected}`, but item {index} is a `{given}`")]
    WrongArgs {
        /// The task's name.
        task: String,
        /// The item's index among the call's inputs.
        index: usize,
        /// The type the task takes.
        expected: String,
        /// The type of the input.
        given: String,
    },
    /// A result is of another type than the caller asked for.
    #[error(
        "task `{task}` returned a `{given}` for item {index}, but a `{expected}` was asked for"
    )]
    WrongResult {
        /// The task's name.
        task: String,
        /// The item's index among the call's inputs.
        index: usize,
        /// The type asked for.
        expected: String,
        /// The type the task returned.
        given: String,
    },
    /// An argument could not be encoded, or a result decoded.
    #[error("task `{task}`: {message}")]
    Codec {
        /// The task's name.
        task: String,
        /// What failed.
        message: String,
    },
    /// No result within the time asked for; the task may still finish.
    #[error("no result after {0:?}")]
    Timeout(Duration),
    /// No worker is running: replacements for dead workers could not be
    /// started (the pool logs why).
    #[error("no pool worker is running")]
    NoWorkers,
    /// The pool takes no more work (its results queue failed), or a handle's
    /// result can no longer come for a reason no other variant names.
    #[error("the pool is closed")]
    Closed,
    /// [`Pool::terminate`] (or dropping the pool) stopped the workers before
    /// the item finished.
    #[error("the pool was terminated before the task finished")]
    Terminated,
    /// [`Pool::close`] waited this long for the submitted work, then killed
    /// the workers before the item finished. `close` itself returns this
    /// error too.
    #[error("the pool's close gave up after {0:?} and killed its workers before the task finished")]
    CloseTimeout(Duration),
    /// A call to the manager failed.
    #[error("manager: {0}")]
    Manager(String),
    /// A call that blocks the calling thread was made inside an async
    /// context of a tokio runtime, whose thread it would stall; nothing was
    /// started or waited for. Await the async twin there, or make the call
    /// in `spawn_blocking`.
    #[error(
        "{call} blocks, but was called inside an async runtime; await {instead} there, or call it in spawn_blocking"
    )]
    InsideRuntime {
        /// The blocking call, for example "Pool::map".
        call: &'static str,
        /// Its async twin, for example "Pool::map_async".
        instead: &'static str,
    },
    /// A worker could not be started (or this process, a worker whose
    /// `main` did not call
    /// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker)
    /// first, may not start any: [`LaunchError::NotDispatched`]).
    #[error("start a pool worker: {0}")]
    Launch(LaunchError),
}

impl From<LaunchError> for PoolError {
    fn from(e: LaunchError) -> Self {
        PoolError::Launch(e)
    }
}

impl From<Error> for PoolError {
    fn from(e: Error) -> Self {
        match e {
            Error::InsideRuntime { call, instead } => PoolError::InsideRuntime { call, instead },
            e => PoolError::Manager(e.to_string()),
        }
    }
}
