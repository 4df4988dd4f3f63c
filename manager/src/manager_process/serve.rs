//! The server side of a manager process: what the child of a
//! [`ManagerProcess`](super::ManagerProcess) and the stand-alone
//! `manager-server` run once started. It reads its address, key and limits,
//! prints the ready line, serves until a signal, and gives freed memory back.

use std::io::Write;
use std::time::Duration;

#[cfg(doc)]
use super::ManagerProcess;
use super::{FAILED_PREFIX, READY_PREFIX, SERVER_ENTRY};
use crate::error::StartError;
use crate::launcher::env::{ENV_ADDRESS, ENV_AUTHKEY, ENV_ENTRY};
use crate::limits::Limits;
use crate::manager::{Manager, ManagerBuilder};
use crate::{Address, AuthKey, platform};

/// Who runs [`serve`], which decides what SIGINT does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// `manager-server`: SIGINT and SIGTERM stop it.
    Standalone,
    /// The child of a [`ManagerProcess`]: SIGTERM stops it (its parent's,
    /// or the kernel's when the parent dies); SIGINT is ignored.
    Child,
}

/// Why a server process could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// Its tokio runtime could not start.
    #[error("start the server's runtime: {0}")]
    Runtime(std::io::Error),
    /// Its signal handlers could not be installed.
    #[error("start the signal handlers: {0}")]
    Signals(std::io::Error),
    /// The kernel would not tie it to its parent's life.
    #[error("ask for SIGTERM when the parent dies: {0}")]
    ParentDeath(std::io::Error),
    /// The manager could not start; `hint` says what is at a Unix socket
    /// path in use.
    #[error("{error}{hint}")]
    Start {
        /// Why.
        error: StartError,
        /// What was found at the address, or empty.
        hint: String,
    },
    /// Its configuration (address, key, limits) is wrong.
    #[error("{0}")]
    Config(String),
}

/// Starts `builder`'s manager as a stand-alone server: prints the ready
/// line, serves until SIGINT or SIGTERM, then shuts the manager down
/// (removing its socket). The `manager-server` command is built on this.
///
/// # Errors
///
/// [`ServeError`] if the server could not start.
pub fn serve_standalone(builder: ManagerBuilder) -> Result<(), ServeError> {
    serve(builder, Role::Standalone)
}

/// Starts `builder`'s manager, prints the ready line, and serves until told
/// to stop; then shuts the manager down (removing its socket).
fn serve(builder: ManagerBuilder, role: Role) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ServeError::Runtime)?;
    // Handlers first: from here on SIGTERM is a request, not death.
    let (mut terminate, mut interrupt) = {
        use tokio::signal::unix::{SignalKind, signal};
        let _context = runtime.enter();
        (
            signal(SignalKind::terminate()).map_err(ServeError::Signals)?,
            signal(SignalKind::interrupt()).map_err(ServeError::Signals)?,
        )
    };
    if role == Role::Child {
        platform::terminate_when_parent_dies().map_err(ServeError::ParentDeath)?;
    }
    let manager = builder
        .start()
        .map_err(|e| explain_start_error(&runtime, e))?;
    let address = manager.address().clone();
    let mut stdout = std::io::stdout().lock();
    let ready = writeln!(stdout, "{READY_PREFIX}{address}");
    #[cfg(feature = "metrics")]
    let ready = ready.and_then(|()| match manager.metrics_address() {
        Some(metrics) => writeln!(stdout, "{}{metrics}", super::METRICS_PREFIX),
        None => Ok(()),
    });
    if let Err(e) = ready.and_then(|()| stdout.flush()) {
        tracing::warn!(error = %e, "cannot print the ready line on stdout");
    }
    drop(stdout);

    // This process is only a manager: what it frees goes back to the
    // system, at once for large blocks and every few seconds for the rest.
    platform::give_memory_back();
    let signal = runtime.block_on(async {
        let mut trim = tokio::time::interval(TRIM_EVERY);
        trim.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = trim.tick() => platform::trim_free_memory(),
                _ = terminate.recv() => break "SIGTERM",
                _ = interrupt.recv() => {
                    if role == Role::Standalone {
                        break "SIGINT";
                    }
                    tracing::debug!("manager process ignores SIGINT; its parent decides");
                }
            }
        }
    });
    tracing::info!(%address, signal, "stopping the manager");
    manager.shutdown();
    Ok(())
}

/// How often a server process hands its allocator's free pages back.
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// A bind error, with a hint for the common case of a Unix socket path that
/// exists: is a server there, or is it a stale file? (The probe connects and
/// leaves at once; the server there logs a failed handshake.)
fn explain_start_error(runtime: &tokio::runtime::Runtime, error: StartError) -> ServeError {
    let mut hint = String::new();
    if let StartError::Bind {
        address: Address::Unix(path),
        cause,
    } = &error
        && cause.kind() == std::io::ErrorKind::AddrInUse
    {
        // A connect with a deadline: a server whose backlog is full would
        // keep a blocking one waiting.
        let probe = runtime.block_on(async {
            tokio::time::timeout(
                Duration::from_secs(1),
                tokio::net::UnixStream::connect(path),
            )
            .await
        });
        hint = match probe {
            Ok(Ok(_)) => "; another server is listening there".to_owned(),
            Ok(Err(_)) => format!(
                "; nothing answers there: if no server runs, remove the stale socket file {}",
                path.display()
            ),
            Err(_) => "; something holds it but does not answer".to_owned(),
        };
    }
    ServeError::Start { error, hint }
}

