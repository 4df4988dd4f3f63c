//! Typed proxies: handles on one shared object that turn method calls into
//! requests on the process's [`Client`](crate::Client) connection.
//!
//! Each proxy is cheap to clone and shares its client's connection. Each is
//! generic over its [`Mode`](crate::Mode): `Queue<T>` (that is,
//! `Queue<T, Async>`) returns futures, `Queue<T, Blocking>`
//! ([`crate::blocking::Queue`]) runs each call on the calling thread; the
//! methods are the same. Every proxy wraps an [`ObjectRef`]; one file per
//! object kind.

mod array;
mod barrier;
mod condition;
mod custom;
mod dict;
mod event;
mod list;
mod lock;
mod namespace;
mod object;
mod queue;
mod semaphore;
mod set;
pub mod shared;
mod value;

pub use array::Array;
pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard};
pub use custom::Custom;
pub use dict::Dict;
pub use event::Event;
pub use list::List;
pub use lock::{Lock, LockGuard, RLock};
pub use namespace::{Namespace, NamespaceSnapshot};
pub use object::{ObjectRef, WAIT_GRACE, current_owner, encode, encode_all};
pub use queue::{Delivery, JoinableQueue, Queue};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
pub use set::Set;
pub use shared::{Proxy, Shared};
pub use value::Value;
