//! The worker's side: [`Entries`] names the functions a program can run as
//! a worker, and runs the one its launcher asked for.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;

use manager_core::{Encoded, codec};
use serde::de::DeserializeOwned;
use tokio::runtime::Runtime;

use super::env::{ARGS_EXIT_CODE, ENV_ARGS, ENV_ENTRY, PANIC_EXIT_CODE, UNKNOWN_ENTRY_EXIT_CODE};
use crate::worker_report::{self, Outcome};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What an async entry's function gives, once its arguments are read: the
/// entry's future, to run on the worker's runtime.
type EntryFuture = Pin<Box<dyn Future<Output = Result<(), Outcome>>>>;

/// An entry function that takes its arguments in hex and gives `T`.
type HexFn<T> = Box<dyn Fn(&str) -> Result<T, Outcome> + Send + Sync>;

/// A registered entry: its function, with its arguments' decoding.
enum EntryFn {
    /// Runs on the dispatching thread.
    Blocking(HexFn<()>),
    /// Makes a future, run on a runtime built for it.
    Async(HexFn<EntryFuture>),
}

/// Builds the runtime an async entry runs on.
type RuntimeFn = Box<dyn Fn() -> std::io::Result<Runtime> + Send + Sync>;

/// The stack a dispatching thread of its own gets: what a main thread
/// usually has, so an entry moved off `main` has as much room as before.
const ENTRY_STACK: usize = 8 * 1024 * 1024;

/// The entry functions a program can run as a worker, and the custom
/// object types it serves when it runs as a
/// [`ManagerProcess`](crate::manager_process::ManagerProcess).
///
/// An entry is a plain function ([`Entries::entry`]) or an `async fn`
/// ([`Entries::entry_async`]); see [Async programs](super#async-programs)
/// for a `main` that is itself async.
#[must_use = "call `run_if_worker` (or `run`) at the start of main, or workers run main again"]
pub struct Entries {
    entries: BTreeMap<String, EntryFn>,
    runtime: RuntimeFn,
    #[cfg(feature = "manager")]
    custom: manager_actors::CustomTypes,
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Entries");
        out.field("entries", &self.entries.keys().collect::<Vec<_>>());
        out.field(
            "async_entries",
            &self
                .entries
                .iter()
                .filter(|(_, entry)| matches!(entry, EntryFn::Async(_)))
                .map(|(name, _)| name)
                .collect::<Vec<_>>(),
        );
        #[cfg(feature = "manager")]
        out.field("custom", &self.custom);
        out.finish()
    }
}

impl Default for Entries {
    fn default() -> Self {
        Self::new()
    }
}

impl Entries {
    /// No entries yet.
    pub fn new() -> Self {
        Entries {
            entries: BTreeMap::new(),
            runtime: Box::new(|| {
                tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .build()
            }),
            #[cfg(feature = "manager")]
            custom: manager_actors::CustomTypes::new(),
        }
    }

    /// Registers the custom object type `T` with the manager this program
    /// serves when it is started as a
    /// [`ManagerProcess`](crate::manager_process::ManagerProcess) (the
    /// child runs `main` again, so this is where it learns the types). An
    /// in-process manager takes them from
    /// [`ManagerBuilder::register`](crate::ManagerBuilder::register) instead.
    ///
    /// # Panics
    ///
    /// As [`ManagerBuilder::register`](crate::ManagerBuilder::register).
    #[cfg(feature = "manager")]
    pub fn register<T: manager_actors::CustomObject>(mut self) -> Self {
        self.custom = self.custom.register::<T>();
        self
    }

    /// Registers the custom kind `S` (a state written against the trait
    /// the built-in kinds implement) with the manager this program serves
    /// when it is started as a
    /// [`ManagerProcess`](crate::manager_process::ManagerProcess); see
    /// [`Entries::register`].
    ///
    /// # Panics
    ///
    /// As [`ManagerBuilder::register`](crate::ManagerBuilder::register).
    #[cfg(feature = "manager")]
    pub fn register_kind<S: manager_actors::CustomKind>(mut self) -> Self {
        self.custom = self.custom.register_kind::<S>();
        self
    }

    /// Registers `function` under `name`; a worker launched with that name
    /// runs it with the arguments its launcher gave, if they are of type
    /// `A` (otherwise it refuses them, see
    /// [Arguments are typed](super#arguments-are-typed)).
    ///
    /// It runs on a thread outside any async runtime, so it may block and
    /// connect with [`blocking::Client::from_env`](crate::blocking::Client::from_env),
    /// even in a `#[tokio::main]` program (see
    /// [Async programs](super#async-programs)).
    pub fn entry<A, E, F>(mut self, name: &str, function: F) -> Self
    where
        A: DeserializeOwned,
        E: Into<BoxError>,
        F: Fn(A) -> Result<(), E> + Send + Sync + 'static,
    {
        let owned = name.to_owned();
        self.entries.insert(
            name.to_owned(),
            EntryFn::Blocking(Box::new(move |hex_args: &str| {
                let args: A = decode_args(&owned, hex_args)?;
                function(args).map_err(|e| Outcome::Failed(error_chain(&*e.into())))
            })),
        );
        self
    }

