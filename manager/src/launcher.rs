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
//! [`Worker::join`] returns `Ok` for an entry that returned `Ok`, and a
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

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::os::unix::process::ExitStatusExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use manager_core::{Encoded, codec};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, LaunchError, WorkerError};
use crate::worker_report::{self, Outcome, ReportReader};
use crate::{Address, AuthKey, platform};

/// Environment variable holding the manager's address.
pub const ENV_ADDRESS: &str = "MANAGER_ADDRESS";
/// Environment variable holding the authkey, in hex.
pub const ENV_AUTHKEY: &str = "MANAGER_AUTHKEY";
/// Environment variable naming the entry a worker runs.
pub const ENV_ENTRY: &str = "MANAGER_WORKER_ENTRY";
/// Environment variable holding the entry's arguments, in hex: an
/// [`Encoded`] value (the codec's bytes and the arguments' type).
pub const ENV_ARGS: &str = "MANAGER_WORKER_ARGS";
/// Environment variable holding the number of the fd a worker reports its
/// failure on (see [What happens when a worker ends](self#what-happens-when-a-worker-ends)).
pub const ENV_REPORT_FD: &str = "MANAGER_WORKER_REPORT_FD";

/// The most bytes of encoded arguments an entry may be given (they travel in
/// one environment variable, which Linux limits to 128 KiB).
pub const MAX_ARGS_LEN: usize = 60 * 1024;

/// The exit code of a worker whose entry panicked (Rust's own for a panic).
pub const PANIC_EXIT_CODE: i32 = 101;

/// The exit code of a worker that found no entry of its name.
pub const UNKNOWN_ENTRY_EXIT_CODE: i32 = 2;

/// The exit code of a worker that refused its arguments.
pub const ARGS_EXIT_CODE: i32 = 3;

/// Reads the manager's address and key from the environment.
pub(crate) fn manager_from_env() -> Result<(Address, AuthKey), Error> {
    let var = |name: &str| {
        std::env::var(name).map_err(|_| {
            Error::Environment(format!(
                "{name} is not set; was this process started by a launcher?"
            ))
        })
    };
    let address = var(ENV_ADDRESS)?
        .parse::<Address>()
        .map_err(|e| Error::Environment(format!("{ENV_ADDRESS}: {e}")))?;
    let key = AuthKey::from_hex(&var(ENV_AUTHKEY)?)
        .map_err(|e| Error::Environment(format!("{ENV_AUTHKEY}: {e}")))?;
    Ok((address, key))
}

/// Spawns `command` from one long-lived thread of this process.
///
/// On Linux a worker is killed when the *thread* that spawned it exits
/// (`PR_SET_PDEATHSIG` follows the thread, not the process). Spawning every
/// worker from one thread that lives as long as the process makes workers
/// die with the app, not with whichever pool thread happened to launch them.
pub(crate) fn spawn_from_launcher_thread(command: Command) -> std::io::Result<Child> {
    use std::sync::mpsc::{Sender, channel};
    use std::sync::{Mutex, OnceLock};

    type Job = (Command, Sender<std::io::Result<Child>>);
    static SPAWNER: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, inbox) = channel::<Job>();
        let started = std::thread::Builder::new()
            .name("manager-launcher".to_owned())
            .spawn(move || {
                for (mut command, reply) in inbox {
                    let _ = reply.send(command.spawn());
                }
            });
        if let Err(e) = started {
            tracing::error!(error = %e, "cannot start the launcher thread");
        }
        Mutex::new(jobs)
    });
    let (reply, answer) = channel();
    let sent = spawner
        .lock()
        .map_err(|_| std::io::Error::other("launcher thread poisoned"))?
        .send((command, reply));
    if sent.is_err() {
        return Err(std::io::Error::other("the launcher thread is not running"));
    }
    answer
        .recv()
        .map_err(|_| std::io::Error::other("the launcher thread did not answer"))?
}

/// Starts workers for one manager.
///
/// # Examples
///
/// ```no_run
/// use manager::launcher::Entries;
/// use manager::{Manager, blocking};
///
/// fn count(times: u32) -> Result<(), manager::Error> {
///     let ns = blocking::Client::from_env()?.namespace("stats")?;
///     for _ in 0..times {
///         ns.add("count", 1)?;
///     }
///     Ok(())
/// }
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     Entries::new().entry("count", count).run_if_worker();
///
///     let manager = Manager::start()?;
///     let mut workers = (0..4)
///         .map(|_| manager.launcher().spawn("count", &100_u32))
///         .collect::<Result<Vec<_>, _>>()?;
///     for worker in &mut workers {
///         worker.join()?;
///     }
///     assert_eq!(manager.connect()?.namespace("stats")?.get::<i64>("count")?, 400);
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Launcher {
    address: Address,
    authkey: AuthKey,
}

impl Launcher {
    /// A launcher for the manager at `address` with `authkey`.
    pub fn new(address: Address, authkey: AuthKey) -> Self {
        Launcher { address, authkey }
    }

