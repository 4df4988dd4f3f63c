//! A manager in a process of its own: [`ManagerProcess`] and the
//! stand-alone `manager-server`.
//!
//! Python's `Manager()` runs its server in a child process, and
//! `BaseManager(address, authkey).get_server().serve_forever()` serves at a
//! fixed address that any process holding the key may connect to. Both are
//! here, beside the embedded [`Manager`]:
//!
//! - [`ManagerProcess::start`] re-executes the current program as a manager
//!   server (the built-in entry [`SERVER_ENTRY`], which
//!   [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker)
//!   recognises) and returns once it listens. Shared objects then live in
//!   that child, not in the app's memory.
//! - The `manager-server` binary (package `manager-server`, whose
//!   `server_main_with` makes a server of your own) serves a manager at a Unix socket path or a TCP address until
//!   SIGINT or SIGTERM:
//!
//!   ```sh
//!   export MANAGER_AUTHKEY=$(openssl rand -hex 32)
//!   manager-server --unix /run/app/manager.sock      # or --tcp 127.0.0.1:5000
//!   manager-server --tcp 127.0.0.1:5000 --authkey-file /etc/app/manager.key
//!   ```
//!
//!   The key comes from an environment variable (`--authkey-env NAME`,
//!   default `MANAGER_AUTHKEY`) or a file (`--authkey-file PATH`), in hex,
//!   never from the command line, where `ps` would show it. Logs go to
//!   stderr, filtered by `RUST_LOG` (default `info`).
//!
//! # The authkey in the environment
//!
//! A server, stand-alone or the child of a [`ManagerProcess`], removes the
//! variable it read the key from (`--authkey-env`, `MANAGER_AUTHKEY`) from
//! its environment at once, so no process it starts (a custom object's
//! handler may start some) inherits the key. Changing the environment is
//! sound only while a process has a single thread, which is so when
//! `manager_server::server_main` or
//! [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker) is
//! called first thing in `main`; if other threads already run, the
//! variable stays, with a warning. `/proc/PID/environ` goes on showing the
//! environment the server started with, to its own user and root; only a
//! key file (`--authkey-file`) keeps the key out of it.
//!
//! # Connecting from any process
//!
//! A client needs only the address and the key, however the manager was
//! started and whoever started the client:
//!
//! ```no_run
//! use manager::{Address, AuthKey, blocking};
//!
//! let address: Address = "unix:/run/app/manager.sock".parse()?;
//! let key = AuthKey::from_hex(&std::env::var("MANAGER_AUTHKEY")?)?;
//! let client = blocking::Client::connect(&address, &key)?;
//! let jobs = client.queue::<String>("jobs", None)?;
//! jobs.put(&"resize cat.png".to_owned())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Async code uses [`Client::connect`](crate::Client::connect) the same
//! way. A process that has `MANAGER_ADDRESS` and `MANAGER_AUTHKEY` in its
//! environment can use [`blocking::Client::from_env`] instead.
//!
//! # Readiness
//!
//! Once it listens, a server prints one line on stdout, [`READY_PREFIX`]
//! followed by its address (`listening on unix:/run/app/manager.sock`,
//! `listening on tcp:127.0.0.1:5000`), and nothing else: a parent waits for
//! readiness by reading that line. With `--tcp 127.0.0.1:0` the line gives
//! the port that was picked. A stand-alone server serving metrics
//! (`manager-server --metrics IP:PORT`, feature `metrics`) prints a second
//! line right after it, `METRICS_PREFIX` followed by the metrics address
//! (`metrics on 127.0.0.1:9100`), with the port a `:0` got.
//!
//! # Errors at start
//!
//! A missing or malformed key, or an address that cannot be bound, is one
//! line on stderr and exit code 1 (2 for bad usage). A second server on an
//! address in use fails that way and leaves the first one alone; for a Unix
//! socket path the line says whether a server answers there or the file is
//! a stale socket left by one that was killed.
//!
//! # Shutdown
//!
//! SIGTERM (and SIGINT, for `manager-server`) stops the manager as
//! [`Manager::shutdown`] does: every connection closes, so clients get
//! [`Error::ManagerGone`](crate::Error::ManagerGone), and the socket file is
//! removed; the process exits with code 0. [`ManagerProcess::shutdown`] sends
//! SIGTERM and waits, bounded, killing the child if it does not stop.
//! A child that was killed outright (SIGKILL) removes nothing; when the
//! parent finds it ended (at `shutdown` or drop), it removes the socket and
//! the private directory the child made for it (only when no address was
//! given: a path the app chose is the app's).
//!
//! # What happens when the app dies
//!
//! The child of a [`ManagerProcess`] is spawned from the launcher's thread
//! with a parent-death signal, like a worker; on Linux it then asks for
//! SIGTERM instead of SIGKILL, so when the app exits, however it exits
//! (SIGKILL included), the child shuts down cleanly and removes its socket.
//! Python's manager process is left running, orphaned. It ignores SIGINT,
//! as Python's does: a Ctrl-C in a terminal reaches the whole process group,
//! and the app, not its manager, decides what happens then.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, ExitStatus};
use std::sync::mpsc;
use std::time::Duration;

