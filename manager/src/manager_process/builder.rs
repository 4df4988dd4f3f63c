//! [`ManagerProcessBuilder`]: where a manager process listens, with which
//! key, limits and deadlines; and starting it.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use super::{
    DEFAULT_START_TIMEOUT, DEFAULT_STOP_TIMEOUT, ManagerProcess, ManagerProcessError, Report,
    SERVER_ENTRY, watch_stdout,
};
use crate::launcher::env::{ENV_ADDRESS, ENV_ARGS, ENV_AUTHKEY, ENV_ENTRY};
use crate::limits::Limits;
use crate::{Address, AuthKey, platform};
#[cfg(all(doc, feature = "manager"))]
use crate::{Manager, ManagerBuilder};

/// Configures a [`ManagerProcess`] before starting it.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `start` is called"]
pub struct ManagerProcessBuilder {
    bind: Option<Address>,
    authkey: Option<AuthKey>,
    program: Option<PathBuf>,
    start_timeout: Duration,
    stop_timeout: Duration,
    limits: Limits,
    /// Where to serve metrics, if anywhere, and within what.
    #[cfg(feature = "metrics")]
    metrics: Option<(
        std::net::SocketAddr,
        manager_ipc::server::metrics::MetricsLimits,
    )>,
}

impl Default for ManagerProcessBuilder {
    fn default() -> Self {
        ManagerProcessBuilder {
            bind: None,
            authkey: None,
            program: None,
            start_timeout: DEFAULT_START_TIMEOUT,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
            limits: Limits::default(),
            #[cfg(feature = "metrics")]
            metrics: None,
        }
    }
}

impl ManagerProcessBuilder {
    /// Listens on a Unix domain socket at `path` instead of one in a fresh
    /// private directory.
    pub fn unix(mut self, path: impl Into<PathBuf>) -> Self {
        self.bind = Some(Address::Unix(path.into()));
        self
    }

    /// Listens on TCP at `addr`; port 0 picks a free port.
    pub fn tcp(mut self, addr: std::net::SocketAddr) -> Self {
        self.bind = Some(Address::Tcp(addr));
        self
    }

    /// Also serves Prometheus metrics at `http://ADDR/metrics` within the
    /// default bounds (feature `metrics`; see
    /// [`ManagerBuilder::metrics`](crate::ManagerBuilder::metrics)); port 0
    /// picks a free port, which [`ManagerProcess::metrics_address`] tells.
    #[cfg(feature = "metrics")]
    pub fn metrics(self, addr: std::net::SocketAddr) -> Self {
        self.metrics_with(addr, manager_ipc::server::metrics::MetricsLimits::default())
    }

    /// [`ManagerProcessBuilder::metrics`] within `limits`.
    #[cfg(feature = "metrics")]
    pub fn metrics_with(
        mut self,
        addr: std::net::SocketAddr,
        limits: manager_ipc::server::metrics::MetricsLimits,
    ) -> Self {
        self.metrics = Some((addr, limits));
        self
    }

    /// Uses this key instead of a random one.
    pub fn authkey(mut self, key: AuthKey) -> Self {
        self.authkey = Some(key);
        self
    }

    /// The largest frame the manager accepts or sends, in bytes, as
    /// [`ManagerBuilder::max_frame`] (default 16 MiB, at least
    /// [`MIN_MAX_FRAME`](crate::manager::MIN_MAX_FRAME)). Clients learn it
    /// in the handshake and refuse to send a larger request.
    pub fn max_frame(mut self, bytes: usize) -> Self {
        self.limits.max_frame = bytes;
        self
    }

