//! The manager's actors: a registry and one actor per shared object.
//!
//! - [`registry::RegistryActor`] maps names to objects: create-or-get, look
//!   up, remove, list.
//! - [`namespace::NamespaceActor`] owns one namespace's attributes.
//! - [`object`] holds what every object actor shares: the [`ObjectBatch`]
//!   message the bridge sends, the [`ReplySink`] replies go to, and counters.
//! - [`system::ActorSystem`] runs all of it on a thread of its own, so the
//!   host application need not use actix.
//!
//! Clients reach these actors through `manager-ipc`; this crate has no
//! sockets.
//!
//! # Example
//!
//! ```
//! use manager_actors::registry::RegistryCall;
//! use manager_actors::system::ActorSystem;
//! use manager_core::reply::RegistryReply;
//! use manager_core::request::RegistryRequest;
//! use manager_core::{ObjectKind, ObjectName};
//!
//! let (system, ()) = ActorSystem::start("manager", |_registry| async {
//!     Ok::<(), std::io::Error>(())
//! })?;
//! let name = ObjectName::new("config")?;
//! let outcome = futures_lite_block_on(system.registry().send(RegistryCall(
//!     RegistryRequest::CreateOrGet { name, kind: ObjectKind::Namespace },
//! )))?;
//! assert!(matches!(outcome.reply, Ok(RegistryReply::Object(info)) if info.created));
//! system.shutdown();
//! # fn futures_lite_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod error;
pub mod namespace;
pub mod object;
pub mod registry;
pub mod system;

pub use error::StartError;
pub use object::{ObjectBatch, ObjectCall, ObjectHandle, ReplySink};
pub use registry::RegistryActor;
pub use system::ActorSystem;