use crate::launcher::Launcher;
use crate::{Address, AuthKey, Client, blocking, platform};

#[cfg(all(doc, feature = "manager"))]
use crate::{Manager, ManagerBuilder};

mod builder;
mod error;
#[cfg(feature = "manager")]
mod serve;

pub use builder::ManagerProcessBuilder;
pub use error::ManagerProcessError;

#[cfg(feature = "manager")]
pub(crate) use serve::run_server_entry;
#[cfg(feature = "manager")]
pub use serve::{ServeError, run_if_server_entry, serve_standalone, take_authkey_var};

/// The name of the built-in worker entry that runs a [`ManagerProcess`]'s
/// server. It reads where to listen from `MANAGER_ADDRESS` (a private
/// socket if unset) and the key from `MANAGER_AUTHKEY`.
pub const SERVER_ENTRY: &str = "__manager_server";

/// What a server prints on stdout, followed by its address, once it listens.
pub const READY_PREFIX: &str = "listening on ";

/// What a stand-alone server serving metrics prints on stdout right after
/// its ready line, followed by the metrics address (`IP:PORT`; the metrics
/// are at `http://IP:PORT/metrics`).
#[cfg(feature = "metrics")]
pub const METRICS_PREFIX: &str = "metrics on ";

/// Where a manager process finds the address to serve metrics on
/// (`IP:PORT`), if it is to serve them; the endpoint's bounds are in the
/// `ENV_METRICS_*` variables of `manager_ipc::server::metrics`.
#[cfg(feature = "metrics")]
pub const ENV_METRICS: &str = "MANAGER_METRICS";

/// Where the built-in server finds its limits (see [`Limits`](crate::limits::Limits)); unset
/// ones keep their defaults.
pub use crate::limits::{
    ENV_FRAME_TIMEOUT_MS, ENV_HANDSHAKE_TIMEOUT_MS, ENV_MAX_BACKLOG_BYTES, ENV_MAX_CONNECTIONS,
    ENV_MAX_FRAME, ENV_MAX_HANDSHAKES, ENV_MAX_IN_FLIGHT, ENV_MAX_OBJECTS, ENV_MAX_PARKED,
};

/// What the built-in server prints on stdout, followed by the reason, if it
/// cannot start.
const FAILED_PREFIX: &str = "error: ";

/// How long [`ManagerProcess::start`] waits for the child to listen, by
/// default.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(10);