    /// Starts a copy of the running program as worker `entry` with `args`.
    ///
    /// # Errors
    ///
    /// [`LaunchError`] if the arguments cannot be encoded or are too large,
    /// or the process cannot be started; [`LaunchError::NotDispatched`] if
    /// this process is itself a worker whose `main` did not call
    /// [`Entries::run_if_worker`] first.
    pub fn spawn<A: Serialize + ?Sized>(
        &self,
        entry: &str,
        args: &A,
    ) -> Result<Worker, LaunchError> {
        let program = std::env::current_exe().map_err(LaunchError::CurrentExe)?;
        self.spawn_program(program, entry, args)
    }

    /// Starts `program`, a binary that runs [`Entries`], as worker `entry`
    /// with `args`.
    ///
    /// # Errors
    ///
    /// As [`Launcher::spawn`].
    pub fn spawn_program<A: Serialize + ?Sized>(
        &self,
        program: impl AsRef<OsStr>,
        entry: &str,
        args: &A,
    ) -> Result<Worker, LaunchError> {
        worker_report::refuse_undispatched("Launcher::spawn").map_err(|reason| {
            LaunchError::NotDispatched {
                entry: entry.to_owned(),
                reason,
            }
        })?;
        let encoded = Encoded::encode(args)
            .and_then(|value| codec::encode(&value))
            .map_err(|cause| LaunchError::Args {
                entry: entry.to_owned(),
                cause,
            })?;
        if encoded.len() > MAX_ARGS_LEN {
            return Err(LaunchError::ArgsTooLarge {
                entry: entry.to_owned(),
                size: encoded.len(),
                max: MAX_ARGS_LEN,
            });
        }
        let spawn_error = |cause| LaunchError::Spawn {
            entry: entry.to_owned(),
            program: program.as_ref().to_string_lossy().into_owned(),
            cause,
        };
        let (report, writer) = ReportReader::new().map_err(spawn_error)?;
        let fd = worker_report::fd_of(&writer);
        let mut command = self.command(program.as_ref());
        command
            .env(ENV_ENTRY, entry)
            .env(ENV_ARGS, hex::encode(encoded))
            .env(ENV_REPORT_FD, fd.to_string());
        platform::inherit_fd(&mut command, fd);
        let child = spawn_from_launcher_thread(command).map_err(spawn_error)?;
        // The worker holds its own copy of the write end now.
        drop(writer);
        tracing::debug!(entry, pid = child.id(), "worker started");
        Ok(Worker {
            entry: entry.to_owned(),
            child,
            status: None,
            report,
        })
    }

    /// A command for any program, with the manager's address and key in its
    /// environment. Use it for workers that do not use [`Entries`] and spawn
    /// it yourself. On Linux the process it starts is killed when the thread
    /// that spawns it exits, so spawn it from a thread that lives as long as
    /// the worker should (workers of [`Launcher::spawn`] are spawned from a
    /// thread that lives as long as the process).
    ///
    /// In a worker whose `main` forgot [`Entries::run_if_worker`], the
    /// command keeps the worker's mark ([`ENV_ENTRY`]), so a copy of the
    /// program it starts is refused by the same guards and cannot launch
    /// more in turn.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env(ENV_ADDRESS, self.address.to_string())
            .env(ENV_AUTHKEY, self.authkey.to_hex())
            .env_remove(ENV_ARGS)
            .env_remove(ENV_REPORT_FD);
        if !worker_report::is_undispatched_worker() {
            command.env_remove(ENV_ENTRY);
        }
        platform::kill_when_parent_dies(&mut command);
        command
    }
}

/// A running (or finished) worker process.
///
/// Dropping it before it was joined kills it and waits for it.
#[derive(Debug)]
pub struct Worker {
    entry: String,
    child: Child,
    status: Option<ExitStatus>,
    /// What the worker says about how it ended.
    report: ReportReader,
}

impl Worker {
    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The entry it runs.
    pub fn entry(&self) -> &str {
        &self.entry
    }

    /// Waits for the worker to end.
    ///
    /// # Errors
    ///
    /// [`WorkerError`] if it failed, panicked, refused its arguments, did
    /// not find its entry or was killed, or if waiting failed.
    pub fn join(&mut self) -> Result<(), WorkerError> {
        let status = match self.status {
            Some(status) => status,
            None => {
                let status = self
                    .child
                    .wait()
                    .map_err(|source| self.wait_error(source))?;
                self.status = Some(status);
                status
            }
        };
        self.judge(status)
    }

