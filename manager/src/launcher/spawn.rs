//! The parent's side: [`Launcher`] starts worker processes, [`Worker`]
//! waits for one, and says how it ended.

use std::ffi::OsStr;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use manager_core::{Encoded, codec};
use serde::Serialize;

use super::env::{
    ENV_ADDRESS, ENV_ARGS, ENV_AUTHKEY, ENV_ENTRY, ENV_REPORT_FD, MAX_ARGS_LEN, PANIC_EXIT_CODE,
};
use crate::error::{LaunchError, WorkerError};
use crate::worker_report::{self, Outcome, ReportReader};
use crate::{Address, AuthKey, platform};

#[cfg(doc)]
use super::Entries;

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

    /// The address of the manager its workers use.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The key of the manager its workers use.
    pub fn authkey(&self) -> &AuthKey {
        &self.authkey
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
/// Wait for it with [`Worker::join`] on a plain thread, or with
/// [`Worker::wait`] in async code (the same outcome: both end in one
/// judgement of its exit status and report). Dropping it before it was
/// joined kills it and waits for it.
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

    /// Waits for the worker to end, blocking the calling thread; async code
    /// awaits [`Worker::wait`] instead.
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
        if self.status.is_none() {
            self.status = platform::wait_child(&mut self.child, timeout)
                .map_err(|cause| self.wait_error(cause))?;
        }
        match self.status {
            Some(status) => self.judge(status),
            None => Err(self.timeout_error(timeout)),
        }
    }

    /// Waits for the worker to end without blocking the thread: the async
    /// twin of [`Worker::join`], with the same outcome. On Linux the kernel
    /// wakes the wait when the worker exits (a pidfd); elsewhere it looks
    /// every few milliseconds.
    ///
    /// # Errors
    ///
    /// As [`Worker::join`].
    ///
    /// # Panics
    ///
    /// If it is not awaited inside a tokio runtime with its IO and time
    /// drivers (`enable_all`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future (a `select!` branch that lost)
    /// leaves the worker running and its handle as it was; a status it read
    /// is kept, so a later `wait`, `join` or [`Worker::try_status`] sees it.
    /// Nothing is killed: to stop the worker, [`Worker::kill`] it or drop
    /// the handle.
    pub async fn wait(&mut self) -> Result<(), WorkerError> {
        let status = self.exited().await?;
        self.judge(status)
    }

    /// Waits at most `timeout` for the worker to end, without blocking the
    /// thread: the async twin of [`Worker::join_timeout`].
    ///
    /// # Errors
    ///
    /// [`WorkerError::Timeout`] if it is still running then (it is left
    /// running), otherwise as [`Worker::join`].
    ///
    /// # Panics
    ///
    /// As [`Worker::wait`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`Worker::wait`].
    pub async fn wait_timeout(&mut self, timeout: Duration) -> Result<(), WorkerError> {
        match tokio::time::timeout(timeout, self.exited()).await {
            Ok(status) => self.judge(status?),
            Err(_) => Err(self.timeout_error(timeout)),
        }
    }

    /// Waits, without blocking the thread, until the worker has exited, and
    /// reaps it. Cancel safe: the status is stored before it is returned.
    async fn exited(&mut self) -> Result<ExitStatus, WorkerError> {
        if let Some(status) = self.try_status()? {
            return Ok(status);
        }
        // Opened after the first look, so it names our unreaped child.
        match platform::exit_watch(self.pid()) {
            Ok(exit) => loop {
                let mut ready = exit
                    .readable()
                    .await
                    .map_err(|cause| self.wait_error(cause))?;
                if let Some(status) = self.try_status()? {
                    return Ok(status);
                }
                ready.clear_ready();
            },
            // No pidfd (another system, an old kernel): look with a
            // growing pause.
            Err(_) => {
                let mut pauses = pauses();
                loop {
                    tokio::time::sleep(pauses.next().unwrap_or(MAX_PAUSE)).await;
                    if let Some(status) = self.try_status()? {
                        return Ok(status);
                    }
                }
            }
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

    fn timeout_error(&self, after: Duration) -> WorkerError {
        WorkerError::Timeout {
            entry: self.entry.clone(),
            pid: self.pid(),
            after,
        }
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

/// The longest pause between two looks at a worker that has not ended.
const MAX_PAUSE: Duration = Duration::from_millis(20);

/// The pauses between looks at a worker that has not ended: 1 ms, doubling
/// up to [`MAX_PAUSE`].
fn pauses() -> impl Iterator<Item = Duration> {
    std::iter::successors(Some(Duration::from_millis(1)), |pause| {
        Some((*pause * 2).min(MAX_PAUSE))
    })
}

impl Drop for Worker {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.kill();
        }
    }
}