/// How long [`ManagerProcess::shutdown`] waits after SIGTERM before it
/// kills the child, by default.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// A manager server running in a child process of this one.
///
/// Shared objects live in the child; this handle knows its address and key,
/// connects clients and launches workers as [`Manager`] does. Shutting it
/// down, or dropping it, stops the child (SIGTERM, then SIGKILL after a
/// deadline). See the [module docs](self) for what happens when the app
/// dies.
///
/// # Examples
///
/// ```no_run
/// use manager::launcher::Entries;
/// use manager::manager_process::ManagerProcess;
///
/// fn main() -> Result<(), Box<dyn std::error::Error>> {
///     // In the manager process (and in workers) this runs their part and exits.
///     Entries::new().run_if_worker();
///
///     let manager = ManagerProcess::start()?;
///     let ns = manager.connect()?.namespace("config")?;
///     ns.set("workers", &4_u32)?;
///     // Any process with these two can connect.
///     println!("{} {}", manager.address(), manager.authkey().to_hex());
///     manager.shutdown()?;
///     Ok(())
/// }
/// ```
#[derive(Debug)]
pub struct ManagerProcess {
    pub(super) child: Child,
    pub(super) address: Address,
    pub(super) authkey: AuthKey,
    pub(super) stop_timeout: Duration,
    pub(super) status: Option<ExitStatus>,
    /// Where it serves metrics, if asked to.
    #[cfg(feature = "metrics")]
    pub(super) metrics_address: Option<std::net::SocketAddr>,
    /// The private socket directory the child made for itself (no address
    /// was given): removed here once the child has ended, in case it could
    /// not remove it (it was killed).
    pub(super) own_dir: Option<PathBuf>,
}

impl ManagerProcess {
    /// Starts a manager process on a Unix socket in a fresh private
    /// directory, with a random authkey, by re-executing the current
    /// program; returns once it listens.
    ///
    /// # Errors
    ///
    /// As [`ManagerProcessBuilder::start`].
    pub fn start() -> Result<ManagerProcess, ManagerProcessError> {
        ManagerProcessBuilder::default().start()
    }

    /// Configures a manager process before starting it.
    pub fn builder() -> ManagerProcessBuilder {
        ManagerProcessBuilder::default()
    }

    /// Where the manager listens.
    pub fn address(&self) -> &Address {
        &self.address
    }

    /// The key clients must prove they hold.
    pub fn authkey(&self) -> &AuthKey {
        &self.authkey
    }

    /// Where it serves Prometheus metrics (`http://ADDR/metrics`), if
    /// [`ManagerProcessBuilder::metrics`] asked it to (feature `metrics`),
    /// with the port a `:0` got.
    #[cfg(feature = "metrics")]
    pub fn metrics_address(&self) -> Option<std::net::SocketAddr> {
        self.metrics_address
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A launcher for worker processes that connect to this manager.
    pub fn launcher(&self) -> Launcher {
        Launcher::new(self.address.clone(), self.authkey.clone())
    }

    /// Connects a blocking client.
    ///
    /// # Errors
    ///
    /// As [`blocking::Client::connect`]: [`Error::InsideRuntime`](crate::Error::InsideRuntime)
    /// inside an async context of a tokio runtime, where
    /// [`ManagerProcess::connect_async`] is the call to await.
    pub fn connect(&self) -> Result<blocking::Client, crate::Error> {
        blocking::Client::connect_as(
            &self.address,
            &self.authkey,
            "ManagerProcess::connect",
            "ManagerProcess::connect_async",
        )
    }

    /// Connects an async client; call it inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// As [`Client::connect`].
    pub async fn connect_async(&self) -> Result<Client, crate::Error> {
        Client::connect(&self.address, &self.authkey).await
    }

    /// Stops the child: SIGTERM, then waits for it to end (it closes every
    /// connection and removes its socket), killing it if it has not ended
    /// within the stop timeout.
    ///
    /// # Errors
    ///
    /// [`ManagerProcessError::StopTimeout`] if it had to be killed,
    /// [`Ended`](ManagerProcessError::Ended) if it had already ended badly
    /// (killed by someone else, say), [`Wait`](ManagerProcessError::Wait)
    /// if it could not be signalled or waited for. It is not running
    /// afterwards in any case but the last.
    pub fn shutdown(mut self) -> Result<(), ManagerProcessError> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), ManagerProcessError> {
        let pid = self.pid();
        let wait_err = |cause| ManagerProcessError::Wait { pid, cause };
        if self.status.is_none() {
            // Not reaped yet, so the pid is still this child's, even if it
            // has exited: the signal cannot reach another process.
            self.status = self.child.try_wait().map_err(wait_err)?;
        }
        let status = match self.status {
            Some(status) => status,
            None => {
                platform::terminate(pid).map_err(wait_err)?;
                match platform::wait_child(&mut self.child, self.stop_timeout).map_err(wait_err)? {
                    Some(status) => status,
                    None => {
                        let _ = self.child.kill();
                        self.status = Some(self.child.wait().map_err(wait_err)?);
                        self.remove_own_dir();
                        return Err(ManagerProcessError::StopTimeout {
                            pid,
                            after: self.stop_timeout,
                        });
                    }
                }
            }
        };
        self.status = Some(status);
        self.remove_own_dir();
        if status.success() {
            tracing::debug!(pid, address = %self.address, "manager process stopped");
            Ok(())
        } else {
            Err(ManagerProcessError::Ended { pid, status })
        }
    }
}

