//! The bridge between worker processes and a manager's actors: frames, the
//! authkey handshake, the transports, the server that carries each
//! connection's requests to the objects, and the client's [`Connection`].
//!
//! Everything here moves [`Request`](manager_core::request::Request)s and
//! [`Reply`](manager_core::reply::Reply)s, untyped; the `manager` crate
//! builds the user-facing manager, clients, typed proxies and launcher on
//! it. Who owns what:
//!
//! - [`frame`]: length-prefixed frames and their limits, read into buffers
//!   that grow with the bytes that arrive, never with what a header claims.
//! - [`handshake`]: the HMAC challenge both ways ([`auth`]'s keys), the
//!   protocol version, the manager's identity and its frame limit.
//! - [`address`]: Unix domain socket paths (the default) and TCP addresses.
//! - [`connection`]: the client's end: one socket shared by every call of a
//!   process, many calls in flight, long replies joined from their parts,
//!   and what a call that gave up took given back.
//! - [`server`] (feature `server`, on by default): the manager's end: it
//!   accepts, authenticates and serves connections on the actor system of
//!   `manager-actors`, bounded by [`Limits`]. A client-only build turns the
//!   feature off and does not link actix.
//! - [`error`]: what a call or a connection fails with.
//!
//! # Example
//!
//! The handshake over a pair of connected sockets: each side proves it
//! holds the key, and the client learns the manager's frame limit.
//!
//! ```
//! use manager_ipc::frame::{DEFAULT_MAX_FRAME, FrameBuffer, HANDSHAKE_MAX_FRAME};
//! use manager_ipc::handshake::{self, Session};
//! use manager_ipc::AuthKey;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = AuthKey::random()?;
//! let (mut manager_end, mut client_end) = tokio::net::UnixStream::pair()?;
//! let session = Session { connection: 1, manager: 7, max_frame: DEFAULT_MAX_FRAME };
//! let manager_key = key.clone();
//! let manager = tokio::spawn(async move {
//!     let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
//!     handshake::accept(&mut manager_end, &mut buf, &manager_key, session, || Ok(())).await
//! });
//! let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
//! let told = handshake::initiate(&mut client_end, &mut buf, &key).await?;
//! assert_eq!((told.connection, told.max_frame), (1, DEFAULT_MAX_FRAME));
//! manager.await??;
//! # Ok(())
//! # }
//! ```

pub mod address;
pub mod auth;
pub mod connection;
pub mod error;
pub mod frame;
#[cfg(feature = "server")]
mod handles;
pub mod handshake;
pub mod limits;
mod outbox;
mod platform;
#[cfg(feature = "server")]
pub mod server;
mod transport;

pub use address::Address;
pub use auth::AuthKey;
pub use connection::Connection;
pub use error::Error;
pub use limits::Limits;
