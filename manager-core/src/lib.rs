//! The vocabulary a manager and its clients agree on.
//!
//! A manager owns shared objects (namespaces, lists, dicts, queues, locks and
//! the rest of Python's `SyncManager`, see [`ObjectKind`]) and clients reach
//! them through requests. This crate holds everything both sides must
//! agree on, and nothing else: no actors, no sockets.
//!
//! - [`kind`]: which kinds of shared object exist, and what creating each
//!   takes ([`ObjectSpec`]).
//! - [`custom`]: [`custom::CustomType`], how an application adds its own
//!   kind of shared object.
//! - [`name`]: object and type names (validated; a request carries an
//!   object name unchecked, as a [`WireName`], for the registry to check),
//!   and object ids.
//! - [`value`]: a user's value as it travels: encoded bytes plus a type tag, so
//!   a read with the wrong type is an error, not garbage.
//! - [`request`] and [`reply`]: what a client asks (one enum per object kind,
//!   each with its [`request::KindRequest`] impl and a table of
//!   [`request::Call`]s that fixes each operation's reply type) and what the
//!   manager answers (a few shapes shared by all kinds, each a Rust type:
//!   [`reply::ReplyShape`]), wrapped in [`request::RequestFrame`] and
//!   [`reply::ReplyFrame`] that carry request ids.
//! - [`error`]: [`ManagerError`], the typed error that crosses the wire.
//! - [`inspect`]: what a running manager reports about itself
//!   ([`inspect::ManagerSnapshot`]).
//! - [`protocol`]: the protocol version and the handshake messages.
//! - [`codec`]: the one place that turns values into bytes (bincode 2 + serde).
//!
//! # Example
//!
//! ```
//! use manager_core::codec;
//! use manager_core::request::{NamespaceRequest, ObjectRequest, Request, RequestFrame, RequestId};
//! use manager_core::{Encoded, ObjectId};
//!
//! let frame = RequestFrame {
//!     id: RequestId(7),
//!     request: Request::Object {
//!         target: ObjectId(1),
//!         op: ObjectRequest::Namespace(NamespaceRequest::Set {
//!             attribute: "x".into(),
//!             value: Encoded::encode(&42_i64)?,
//!         }),
//!     },
//! };
//! let bytes = codec::encode(&frame)?;
//! let back: RequestFrame = codec::decode(&bytes)?;
//! assert_eq!(back, frame);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod codec;
pub mod custom;
pub mod error;
pub mod inspect;
pub mod kind;
pub mod name;
pub mod protocol;
pub mod reply;
pub mod request;
pub mod value;

pub use codec::CodecError;
pub use error::ManagerError;
pub use kind::{ObjectKind, ObjectSpec};
pub use name::{ObjectId, ObjectName, TypeName, WireName};
pub use protocol::PROTOCOL_VERSION;
pub use value::{Encoded, TypeTag, short_type_name};