impl ManagerProcess {
    /// Removes the child's private socket directory and its socket once the
    /// child has ended badly (killed: it could not remove them itself). A
    /// child that exited cleanly removed them already, and then nothing is
    /// touched: the name may have been taken by someone else since.
    ///
    /// Only a real directory (not a symlink) of this user with mode 0700,
    /// and in it only a socket, are ever deleted, so another user's files
    /// in a shared temporary directory are safe even if they raced for the
    /// name.
    fn remove_own_dir(&mut self) {
        use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

        let (Some(dir), Address::Unix(socket)) = (self.own_dir.take(), &self.address) else {
            return;
        };
        if self.status.is_some_and(|status| status.success()) {
            return;
        }
        let ours = std::fs::symlink_metadata(&dir).is_ok_and(|meta| {
            meta.file_type().is_dir()
                && meta.uid() == platform::effective_uid()
                && meta.permissions().mode() & 0o777 == 0o700
        });
        if !ours {
            return;
        }
        if std::fs::symlink_metadata(socket).is_ok_and(|meta| meta.file_type().is_socket()) {
            let _ = std::fs::remove_file(socket);
        }
        match std::fs::remove_dir(&dir) {
            Ok(()) => {
                tracing::debug!(dir = %dir.display(), "removed the ended manager process's socket directory")
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::debug!(dir = %dir.display(), error = %e, "cannot remove the manager process's socket directory")
            }
        }
    }
}

impl Drop for ManagerProcess {
    fn drop(&mut self) {
        if self.status.is_none()
            && let Err(e) = self.stop()
        {
            tracing::warn!(error = %e, "stopping the manager process");
        }
    }
}

/// What the child said on stdout.
pub(super) enum Report {
    /// Its address, and the line after the ready line if one was asked
    /// for (the metrics address).
    Ready(String, Option<String>),
    Failed(String),
    Closed,
}

/// Reads the child's stdout on a thread of its own until it reports, so the
/// wait for it can have a deadline. Lines that are not reports (the program
/// printed something before `run_if_worker`) are skipped. With
/// `second_line`, the line right after the ready line comes with it.
pub(super) fn watch_stdout(stdout: ChildStdout, second_line: bool) -> mpsc::Receiver<Report> {
    let (tx, rx) = mpsc::channel();
    let watch = move || {
        let mut reader = BufReader::new(stdout);
        let mut line = Vec::new();
        let report = loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break Report::Closed,
                Ok(_) => {
                    let text = String::from_utf8_lossy(&line);
                    let text = text.trim_end();
                    if let Some(address) = text.strip_prefix(READY_PREFIX) {
                        let address = address.to_owned();
                        let mut next = Vec::new();
                        let second = (second_line
                            && reader.read_until(b'\n', &mut next).is_ok_and(|n| n > 0))
                        .then(|| String::from_utf8_lossy(&next).trim_end().to_owned());
                        break Report::Ready(address, second);
                    }
                    if let Some(reason) = text.strip_prefix(FAILED_PREFIX) {
                        break Report::Failed(reason.to_owned());
                    }
                    tracing::debug!(line = %text, "manager process said");
                }
            }
        };
        let _ = tx.send(report);
    };
    // If no thread can be started the sender is dropped, which reads as
    // `Closed`.
    let _ = std::thread::Builder::new()
        .name("manager-process-stdout".to_owned())
        .spawn(watch);
    rx
}