    /// How long a connecting client has to authenticate, as
    /// [`ManagerBuilder::handshake_timeout`] (default 5 s). It reaches the
    /// child in whole milliseconds, rounded up.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.limits.handshake_timeout = timeout;
        self
    }

    /// Every limit of the manager at once, as [`ManagerBuilder::limits`]
    /// (see [`Limits`]). They reach the child in its environment, durations
    /// in whole milliseconds, rounded up.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Runs `program` as the server instead of the current executable. It
    /// must call [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker)
    /// (or [`Entries::run`](crate::launcher::Entries::run)) first thing in
    /// `main`; `manager-server` does too. Integration tests need this: the
    /// current executable there is the test harness, which does not.
    pub fn program(mut self, program: impl Into<PathBuf>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// How long [`start`](Self::start) waits for the child to listen
    /// (default 10 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// How long [`ManagerProcess::shutdown`] (and drop) wait after SIGTERM
    /// before killing the child (default 5 s).
    pub fn stop_timeout(mut self, timeout: Duration) -> Self {
        self.stop_timeout = timeout;
        self
    }

    /// Starts the child and waits until it listens.
    ///
    /// # Errors
    ///
    /// [`ManagerProcessError::InManagerProcess`] when called in the child
    /// itself; [`NotDispatched`](ManagerProcessError::NotDispatched) when
    /// called in a worker whose `main` did not call
    /// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker)
    /// first; [`Spawn`](ManagerProcessError::Spawn) if it cannot be
    /// started; [`Failed`](ManagerProcessError::Failed) if its manager
    /// cannot start (the address is in use, ...);
    /// [`EndedEarly`](ManagerProcessError::EndedEarly) or
    /// [`NotReady`](ManagerProcessError::NotReady) if it ends or stays
    /// silent instead of listening. In every case no child is left running.
    pub fn start(self) -> Result<ManagerProcess, ManagerProcessError> {
        // Without this guard a program that forgot `run_if_worker` would
        // start a manager process from its manager process, and so on.
        if std::env::var(ENV_ENTRY).is_ok_and(|entry| entry == SERVER_ENTRY) {
            return Err(ManagerProcessError::InManagerProcess);
        }
        // The same for a worker whose main forgot it.
        crate::worker_report::refuse_undispatched("ManagerProcess::start")
            .map_err(ManagerProcessError::NotDispatched)?;
        let authkey = match self.authkey {
            Some(key) => key,
            None => AuthKey::random()?,
        };
        let program = match self.program {
            Some(program) => program,
            None => std::env::current_exe().map_err(ManagerProcessError::CurrentExe)?,
        };
        let program_name = program.display().to_string();

        let mut command = Command::new(&program);
        command
            .env(ENV_ENTRY, SERVER_ENTRY)
            .env(ENV_AUTHKEY, authkey.to_hex())
            .env_remove(ENV_ARGS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        match &self.bind {
            Some(address) => command.env(ENV_ADDRESS, address.to_string()),
            None => command.env_remove(ENV_ADDRESS),
        };
        // Always set, never inherited from this process's environment.
        for (name, value) in self.limits.to_env() {
            command.env(name, value.to_string());
        }
        #[cfg(feature = "metrics")]
        {
            let limits = self.metrics.map(|(_, limits)| limits).unwrap_or_default();
            for (name, value) in limits.to_env() {
                command.env(name, value.to_string());
            }
            match self.metrics {
                Some((addr, _)) => command.env(super::ENV_METRICS, addr.to_string()),
                None => command.env_remove(super::ENV_METRICS),
            };
        }
        #[cfg(feature = "metrics")]
        let second_line = self.metrics.is_some();
        #[cfg(not(feature = "metrics"))]
        let second_line = false;
        platform::kill_when_parent_dies(&mut command);
        let mut child = crate::launcher::spawn_from_launcher_thread(command).map_err(|cause| {
            ManagerProcessError::Spawn {
                program: program_name.clone(),
                cause,
            }
        })?;
        let pid = child.id();

        let reports = match child.stdout.take() {
            Some(stdout) => watch_stdout(stdout, second_line),
            None => {
                // Cannot happen: stdout was piped. Fail without a leftover.
                let _ = child.kill();
                let _ = child.wait();
                return Err(ManagerProcessError::Spawn {
                    program: program_name,
                    cause: std::io::Error::other("the child's stdout is not a pipe"),
                });
            }
        };
        let failure = match reports.recv_timeout(self.start_timeout) {
            Ok(Report::Ready(line, second)) => match line.parse::<Address>() {
                Ok(address) => {
                    #[cfg(feature = "metrics")]
                    let metrics_address = match metrics_line(second_line, second) {
                        Ok(at) => at,
                        Err(reason) => {
                            let _ = child.kill();
                            let _ = child.wait();
                            return Err(ManagerProcessError::Failed {
                                program: program_name,
                                pid,
                                reason,
                            });
                        }
                    };
                    #[cfg(not(feature = "metrics"))]
                    let _ = second;
                    tracing::debug!(pid, %address, "manager process listening");
                    let own_dir = own_socket_dir(self.bind.is_none(), &address);
                    return Ok(ManagerProcess {
                        child,
                        address,
                        authkey,
                        stop_timeout: self.stop_timeout,
                        status: None,
                        #[cfg(feature = "metrics")]
                        metrics_address,
                        own_dir,
                    });
                }
                Err(e) => ManagerProcessError::Failed {
                    program: program_name,
                    pid,
                    reason: format!("it reported an unreadable address: {e}"),
                },
            },
            Ok(Report::Failed(reason)) => ManagerProcessError::Failed {
                program: program_name,
                pid,
                reason,
            },
            Ok(Report::Closed) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Its stdout closed: it is ending. Reap it to say how.
                match crate::platform::wait_child(&mut child, self.stop_timeout) {
                    Ok(Some(status)) => ManagerProcessError::EndedEarly {
                        program: program_name,
                        pid,
                        status,
                    },
                    _ => ManagerProcessError::NotReady {
                        program: program_name,
                        pid,
                        after: self.start_timeout,
                    },
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => ManagerProcessError::NotReady {
                program: program_name,
                pid,
                after: self.start_timeout,
            },
        };
        let _ = child.kill();
        let _ = child.wait();
        Err(failure)
    }
}

/// The metrics address in the line after the ready line, if one was
/// `asked` for; the reason it is not there otherwise.
#[cfg(feature = "metrics")]
fn metrics_line(
    asked: bool,
    second: Option<String>,
) -> Result<Option<std::net::SocketAddr>, String> {
    if !asked {
        return Ok(None);
    }
    let Some(line) = second else {
        return Err("it stopped before saying where it serves metrics".to_owned());
    };
    line.strip_prefix(super::METRICS_PREFIX)
        .and_then(|at| at.parse().ok())
        .map(Some)
        .ok_or_else(|| format!("it did not say where it serves metrics (said {line:?})"))
}

/// The directory of a socket the child chose itself (`chose`: no address
/// was given): a `manager-*` directory in the temporary directory, which the
/// child makes for its socket alone. `None` for anything else, which is
/// then never removed.
fn own_socket_dir(chose: bool, address: &Address) -> Option<PathBuf> {
    let Address::Unix(socket) = address else {
        return None;
    };
    let dir = socket.parent()?;
    let private = dir
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("manager-"));
    (chose && private && dir.parent() == Some(std::env::temp_dir().as_path()))
        .then(|| dir.to_owned())
}
