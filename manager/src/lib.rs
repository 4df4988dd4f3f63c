//! Share objects between OS processes through a manager, the way Python's
//! `multiprocessing.Manager` does, but typed, pipelined and authenticated.
//!
//! This is the crate applications add. A [`Manager`] runs the actors of
//! `manager-actors` on a thread of its own and serves them on a socket
//! through the bridge of `manager-ipc`. Processes (the app itself, workers it
//! launches, or any process that has the address and key) connect with one
//! [`Client`] each and use typed proxies such as [`proxy::Namespace`]; each
//! proxy call is one request frame on that connection.
//!
//! - [`Manager`]: start, address, authkey, launcher, shutdown.
//! - [`Client`] and [`proxy`]: the client and typed proxies. Each method is
//!   written once and runs in the handle's [`mode`]: awaited ([`Async`]) or
//!   on the calling thread ([`blocking`], plain threads).
//! - Custom object types (Python's `BaseManager.register`): implement
//!   [`CustomType`] and [`CustomObject`], register with
//!   [`ManagerBuilder::register`], call through [`proxy::Custom`]. A type
//!   whose requests wait (a blocking pop) implements the trait the
//!   built-in kinds implement instead ([`kind`]: [`CustomKind`], registered
//!   with [`ManagerBuilder::register_kind`]).
//! - [`shared_memory`]: blocks the manager owns and processes map
//!   (Python's `SharedMemoryManager`), found by name with
//!   [`Client::shared_memory`]; typed as a [`shared_memory::SharedArray`]
//!   or a [`shared_memory::ShareableList`].
//! - [`inspect`]: what a running manager holds, its clients and totals
//!   ([`Client::inspect`]).
//! - [`launcher`]: start worker processes that connect with one call.
//! - [`manager_process`]: the manager as a child process of its own
//!   (Python's `Manager()` default), and the `manager-server` binary that
//!   serves a manager stand-alone.
//! - [`auth`], [`address`], [`limits`], [`error`]: keys, addresses, limits,
//!   errors. The wire itself (frames, the handshake, the server) is
//!   `manager-ipc`'s.
//!
//! # Features
//!
//! - `manager` (on): the manager's side: [`Manager`], custom object types
//!   ([`CustomObject`]), and the server a [`ManagerProcess`] child runs.
//!   [`Pool`]s are built on an embedded manager, so they come with it too.
//!   A client-only build (`default-features = false`) connects, uses
//!   proxies and launches workers without compiling actix.
//! - `stderr-logs` (off): a [`ManagerProcess`] child logs to stderr through
//!   `tracing-subscriber`, filtered by `RUST_LOG` (default `warn`). Without it
//!   the child logs nothing unless the program installs a subscriber itself.
//! - `metrics` (off): `ManagerBuilder::metrics` serves Prometheus metrics
//!   over HTTP (requests, connections, per-object mailbox depth, requests
//!   and latency), at the cost of building hyper; see the
//!   [`manager` module](crate::manager#metrics). The `manager-server`
//!   command has it on (`--metrics IP:PORT`).
//!
//! # Example
//!
//! ```
//! use manager::Manager;
//!
//! let manager = Manager::start()?;
//! let ns = manager.connect()?.namespace("config")?;
//! ns.set("greeting", "hello")?;
//! ns.add("visits", 1)?;
//! assert_eq!(ns.get::<String>("greeting")?, "hello");
//! assert_eq!(ns.names()?, ["greeting", "visits"]);
//! // A String is not an i64: a typed error, not garbage.
//! assert!(ns.get::<i64>("greeting").is_err());
//! manager.shutdown();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Worker processes are shown in [`launcher`].

/// The Prometheus endpoint's bounds and what it shows (feature `metrics`).
#[cfg(feature = "metrics")]
pub use manager_ipc::server::metrics;
pub use manager_ipc::{address, auth, limits};

pub mod blocking;
pub mod client;
pub mod error;
pub mod inspect;
#[cfg(feature = "manager")]
pub mod kind;
pub mod launcher;
#[cfg(feature = "manager")]
pub mod manager;
pub mod manager_process;
pub mod mode;
mod platform;
#[cfg(feature = "manager")]
pub mod pool;
pub mod proxy;
pub mod shared_memory;
mod worker_report;

pub use address::Address;
pub use auth::AuthKey;
/// The plain-old-data traits of shared memory arrays' element types.
pub use bytemuck;
pub use client::Client;
pub use error::{Error, LaunchError, StartError, WorkerError};
pub use inspect::ManagerSnapshot;
pub use limits::Limits;
#[cfg(feature = "manager")]
pub use manager::{Manager, ManagerBuilder};
#[cfg(feature = "manager")]
pub use manager_actors::{CallInfo, ConnectionId, CustomKind, CustomObject, CustomTypes};
pub use manager_core::custom::CustomType;
pub use manager_core::reply::{ObjectInfo, ObjectSummary};
pub use manager_core::{
    Encoded, ManagerError, ObjectId, ObjectKind, ObjectName, ObjectSpec, PROTOCOL_VERSION, TypeName,
};
pub use manager_process::{ManagerProcess, ManagerProcessBuilder, ManagerProcessError};
pub use mode::{Async, Blocking, Mode};
#[cfg(feature = "manager")]
pub use pool::{Pool, PoolError, Tasks};