    /// Registers the async `function` under `name`: a worker launched with
    /// that name builds a tokio runtime (see [`Entries::async_runtime`]),
    /// runs the future `function` makes from its arguments on it to its
    /// end, and exits with its outcome, as [`Entries::entry`] does. The
    /// arguments are typed the same way. The entry connects with the async
    /// [`Client::from_env`](crate::Client::from_env).
    ///
    /// Tasks the entry spawned and left running are dropped when it
    /// returns, as at the end of a `#[tokio::main]`; a panic in the entry's
    /// own future is reported as [`WorkerError::Panicked`](crate::WorkerError::Panicked).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use manager::launcher::Entries;
    ///
    /// async fn count(times: u32) -> Result<(), manager::Error> {
    ///     let ns = manager::Client::from_env().await?.namespace("stats").await?;
    ///     for _ in 0..times {
    ///         ns.add("count", 1).await?;
    ///     }
    ///     Ok(())
    /// }
    ///
    /// fn main() {
    ///     Entries::new().entry_async("count", count).run_if_worker();
    ///     // ... start a manager and launch "count" workers
    /// }
    /// ```
    pub fn entry_async<A, E, F, Fut>(mut self, name: &str, function: F) -> Self
    where
        A: DeserializeOwned,
        E: Into<BoxError>,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + 'static,
    {
        let owned = name.to_owned();
        self.entries.insert(
            name.to_owned(),
            EntryFn::Async(Box::new(move |hex_args: &str| {
                let args: A = decode_args(&owned, hex_args)?;
                let running = function(args);
                Ok(Box::pin(async move {
                    running
                        .await
                        .map_err(|e| Outcome::Failed(error_chain(&*e.into())))
                }) as EntryFuture)
            })),
        );
        self
    }

    /// How the runtime of an async entry is built (by default as
    /// `#[tokio::main]` builds its own: multi-threaded, with IO and time);
    /// for example a current-thread runtime:
    ///
    /// ```
    /// # use manager::launcher::Entries;
    /// # async fn count(_: u32) -> Result<(), manager::Error> { Ok(()) }
    /// let entries = Entries::new()
    ///     .async_runtime(|| tokio::runtime::Builder::new_current_thread().enable_all().build())
    ///     .entry_async("count", count);
    /// # drop(entries);
    /// ```
    ///
    /// A runtime that cannot be built fails the entry, before it runs, with
    /// [`WorkerError::EntryFailed`](crate::WorkerError::EntryFailed).
    pub fn async_runtime<F>(mut self, build: F) -> Self
    where
        F: Fn() -> std::io::Result<Runtime> + Send + Sync + 'static,
    {
        self.runtime = Box::new(build);
        self
    }

    /// If this process was launched as a worker, runs its entry and exits
    /// with its outcome (0: success, 1: error, 101: panic, 2: no such
    /// entry, 3: arguments refused), which it also reports to its parent.
    /// Otherwise returns at once.
    ///
    /// It also runs the built-in entry of a
    /// [`ManagerProcess`](crate::manager_process::ManagerProcess): the
    /// manager server, until it is told to stop or its parent dies.
    ///
    /// It may be called at the top of an async `main` (`#[tokio::main]`):
    /// there the entry runs on a thread of its own, outside the runtime,
    /// while `main`'s thread waits for it; the process exits when it ends
    /// (see [Async programs](super#async-programs)).
    pub fn run_if_worker(&self) {
        if let Ok(entry) = std::env::var(ENV_ENTRY) {
            worker_report::mark_dispatched();
            let code = if tokio::runtime::Handle::try_current().is_ok() {
                self.dispatch_off_runtime(&entry)
            } else {
                self.dispatch(&entry)
            };
            std::process::exit(code);
        }
    }

    /// Runs entry `entry` on this thread; returns the exit code.
    fn dispatch(&self, entry: &str) -> i32 {
        // Built-in entry: the server of a `ManagerProcess` (issue 4).
        #[cfg(feature = "manager")]
        if entry == crate::manager_process::SERVER_ENTRY {
            return crate::manager_process::run_server_entry(&self.custom);
        }
        self.run_entry(entry)
    }

