//! A worker [`Pool`], like Python's `multiprocessing.Pool`, over worker OS
//! processes started by the [`launcher`](crate::launcher).
//!
//! # Tasks are registered by name
//!
//! A worker is a fresh process (the program re-executed, or another binary),
//! so it cannot be sent a closure. Task functions are registered under names
//! in a [`Tasks`] registry, and the registry is added to the program's
//! [`Entries`] with [`Entries::tasks`], which registers one built-in entry
//! ([`WORKER_ENTRY`]) that serves them. The parent names the task it wants
//! run; arguments and results are serde types.
//!
//! ```no_run
//! use manager::launcher::Entries;
//! use manager::pool::{Pool, Tasks};
//!
//! fn square(x: u64) -> Result<u64, String> {
//!     Ok(x * x)
//! }
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     Entries::new()
//!         .tasks(Tasks::new().task("square", square))
//!         .run_if_worker();
//!
//!     let manager = manager::Manager::start()?;
//!     let pool = Pool::builder(&manager).workers(4).build()?;
//!     let squares: Vec<u64> = pool.map("square", 0..100_u64)?;
//!     assert_eq!(squares[9], 81);
//!     pool.close()?;
//!     Ok(())
//! }
//! ```
//!
//! # Async code
//!
//! The same pool serves tokio code; nothing is written twice. Submitting
//! work never blocks (it is queued for the pool's collector thread), and
//! each handle is waited on either way: a plain thread blocks in
//! [`AsyncResult::get`] or iterates an [`Imap`]; async code awaits the
//! [`AsyncResult`] (it is a [`Future`]) or reads the
//! [`Stream`](futures_core::Stream) of [`Imap::into_stream`]. The two ways
//! run the same `poll` function, so they deliver the same results and
//! errors.
//!
//! | blocking | async |
//! |---|---|
//! | [`PoolBuilder::build`] | [`PoolBuilder::build_async`]`.await` |
//! | [`Pool::map`] | [`Pool::map_async`]`(..)?.await` |
//! | [`Pool::apply`] | [`Pool::apply_async`]`(..)?.await` |
//! | [`AsyncResult::get`], [`AsyncResult::get_timeout`] | `result.await`, `tokio::time::timeout(d, &mut result).await` |
//! | `for r in pool.imap(..)?` | `pool.imap(..)?.into_stream()`, [`ImapStream`] |
//! | `for r in pool.imap_unordered(..)?` | [`ImapUnordered::into_stream`], [`ImapUnorderedStream`] |
//! | [`Pool::close`], [`Pool::terminate`] | [`Pool::close_async`]`.await`, [`Pool::terminate_async`]`.await` |
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use manager::pool::Pool;
//!
//! # async fn demo(manager: &manager::Manager) -> Result<(), manager::PoolError> {
//! let pool = Pool::builder(manager).workers(4).build_async().await?;
//! let squares: Vec<u64> = pool.map_async("square", 0..100_u64)?.await?;
//! let mut cubes = pool.imap_unordered::<u64, u64>("cube", 0..10_u64)?.into_stream();
//! while let Some(cube) = cubes.next().await {
//!     println!("{}", cube?);
//! }
//! pool.close_async().await?;
//! # Ok(())
//! # }
//! ```
//!
//! The waits are cancel safe: an [`AsyncResult`] or a stream's `next()`
//! that loses a `select!` keeps what had arrived, and its task runs on;
//! await it again for the result. The blocking calls check first whether
//! they are inside an async context and fail there with
//! [`PoolError::InsideRuntime`], naming the call to await instead; in
//! `spawn_blocking` they work. Dropping a pool inside an async context is
//! allowed: it terminates the pool as [`Pool::terminate`] does, blocking
//! the thread only while the workers are killed and reaped (the manager is
//! called from the collector thread, not the dropping one).
//!
//! # Transport
//!
//! The pool uses the manager's own objects: one task queue per worker (so
//! the parent knows which worker holds which tasks) and one results queue,
//! all under a name unique to the pool, removed when the pool closes. A
//! collector thread of the parent makes every call to the manager once
//! the pool is built: it reads the results queue with a bounded wait
//! (cut short when work is submitted while a worker is idle), hands out
//! jobs, checks between reads whether each worker is still alive, and in
//! the end stops the pool. A worker is given one job (a chunk of items)
//! at a time.
//!
//! # Inputs and results are typed
//!
//! Inputs, the initializer's arguments and results travel as [`Encoded`]
//! values (the codec's bytes and the name of their type). An input of
//! another type than the task takes fails that item with
//! [`PoolError::WrongArgs`] before the task runs; a result read as
//! another type than the task returned fails it with
//! [`PoolError::WrongResult`]; both name the task and the two types. An
//! initializer's arguments of another type fail the pool as a failed
//! initializer does ([`PoolError::Initializer`]).
//!
//! # Errors in tasks
//!
//! A task that returns an error or panics fails that item only, with
//! [`PoolError::Task`] and the error's message; the worker goes on serving.
//!
//! # What happens when a worker dies
//!
//! The job it was running fails, each of its items with
//! [`PoolError::WorkerDied`], unless the pool was built with
//! [`PoolBuilder::retries`]: then it runs again on another worker, up to
//! that many times. A job handed to it but not yet taken goes to another
//! worker. The pool starts a replacement and goes on. The parent keeps
//! every job until its results arrive, so no job is lost with a worker.
//!
//! # Shutdown
//!
//! [`Pool::close`] (and [`Pool::close_async`]) is Python's `close()`
//! followed by `join()`: the pool takes
//! no new work, finishes every task already submitted (queued ones
//! included; their results still reach the [`AsyncResult`], [`Imap`] and
//! [`ImapUnordered`] handles and their streams), then stops the workers. A worker that dies
//! meanwhile is replaced while submitted work remains. The wait is bounded
//! by [`PoolBuilder::close_timeout`] ([`DEFAULT_CLOSE_TIMEOUT`], 5 minutes,
//! unless set): a close never hangs on a task that never ends. When it
//! passes, the workers are killed, every unfinished item fails with
//! [`PoolError::CloseTimeout`] and so does `close`.
//!
//! [`Pool::terminate`] ([`Pool::terminate_async`]), and dropping the pool,
//! stop at once (Python's
//! `terminate()`): the workers are killed and every unfinished item, running
//! or queued, fails with [`PoolError::Terminated`]. Results that had already
//! arrived are still delivered.
//!
//! In every case no worker process is left running (each is killed if need
//! be, and reaped) and the pool's queues are removed from the manager.
//! `close` and `terminate` take the pool by value, so no call can start
//! while they run; a handle whose result can no longer come for any other
//! reason reports [`PoolError::Closed`].

use std::time::Duration;

#[cfg(doc)]
use crate::launcher::Entries;
#[cfg(doc)]
use manager_core::Encoded;

mod builder;
mod error;
mod handle;
mod results;
mod supervisor;
mod tasks;
mod wait;
mod worker;

pub use builder::PoolBuilder;
pub use error::PoolError;
pub use handle::Pool;
pub use results::{AsyncResult, Imap, ImapStream, ImapUnordered, ImapUnorderedStream};
pub use tasks::Tasks;

/// The name of the built-in entry that serves a pool's tasks.
pub const WORKER_ENTRY: &str = "__pool_worker";

/// How long the collector waits for a result before it checks the workers.
const POLL: Duration = Duration::from_millis(100);

/// The most reports the collector takes from the results queue in one
/// request (`get_many`).
const REPORTS_AT_ONCE: usize = 256;
/// The deadline of each call the pool makes to the manager.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`Pool::close`] waits, once the work is done, for the idle
/// workers to exit before killing them.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// How long [`Pool::close`] waits for the submitted work to finish, unless
/// [`PoolBuilder::close_timeout`] says otherwise: 5 minutes.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(300);
