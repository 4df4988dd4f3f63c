//! Errors of this crate: [`Error`] for calls, [`StartError`] for starting a
//! manager, [`LaunchError`] and [`WorkerError`] for worker processes.

use std::time::Duration;

use manager_core::{CodecError, ManagerError};

use crate::address::Address;
use crate::auth::AuthKeyError;
use crate::frame::FrameError;
use crate::handshake::HandshakeError;

/// A client call or connection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Nothing accepted the connection.
    #[error("connect to {address}: {source}")]
    Connect {
        /// The manager's address.
        address: Address,
        /// The OS's reason.
        #[source]
        source: std::io::Error,
    },
    /// The connection was accepted but the handshake failed (wrong key,
    /// other protocol version, not a manager).
    #[error("connect to {address}: {source}")]
    Handshake {
        /// The manager's address.
        address: Address,
        /// Why.
        #[source]
        source: HandshakeError,
    },
    /// The connection to the manager ended: it stopped or died.
    #[error("manager at {address} is gone")]
    ManagerGone {
        /// The manager's address.
        address: Address,
    },
    /// No reply came within the call's deadline. The manager may still apply
    /// the request; its late reply is discarded.
    #[error("no reply within {after:?}")]
    Timeout {
        /// The deadline that passed.
        after: Duration,
    },
    /// The manager refused or failed this request (and only this one).
    #[error(transparent)]
    Manager(#[from] ManagerError),
    /// The manager answered something this client does not understand.
    #[error("protocol error with manager at {address}: {reason}")]
    Protocol {
        /// The manager's address.
        address: Address,
        /// What was wrong.
        reason: String,
    },
    /// The request could not be framed (for example it exceeds the maximum
    /// frame size).
    #[error("cannot send request: {0}")]
    Encode(#[source] FrameError),
    /// A value could not be encoded.
    #[error("cannot encode value: {0}")]
    EncodeValue(#[source] CodecError),
    /// The environment a launcher sets up is missing or malformed.
    #[error("worker environment: {0}")]
    Environment(String),
    /// The blocking client's runtime could not be started.
    #[error("start client runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// A read-modify-write done on the client ([`List::sort`]) found the
    /// object changed by other clients on every attempt, and gave up. It
    /// changed nothing; trying again later may succeed.
    ///
    /// [`List::sort`]: crate::proxy::List::sort
    #[error(
        "{operation} of {what} gave up after {attempts} attempts: other clients kept changing it"
    )]
    Contended {
        /// What was attempted, for example "sort".
        operation: String,
        /// The object, for example "list `jobs`".
        what: String,
        /// How many attempts were made.
        attempts: u32,
    },
}

/// A manager could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The address could not be bound (in use, no permission, ...).
    #[error("bind {address}: {source}")]
    Bind {
        /// The address.
        address: Address,
        /// The OS's reason.
        #[source]
        source: std::io::Error,
    },
    /// The private socket directory could not be made.
    #[error("create private socket directory: {0}")]
    PrivateDir(#[source] std::io::Error),
    /// No authkey could be made.
    #[error(transparent)]
    AuthKey(#[from] AuthKeyError),
    /// The actor system could not start.
    #[error(transparent)]
    System(manager_actors::StartError),
}

/// A worker process could not be launched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LaunchError {
    /// The path of the running program could not be found.
    #[error("find the current executable: {0}")]
    CurrentExe(#[source] std::io::Error),
    /// The OS refused to start the process.
    #[error("spawn worker `{entry}` from {program}: {source}")]
    Spawn {
        /// The worker's entry name.
        entry: String,
        /// The program.
        program: String,
        /// The OS's reason.
        #[source]
        source: std::io::Error,
    },
    /// The arguments could not be encoded.
    #[error("encode arguments of worker `{entry}`: {source}")]
    Args {
        /// The worker's entry name.
        entry: String,
        /// The codec's reason.
        #[source]
        source: CodecError,
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
    /// It returned an error or exited with a non-zero code.
    #[error("worker `{entry}` (pid {pid}) exited with code {code}")]
    Failed {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// Its exit code.
        code: i32,
    },
    /// It panicked.
    #[error("worker `{entry}` (pid {pid}) panicked")]
    Panicked {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
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
    #[error("wait for worker `{entry}` (pid {pid}): {source}")]
    Wait {
        /// The worker's entry name.
        entry: String,
        /// Its process id.
        pid: u32,
        /// The OS's reason.
        #[source]
        source: std::io::Error,
    },
}
