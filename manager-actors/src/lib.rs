//! The manager's actors: a registry and one actor per shared object.
//!
//! - [`registry::RegistryActor`] maps names to objects: create-or-get, look
//!   up, remove, list.
//! - [`actor::ObjectActor`] is the actor behind every shared object; what
//!   differs by kind is its state ([`actor::ObjectState`], which names the
//!   kind's request enum and sees only its own requests), one file or folder
//!   per kind in [`objects`]. Lock, RLock and Condition share one owned-lock
//!   core. An application adds kinds of its own through the same trait
//!   ([`objects::CustomKind`]: a state that may park requests, as the
//!   built-ins do), or, for a type that answers each request at once,
//!   with [`objects::CustomObject`], which runs on one such state.
//! - [`object`] holds what the bridge and the objects exchange: the
//!   [`ObjectBatch`] message, the connection-closed notice, and counters.
//! - [`reply`] is where replies go, the [`ReplySink`], and how a reply that
//!   hands something over is given back when it cannot be delivered.
//! - [`waiters`] parks requests that must wait (a queue `get`, a lock
//!   `acquire`) without blocking the actor.
//! - [`discard`] frees large collections on a thread of their own.
//! - [`system::ActorSystem`] runs all of it on threads of its own, so the
//!   host application need not use actix; [`threads::Threads`] says which
//!   thread each new object (and the bridge's each new connection) gets.
//!
//! Clients reach these actors through `manager-ipc`; this crate has no
//! sockets.
//!
//! # Example
//!
//! ```
//! use manager_actors::registry::{RegistryActor, RegistryCall};
//! use manager_actors::system::ActorSystem;
//! use manager_core::reply::RegistryReply;
//! use manager_core::request::RegistryRequest;
//! use manager_core::{ObjectName, ObjectSpec};
//!
//! let registry = RegistryActor::new().with_max_objects(10_000);
//! let (system, ()) = ActorSystem::start("manager", 2, registry, |_registry, _threads| async {
//!     Ok::<(), std::io::Error>(())
//! })?;
//! let name = ObjectName::new("config")?;
//! let outcome = futures_lite_block_on(system.registry().send(RegistryCall::new(
//!     RegistryRequest::CreateOrGet { name: name.into(), spec: ObjectSpec::Namespace },
//! )))?;
//! assert!(matches!(outcome.reply, Ok(RegistryReply::Object(info)) if info.created));
//! system.shutdown();
//! # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod actor;
pub mod discard;
pub mod error;
mod latency;
pub mod object;
pub mod objects;
mod platform;
pub mod registry;
pub mod reply;
pub mod system;
pub mod threads;
pub mod waiters;

pub use error::StartError;
pub use object::{
    Caller, ConnectionClosed, ConnectionId, ObjectBatch, ObjectCall, ObjectHandle, ReplySink,
};
pub use objects::{CallInfo, CustomKind, CustomObject, CustomTypes};
pub use registry::RegistryActor;
pub use system::ActorSystem;
pub use threads::Threads;