    /// Waits at most `timeout` for the worker to end.
    ///
    /// # Errors
    ///
    /// [`WorkerError::Timeout`] if it is still running then (it is left
    /// running), otherwise as [`Worker::join`].
    pub fn join_timeout(&mut self, timeout: Duration) -> Result<(), WorkerError> {
        let start = Instant::now();
        let deadline = start
            .checked_add(timeout)
            .unwrap_or(start + Duration::from_secs(86_400 * 365));
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(status) = self.try_status()? {
                return self.judge(status);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(WorkerError::Timeout {
                    entry: self.entry.clone(),
                    pid: self.pid(),
                    after: timeout,
                });
            }
            // Poll with a growing pause: std offers no wait with a deadline.
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// The exit status if the worker has ended, without waiting.
    ///
    /// # Errors
    ///
    /// [`WorkerError::Wait`] if the status cannot be read.
    pub fn try_status(&mut self) -> Result<Option<ExitStatus>, WorkerError> {
        if self.status.is_none() {
            self.status = self
                .child
                .try_wait()
                .map_err(|source| self.wait_error(source))?;
        }
        Ok(self.status)
    }

    /// Kills the worker with SIGKILL (if it is still running) and waits for
    /// it to end.
    ///
    /// # Errors
    ///
    /// [`WorkerError::Wait`] if it cannot be killed or waited for.
    pub fn kill(&mut self) -> Result<(), WorkerError> {
        if self.status.is_some() {
            return Ok(());
        }
        // An error here means it has already exited; wait reaps it either way.
        let _ = self.child.kill();
        let status = self
            .child
            .wait()
            .map_err(|source| self.wait_error(source))?;
        self.status = Some(status);
        Ok(())
    }

    fn wait_error(&self, cause: std::io::Error) -> WorkerError {
        WorkerError::Wait {
            entry: self.entry.clone(),
            pid: self.pid(),
            cause,
        }
    }

    fn judge(&mut self, status: ExitStatus) -> Result<(), WorkerError> {
        let (entry, pid) = (self.entry.clone(), self.pid());
        let outcome = self.report.outcome().cloned();
        match (status.code(), status.signal(), outcome) {
            // A main that went on after its refusal still never ran the entry.
            (Some(_), _, Some(Outcome::NotDispatched(reached))) => {
                Err(WorkerError::NotDispatched {
                    entry,
                    pid,
                    reached,
                })
            }
            (Some(0), _, _) => Ok(()),
            (Some(_), _, Some(outcome)) => Err(match outcome {
                Outcome::Failed(message) => WorkerError::EntryFailed {
                    entry,
                    pid,
                    message,
                },
                Outcome::Panicked(message) => WorkerError::Panicked {
                    entry,
                    pid,
                    message,
                },
                Outcome::UnknownEntry(known) => WorkerError::UnknownEntry { entry, pid, known },
                Outcome::WrongArgs { expected, given } => WorkerError::WrongArgs {
                    entry,
                    pid,
                    expected,
                    given,
                },
                Outcome::BadArgs(reason) => WorkerError::BadArgs { entry, pid, reason },
                Outcome::NotDispatched(reached) => WorkerError::NotDispatched {
                    entry,
                    pid,
                    reached,
                },
            }),
            (Some(PANIC_EXIT_CODE), _, None) => Err(WorkerError::Panicked {
                entry,
                pid,
                message: None,
            }),
            (Some(code), _, None) => Err(WorkerError::Failed { entry, pid, code }),
            (None, Some(signal), _) => Err(WorkerError::Killed { entry, pid, signal }),
            (None, None, _) => Err(WorkerError::Failed {
                entry,
                pid,
                code: -1,
            }),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.kill();
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type EntryFn = Box<dyn Fn(&str) -> Result<(), Outcome>>;

/// The entry functions a program can run as a worker, and the custom
/// object types it serves when it runs as a
/// [`ManagerProcess`](crate::manager_process::ManagerProcess).
#[must_use = "call `run_if_worker` (or `run`) at the start of main, or workers run main again"]
pub struct Entries {
    entries: BTreeMap<String, EntryFn>,
    #[cfg(feature = "manager")]
    custom: manager_actors::CustomTypes,
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Entries");
        out.field("entries", &self.entries.keys().collect::<Vec<_>>());
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

    /// Registers `function` under `name`; a worker launched with that name
    /// runs it with the arguments its launcher gave, if they are of type
    /// `A` (otherwise it refuses them, see
    /// [Arguments are typed](self#arguments-are-typed)).
    pub fn entry<A, E, F>(mut self, name: &str, function: F) -> Self
    where
        A: DeserializeOwned,
        E: Into<BoxError>,
        F: Fn(A) -> Result<(), E> + 'static,
    {
        let owned = name.to_owned();
        self.entries.insert(
            name.to_owned(),
            Box::new(move |hex_args: &str| {
                let args: A = decode_args(&owned, hex_args)?;
                function(args).map_err(|e| Outcome::Failed(error_chain(&*e.into())))
            }),
        );
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
    pub fn run_if_worker(&self) {
        if let Ok(entry) = std::env::var(ENV_ENTRY) {
            worker_report::mark_dispatched();
            // Built-in entry: the server of a `ManagerProcess` (issue 4).
            #[cfg(feature = "manager")]
            if entry == crate::manager_process::SERVER_ENTRY {
                std::process::exit(crate::manager_process::run_server_entry(&self.custom));
            }
            std::process::exit(self.run_entry(&entry));
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
        let outcome = match catch_unwind(AssertUnwindSafe(|| function(&args))) {
            Ok(Ok(())) => return 0,
            Ok(Err(outcome)) => outcome,
            // The panic hook has already printed the message.
            Err(payload) => Outcome::Panicked(panic_message(&*payload)),
        };
        let code = match &outcome {
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
        worker_report::report(&outcome);
        code
    }
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
