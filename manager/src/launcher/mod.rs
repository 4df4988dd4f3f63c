//! The launcher: starts worker OS processes that connect to a manager.
//!
//! A worker is a program started with the manager's address and authkey in
//! its environment (never on its command line, where `ps` would show the
//! key). It connects with one call, [`blocking::Client::from_env`](crate::blocking::Client::from_env).
//!
//! # Entries
//!
//! Most programs launch copies of themselves: `main` first hands control to
//! [`Entries::run_if_worker`], which runs the named entry function with its
//! serde-encoded arguments and exits if this process is a worker, and
//! returns otherwise. A separate worker binary does the same with its own
//! entries and [`Launcher::spawn_program`].
//!
//! # Async programs
//!
//! An entry may be an `async fn` ([`Entries::entry_async`]): the worker
//! builds a tokio runtime for it (multi-threaded, as `#[tokio::main]` does;
//! [`Entries::async_runtime`] chooses another), runs it to its end and
//! exits. It connects with the async
//! [`Client::from_env`](crate::Client::from_env).
//!
//! A `#[tokio::main]` program calls [`Entries::run_if_worker`] at the top of
//! its async `main`, as any program does. In a worker, `main`'s thread is
//! then inside a runtime, where blocking panics; so the entry runs on a
//! thread of its own, outside it, while `main`'s thread waits, and the
//! process exits when the entry ends. A blocking entry can use
//! [`blocking::Client::from_env`](crate::blocking::Client::from_env) there,
//! and an async entry gets its own runtime. Entry functions are therefore
//! `Send + Sync`. The parent awaits its workers with [`Worker::wait`] (or
//! [`Worker::wait_timeout`]) instead of the blocking [`Worker::join`]:
//!
//! ```no_run
//! use manager::launcher::Entries;
//! use manager::{Client, Manager};
//!
//! async fn count(times: u32) -> Result<(), manager::Error> {
//!     let ns = Client::from_env().await?.namespace("stats").await?;
//!     for _ in 0..times {
//!         ns.add("count", 1).await?;
//!     }
//!     Ok(())
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     Entries::new().entry_async("count", count).run_if_worker();
//!
//!     let manager = Manager::start()?;
//!     let mut worker = manager.launcher().spawn("count", &100_u32)?;
//!     worker.wait().await?;
//!     let ns = manager.connect_async().await?.namespace("stats").await?;
//!     assert_eq!(ns.get::<i64>("count").await?, 100);
//!     Ok(())
//! }
//! ```
//!
//! # Arguments are typed
//!
//! Arguments travel as an [`Encoded`] value: the codec's bytes and the name
//! of their type. A worker whose entry takes another type refuses them
//! before the entry runs, and its parent's [`Worker::join`] returns
//! [`WorkerError::WrongArgs`] naming the entry and both types: `-1_i64`
//! given to an entry that takes a `u64` is an error, never a wrong number.
//! A process started without arguments (no [`ENV_ARGS`], as a program run
//! by hand with only [`ENV_ENTRY`] set) is given `()`.
//!
//! # What happens when a worker ends
//!
//! [`Worker::join`] (and its async twin [`Worker::wait`]) returns `Ok` for
//! an entry that returned `Ok`, and a
//! [`WorkerError`] that says how it ended otherwise: the entry's error
//! message ([`WorkerError::EntryFailed`]), a panic and its message, an
//! unknown entry, refused arguments, a non-zero exit code, or a signal.
//! The worker tells its parent why it failed through a pipe the launcher
//! gives it (its fd number in [`ENV_REPORT_FD`]); a worker that dies
//! without a word is judged by its exit status alone. A worker's
//! connection dies with it; the manager and other workers go on.
//!
//! # A forgotten `run_if_worker`
//!
//! A program whose `main` does not call [`Entries::run_if_worker`] first
//! would run its whole `main` again in every worker, each starting a
//! manager and launching more workers, without end. So a process that was
//! launched as a worker but not dispatched by [`Entries`] is refused by
//! [`Manager::start`](crate::Manager::start), [`Launcher::spawn`] (and
//! [`Launcher::spawn_program`]) and [`PoolBuilder::build`](crate::pool::PoolBuilder::build):
//! they fail at once with an error naming the fix, and its parent's
//! [`Worker::join`] returns [`WorkerError::NotDispatched`].
//!
//! # No orphans
//!
//! Dropping a [`Worker`] that has not been joined kills and reaps it. On
//! Linux a worker is also killed by the kernel when its app exits, however
//! it exits (SIGKILL included): every worker is spawned from one launcher
//! thread that lives as long as the process.

mod entries;
pub(crate) mod env;
mod spawn;

pub use entries::Entries;
#[cfg(feature = "manager")]
pub(crate) use entries::panic_message;
pub use env::{
    ARGS_EXIT_CODE, ENV_ADDRESS, ENV_ARGS, ENV_AUTHKEY, ENV_ENTRY, ENV_REPORT_FD, MAX_ARGS_LEN,
    PANIC_EXIT_CODE, UNKNOWN_ENTRY_EXIT_CODE,
};
pub(crate) use spawn::spawn_from_launcher_thread;
pub use spawn::{Launcher, Worker};

#[cfg(doc)]
use crate::WorkerError;
#[cfg(doc)]
use manager_core::Encoded;