    /// Runs entry `entry` on a thread of its own, outside the runtime this
    /// thread is in (where blocking, and so a blocking client or a runtime
    /// of the entry's own, would panic), and waits for it.
    fn dispatch_off_runtime(&self, entry: &str) -> i32 {
        let ran = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name(format!("worker {entry}"))
                .stack_size(ENTRY_STACK)
                .spawn_scoped(scope, || self.dispatch(entry))
                .map(|thread| thread.join())
        });
        match ran {
            Ok(Ok(code)) => code,
            // Entries catch their panics; the built-in one may not.
            Ok(Err(_)) => PANIC_EXIT_CODE,
            Err(e) => {
                let outcome = Outcome::Failed(format!("start the thread of the entry: {e}"));
                report_end(entry, &outcome)
            }
        }
    }

    /// Runs the entry named in the environment and exits; for binaries that
    /// only ever run as workers. Exits with code 2 if none is named.
    pub fn run(&self) -> ! {
        self.run_if_worker();
        eprintln!("this program runs only as a worker: {ENV_ENTRY} is not set");
        std::process::exit(2);
    }

    fn run_entry(&self, entry: &str) -> i32 {
        let Some(function) = self.entries.get(entry) else {
            let known: Vec<String> = self.entries.keys().cloned().collect();
            eprintln!(
                "no worker entry named `{entry}` (known: {})",
                known.join(", ")
            );
            worker_report::report(&Outcome::UnknownEntry(known));
            return UNKNOWN_ENTRY_EXIT_CODE;
        };
        let args = std::env::var(ENV_ARGS).unwrap_or_default();
        let ran = catch_unwind(AssertUnwindSafe(|| match function {
            EntryFn::Blocking(function) => function(&args),
            EntryFn::Async(function) => {
                let future = function(&args)?;
                let runtime = (self.runtime)().map_err(|e| {
                    Outcome::Failed(format!("build the runtime of async entry `{entry}`: {e}"))
                })?;
                let ended = catch_unwind(AssertUnwindSafe(|| runtime.block_on(future)));
                // Tasks the entry left behind end with it, blocking ones
                // too (they are not waited for): the process exits next.
                runtime.shutdown_background();
                ended.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            }
        }));
        let outcome = match ran {
            Ok(Ok(())) => return 0,
            Ok(Err(outcome)) => outcome,
            // The panic hook has already printed the message.
            Err(payload) => Outcome::Panicked(panic_message(&*payload)),
        };
        report_end(entry, &outcome)
    }
}

/// Says on stderr how entry `entry` failed, reports it to the parent, and
/// returns the exit code that goes with it.
fn report_end(entry: &str, outcome: &Outcome) -> i32 {
    let code = match outcome {
        Outcome::Failed(message) => {
            eprintln!(
                "worker `{entry}` (pid {}) failed: {message}",
                std::process::id()
            );
            1
        }
        Outcome::WrongArgs { expected, given } => {
            eprintln!(
                "worker `{entry}` (pid {}) refused its arguments: it takes `{expected}`, but was given `{given}`",
                std::process::id()
            );
            ARGS_EXIT_CODE
        }
        Outcome::BadArgs(reason) => {
            eprintln!(
                "worker `{entry}` (pid {}) cannot read its arguments: {reason}",
                std::process::id()
            );
            ARGS_EXIT_CODE
        }
        Outcome::Panicked(_) => PANIC_EXIT_CODE,
        Outcome::UnknownEntry(_) | Outcome::NotDispatched(_) => 1,
    };
    worker_report::report(outcome);
    code
}

/// Reads an entry's arguments from their hex form in [`ENV_ARGS`], refusing
/// them if they are not of type `A`. No arguments at all (the variable unset
/// or empty, as for a process started without a launcher) are `()`.
fn decode_args<A: DeserializeOwned>(entry: &str, hex_args: &str) -> Result<A, Outcome> {
    let value: Encoded = if hex_args.is_empty() {
        Encoded::encode(&()).map_err(|e| Outcome::BadArgs(e.to_string()))?
    } else {
        let bytes = hex::decode(hex_args)
            .map_err(|e| Outcome::BadArgs(format!("{ENV_ARGS} is not hex: {e}")))?;
        codec::decode(&bytes).map_err(|e| Outcome::BadArgs(e.to_string()))?
    };
    value
        .decode::<A>(format_args!("arguments of worker `{entry}`"))
        .map_err(|e| match worker_report::mismatch(&e) {
            Some((expected, given)) => Outcome::WrongArgs { expected, given },
            None => Outcome::BadArgs(e.to_string()),
        })
}

/// An error's message followed by those of its sources that it does not
/// already say, joined with ": ".
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !message.contains(&said) {
            message.push_str(": ");
            message.push_str(&said);
        }
        source = cause.source();
    }
    message
}

/// The message a panic was started with, if it was a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<String> {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
}
