//! Errors of this crate: [`Error`] for calls (the bridge's, from
//! `manager-ipc`), [`StartError`] for starting a manager, [`LaunchError`] and
//! [`WorkerError`] for worker processes.
//!
//! # Causes are printed, not chained
//!
//! An error whose cause is another error says it in its `Display` ("connect
//! to unix:/run/app.sock: authentication failed: wrong authkey") and keeps
//! it in a field (`cause`), but does not return it from
//! [`source`](std::error::Error::source): doing both prints every cause
//! twice when the chain is printed (as `anyhow` does).

use std::time::Duration;

use manager_core::CodecError;

use crate::Address;
use crate::auth::AuthKeyError;

pub use manager_ipc::Error;

/// A manager could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound (in use, no permission, ...).
    #[error("bind {address}: {cause}")]
    Bind {
        /// The address.
        address: Address,
        /// The OS's reason.
        cause: std::io::Error,
    },
    /// The metrics endpoint's address could not be bound.
    #[cfg(feature = "metrics")]
    #[error("bind the metrics endpoint to {address}: {cause}")]
    Metrics {
        /// The address.
        address: std::net::SocketAddr,
        /// The OS's reason.
        cause: std::io::Error,
    },
    /// The private socket directory could not be made.
    #[error("create private socket directory: {0}")]
    PrivateDir(std::io::Error),
    /// No authkey could be made.
    #[error(transparent)]
    AuthKey(#[from] AuthKeyError),
    /// The actor system could not start.
    #[error(transparent)]
    #[cfg(feature = "manager")]
    System(manager_actors::StartError),
    /// This process was launched as a worker but its `main` did not call
    /// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker)
    /// first: a manager started here would launch workers without end.
    #[error("{0}; call it at the start of main")]
    NotDispatched(String),
}

/// A worker process could not be launched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The path of the running program could not be found.
    #[error("find the current executable: {0}")]
    CurrentExe(std::io::Error),
    /// The OS refused to start the process.
    #[error("spawn worker `{entry}` from {program}: {cause}")]
    Spawn {
        /// The worker's entry name.
        entry: String,
        /// The program.
        program: String,
        /// The OS's reason.
        cause: std::io::Error,
    },
    /// The arguments could not be encoded.
    #[error("encode arguments of worker `{entry}`: {cause}")]
    Args {
        /// The worker's entry name.
        entry: String,
        /// The codec's reason.
        cause: CodecError,
    },
    /// This process was launched as a worker but its `main` did not call
    /// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker)
    /// first: it would launch workers without end.
    #[error("launch worker `{entry}`: {reason}; call it at the start of main")]
    NotDispatched {
        /// The entry it was asked to launch.
        entry: String,
        /// What was refused, and why.
        reason: String,
    },
    /// The encoded arguments are too large for the environment.
    #[error(
        "arguments of worker `{entry}` take {size} bytes; at most {max} fit in the environment"
    )]
    ArgsTooLarge {
        /// The worker's entry name.
        entry: String,
        /// Their encoded size.
        size: usize,
        /// The limit.
        max: usize,
    },
}

/// A worker process ended badly, or could not be waited for.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    /// It exited with a non-zero code without saying why (a program that
    /// does not run [`Entries`](crate::launcher::Entries), or one that
    /// exited on its own).
    #[error("worker `{entry}` (pid {pid}) exited with code {code}")]
    Failed {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// Its exit code.
        code: i32,
    },
    /// Its entry returned an error.
    #[error("worker `{entry}` (pid {pid}) failed: {message}")]
    EntryFailed {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// The error's message, with its causes.
        message: String,
    },
    /// It panicked.
    #[error("worker `{entry}` (pid {pid}) panicked{}", .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Panicked {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// The panic's message, if it had one and the worker could say it.
        message: Option<String>,
    },
    /// The program has no entry of this name.
    #[error("worker `{entry}` (pid {pid}) did not start: no worker entry named `{entry}` (known: {})", .known.join(", "))]
    UnknownEntry {
        /// The entry name asked for.
        entry: String,
        /// Its process id.
        pid: u32,
        /// The entries the program has.
        known: Vec<String>,
    },
    /// Its arguments are of another type than the entry takes; the entry
    /// did not run.
    #[error(
        "worker `{entry}` (pid {pid}) refused its arguments: it takes `{expected}`, but was given `{given}`"
    )]
    WrongArgs {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// The type the entry takes.
        expected: String,
        /// The type the arguments were encoded from.
        given: String,
    },
    /// Its arguments could not be read; the entry did not run.
    #[error("worker `{entry}` (pid {pid}) cannot read its arguments: {reason}")]
    BadArgs {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// Why.
        reason: String,
    },
    /// Its `main` did not call
    /// [`Entries::run_if_worker`](crate::launcher::Entries::run_if_worker)
    /// first, and reached a call that would have started a manager or
    /// launched workers (refused, so it launched none); the entry did not
    /// run.
    #[error(
        "worker `{entry}` (pid {pid}) did not run its entry: its main reached {reached} without calling Entries::run_if_worker first; call it at the start of main"
    )]
    NotDispatched {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// The refused call, for example "Manager::start".
        reached: String,
    },
    /// A signal ended it.
    #[error("worker `{entry}` (pid {pid}) was killed by signal {signal}")]
    Killed {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// The signal number.
        signal: i32,
    },
    /// It was still running when the wait's deadline passed.
    #[error("worker `{entry}` (pid {pid}) still running after {after:?}")]
    Timeout {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// How long the wait lasted.
        after: Duration,
    },
    /// Waiting for it failed.
    #[error("wait for worker `{entry}` (pid {pid}): {cause}")]
    Wait {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// The OS's reason.
        cause: std::io::Error,
    },
}
