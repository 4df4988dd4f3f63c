//! Typed proxies: handles on one shared object that turn method calls into
//! requests on the process's [`Client`](crate::Client) connection.
//!
//! Every proxy is one generic handle, [`Proxy<K, M>`](Proxy): an
//! [`ObjectRef`] with a kind marker `K` (one of [`kinds`]) and a
//! [`Mode`](crate::Mode) `M` in its type. Users name it by its kind's alias:
//! `Queue<T>` is `Proxy<kinds::Queue<T>, Async>` and returns futures,
//! `Queue<T, Blocking>` ([`crate::blocking::Queue`]) runs each call on the
//! calling thread; the methods are the same. Each is cheap to clone and
//! shares its client's connection. What every proxy has (name, id,
//! `with_timeout`, `share`) is written once in `handle.rs`; one file per
//! object kind adds its methods.

#[macro_use]
mod handle;

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
mod shared_memory;
mod value;

pub use array::Array;
pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard};
pub use custom::Custom;
pub use dict::Dict;
pub use event::Event;
pub use handle::{Kind, Proxy};
pub use list::List;
pub use lock::{Lock, LockGuard, RLock};
pub use namespace::{Namespace, NamespaceSnapshot};
pub use object::{ObjectRef, WAIT_GRACE, current_owner, encode, encode_all};
pub use queue::{Delivery, JoinableQueue, Queue};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
pub use set::Set;
pub use shared::Shared;
pub use shared_memory::SharedMemory;
pub use value::Value;

/// The kind markers: the `K` of a [`Proxy<K, M>`](Proxy), one per object
/// kind, each named after its proxy. They are never made; a proxy's type
/// names one to say which objects it sees and what its values are.
pub mod kinds {
    pub use super::array::marker::Array;
    pub use super::barrier::marker::Barrier;
    pub use super::condition::marker::Condition;
    pub use super::custom::marker::Custom;
    pub use super::dict::marker::Dict;
    pub use super::event::marker::Event;
    pub use super::list::marker::List;
    pub use super::lock::marker::{Lock, RLock};
    pub use super::namespace::marker::Namespace;
    pub use super::queue::marker::{JoinableQueue, Queue};
    pub use super::semaphore::marker::{BoundedSemaphore, Semaphore};
    pub use super::set::marker::Set;
    pub use super::shared_memory::marker::SharedMemory;
    pub use super::value::marker::Value;
}