/// Runs the server of a [`ManagerProcess`](super::ManagerProcess) if this process was started as
/// one (with `custom`'s types), and returns its exit code; `None` in any
/// other process. A program that does not call
/// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker) but
/// is given to [`ManagerProcessBuilder::program`](super::ManagerProcessBuilder::program) calls this first thing.
pub fn run_if_server_entry(custom: &manager_actors::CustomTypes) -> Option<i32> {
    std::env::var(ENV_ENTRY)
        .is_ok_and(|entry| entry == SERVER_ENTRY)
        .then(|| run_server_entry(custom))
}

/// The built-in entry [`SERVER_ENTRY`]: runs the server of a
/// [`ManagerProcess`] and returns the process's exit code. A failure to
/// start is reported on stdout, where the parent is waiting for the ready
/// line.
pub(crate) fn run_server_entry(custom: &manager_actors::CustomTypes) -> i32 {
    crate::worker_report::mark_dispatched();
    init_logging("warn");
    let result =
        server_from_env().and_then(|builder| serve(builder.custom_types(custom), Role::Child));
    match result {
        Ok(()) => 0,
        Err(e) => {
            println!("{FAILED_PREFIX}{e}");
            1
        }
    }
}

/// The value of the environment variable `name`, which holds an authkey,
/// and removes the variable from this process's environment, so that
/// processes the server starts (a custom object's handler may start some)
/// do not inherit the key. That is sound only while the process has one
/// thread: otherwise the variable stays, with a warning. A name that no
/// variable can have (empty, or holding `=` or NUL) is `NotPresent`.
///
/// # Errors
///
/// `NotPresent` if there is no such variable, `NotUnicode` if it is not
/// text.
pub fn take_authkey_var(name: &str) -> Result<String, std::env::VarError> {
    if name.is_empty() || name.contains(['=', '\0']) {
        return Err(std::env::VarError::NotPresent);
    }
    let value = std::env::var(name);
    if !matches!(value, Err(std::env::VarError::NotPresent))
        && !platform::remove_env_var_while_alone(name)
    {
        tracing::warn!(
            variable = name,
            "the authkey stays in the environment, where processes the server starts inherit it: \
             other threads already run, so it cannot be removed safely (start the server first thing in main)"
        );
    }
    value
}

/// The builder the parent described in the environment.
fn server_from_env() -> Result<ManagerBuilder, ServeError> {
    let hex = take_authkey_var(ENV_AUTHKEY)
        .map_err(|_| ServeError::Config(format!("{ENV_AUTHKEY} is not set")))?;
    let key =
        AuthKey::from_hex(&hex).map_err(|e| ServeError::Config(format!("{ENV_AUTHKEY}: {e}")))?;
    let mut builder = Manager::builder().authkey(key);
    builder = match std::env::var(ENV_ADDRESS) {
        Err(_) => builder,
        Ok(text) => match text.parse::<Address>() {
            Ok(Address::Unix(path)) => builder.unix(path),
            Ok(Address::Tcp(addr)) => builder.tcp(addr),
            Err(e) => return Err(ServeError::Config(format!("{ENV_ADDRESS}: {e}"))),
        },
    };
    let mut limits = Limits::default();
    for (name, _) in Limits::default().to_env() {
        let what = if name.ends_with("_MS") {
            "a number of milliseconds"
        } else if name.ends_with("_FRAME") || name.ends_with("_BYTES") {
            "a number of bytes"
        } else {
            "a number"
        };
        if let Some(value) = number_from_env(name, what)? {
            limits.set_from_env(name, value);
        }
    }
    let builder = builder.limits(limits);
    #[cfg(feature = "metrics")]
    let builder = match std::env::var(super::ENV_METRICS) {
        Err(_) => builder,
        Ok(text) => {
            let at = text
                .parse()
                .map_err(|e| ServeError::Config(format!("{}: {e}", super::ENV_METRICS)))?;
            let mut limits = manager_ipc::server::metrics::MetricsLimits::default();
            for (name, _) in limits.to_env() {
                let what = if name.ends_with("_MS") {
                    "a number of milliseconds"
                } else {
                    "a number"
                };
                if let Some(value) = number_from_env(name, what)? {
                    limits.set_from_env(name, value);
                }
            }
            builder.metrics(at).metrics_limits(limits)
        }
    };
    Ok(builder)
}

/// The value of the variable `name`, if set: decimal digits only (no sign,
/// no spaces, no unit), which must fit in a `u64`.
fn number_from_env(name: &str, what: &str) -> Result<Option<u64>, ServeError> {
    let text = match std::env::var(name) {
        Ok(text) => text,
        Err(std::env::VarError::NotPresent) => return Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(ServeError::Config(format!(
                "{name}: not {what} (not even UTF-8)"
            )));
        }
    };
    parse_number(&text)
        .map(Some)
        .ok_or_else(|| ServeError::Config(format!("{name}: `{text}` is not {what}")))
}

/// `text` as a decimal `u64`, strictly: one or more ASCII digits and
/// nothing else.
fn parse_number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Logs to stderr, filtered by `RUST_LOG` (else `default`), unless the
/// program already set a subscriber (feature `stderr-logs`).
fn init_logging(default: &str) {
    #[cfg(feature = "stderr-logs")]
    {
        use tracing_subscriber::EnvFilter;
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init();
    }
    #[cfg(not(feature = "stderr-logs"))]
    let _ = default;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_the_environment_are_parsed_strictly() {
        assert_eq!(parse_number("0"), Some(0));
        assert_eq!(parse_number("4096"), Some(4096));
        assert_eq!(parse_number("18446744073709551615"), Some(u64::MAX));
        for bad in [
            "",
            " 1",
            "1 ",
            "+1",
            "-1",
            "1e3",
            "1.5",
            "0x10",
            "4k",
            "18446744073709551616",
        ] {
            assert_eq!(parse_number(bad), None, "`{bad}`");
        }
    }
}
