//! [`Error`]: what a client's call or connection fails with. The `manager`
//! crate uses it as its own for every call of its clients and proxies.
//!
//! # Causes are printed, not chained
//!
//! An error whose cause is another error says it in its `Display` ("connect
//! to unix:/run/app.sock: authentication failed: wrong authkey") and keeps
//! it in a field (`cause`), but does not return it from
//! [`source`](std::error::Error::source): doing both prints every cause
//! twice when the chain is printed (as `anyhow` does).

use std::time::Duration;

use manager_core::{CodecError, ManagerError};

use crate::address::Address;
use crate::frame::FrameError;
use crate::handshake::HandshakeError;

/// A client call or connection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Nothing accepted the connection.
    #[error("connect to {address}: {cause}")]
    Connect {
        /// The manager's address.
        address: Address,
        /// The OS's reason.
        cause: std::io::Error,
    },
    /// The connection was accepted but the handshake failed (wrong key,
    /// other protocol version, not a manager).
    #[error("connect to {address}: {cause}")]
    Handshake {
        /// The manager's address.
        address: Address,
        /// Why.
        cause: HandshakeError,
    },
    /// The connection to the manager ended: it stopped or died.
    #[error("manager at {address} is gone")]
    ManagerGone {
        /// The manager's address.
        address: Address,
    },
    /// The manager closed the connection and said why: this client sent a
    /// frame too large, too slow or that did not decode (see
    /// [`Limits`](crate::Limits)). Requests sent before may have been
    /// applied.
    #[error("manager at {address} closed the connection: {reason}")]
    Disconnected {
        /// The manager's address.
        address: Address,
        /// What the manager said (boxed: every call's error type carries
        /// this variant).
        reason: Box<manager_core::ManagerError>,
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
    Encode(FrameError),
    /// A value could not be encoded.
    #[error("cannot encode value: {0}")]
    EncodeValue(CodecError),
    /// The environment a launcher sets up is missing or malformed.
    #[error("worker environment: {0}")]
    Environment(String),
    /// The blocking client's runtime could not be started.
    #[error("start client runtime: {0}")]
    Runtime(std::io::Error),
    /// A blocking constructor was called inside an async context of a
    /// tokio runtime (a task, or the future of a `block_on`), where
    /// blocking the thread would stall the runtime and tokio refuses it.
    /// Nothing was connected.
    #[error(
        "{call} blocks, but was called inside an async runtime; await {instead} there, or call it in spawn_blocking"
    )]
    InsideRuntime {
        /// The blocking call, for example "Manager::connect".
        call: &'static str,
        /// Its async twin, for example "Manager::connect_async".
        instead: &'static str,
    },
    /// A `Shared` token was attached on another
    /// manager than the one that made it.
    #[error(
        "the token of `{name}` was made on another manager, not on the one at {address}; attach it with a client of its own manager"
    )]
    OtherManager {
        /// The object's name in the token.
        name: String,
        /// The address of the manager it was attached on.
        address: Address,
    },
    /// A read-modify-write done on the client (a list's `sort`) found the
    /// object changed by other clients on every attempt, and gave up. It
    /// changed nothing; trying again later may succeed.
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
    /// A shared memory block was to be mapped over a connection that
    /// cannot carry its descriptor: only a Unix socket to a manager on
    /// this machine can. Nothing was asked of the manager.
    #[error(
        "shared memory needs a Unix socket to a manager on this machine; {address} is not one (map {what} in a process connected over a Unix socket)"
    )]
    SharedMemoryNeedsUnix {
        /// The object, for example "shared memory `frames`".
        what: String,
        /// The manager's address.
        address: Address,
    },
    /// A shared memory block's descriptor came but could not be mapped
    /// (out of address space, a block not sealed against shrinking).
    #[error("map {what}: {cause}")]
    Map {
        /// The object, for example "shared memory `frames`".
        what: String,
        /// The OS's reason, or what was wrong with the block.
        cause: std::io::Error,
    },
    /// A view of a shared memory block does not fit it: a typed array
    /// whose element size does not divide the block's size, a
    /// `ShareableList` of another layout, a read of a slot as another type
    /// than it holds.
    #[error("{what}: {reason}")]
    View {
        /// The object, for example "shared memory `frames`".
        what: String,
        /// What does not fit.
        reason: String,
    },
}
