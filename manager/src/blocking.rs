//! Blocking handles for plain threads: [`Client`] and the proxies in
//! [`Blocking`] mode.
//!
//! These are the proxies of [`crate::proxy`] with their calls run on the
//! calling thread (see [`crate::mode`]): `blocking::Queue<T>` is
//! `proxy::Queue<T, Blocking>`, with the same methods and docs, each
//! returning its result instead of a future. A blocking client owns a
//! current-thread tokio runtime, driven by the threads blocked in calls:
//! a call writes its request, reads replies and wakes itself on the calling
//! thread. Several threads may share one client; one of them reads for all.
//!
//! The owner of a lock, a semaphore unit or a condition's lock taken
//! through a blocking proxy is the calling thread: two threads sharing one
//! client are two owners.
//!
//! # Inside an async runtime
//!
//! Like any blocking call, these must not be used inside an async context
//! of a tokio runtime (a task, or the body of `#[tokio::main]`); use
//! [`crate::Client`] there, or call them in `spawn_blocking`. The
//! constructors check, and fail with [`Error::InsideRuntime`] (see
//! [`crate::mode`]); the calls do not, and tokio panics. Dropping the last
//! handle of a blocking client inside an async context panics for the same
//! reason.

use std::ops::Deref;

use crate::mode::Blocking;
use crate::{Address, AuthKey, Error, proxy};

pub use crate::proxy::{NamespaceSnapshot, Shared};

/// A shared namespace; see [`proxy::Namespace`].
pub type Namespace = proxy::Namespace<Blocking>;
/// A shared list of `T`s; see [`proxy::List`].
pub type List<T> = proxy::List<T, Blocking>;
/// A shared dict; see [`proxy::Dict`].
pub type Dict<K, V> = proxy::Dict<K, V, Blocking>;
/// A shared set of `T`s; see [`proxy::Set`].
pub type Set<T> = proxy::Set<T, Blocking>;
/// A shared value; see [`proxy::Value`].
pub type Value<T> = proxy::Value<T, Blocking>;
/// A shared fixed-length array; see [`proxy::Array`].
pub type Array<T> = proxy::Array<T, Blocking>;
/// A shared FIFO queue; see [`proxy::Queue`].
pub type Queue<T> = proxy::Queue<T, Blocking>;
/// A shared joinable queue; see [`proxy::JoinableQueue`].
pub type JoinableQueue<T> = proxy::JoinableQueue<T, Blocking>;
/// An item got from a queue, to acknowledge; see [`proxy::Delivery`].
pub type Delivery<T> = proxy::Delivery<T, Blocking>;
/// A shared lock; see [`proxy::Lock`].
pub type Lock = proxy::Lock<Blocking>;
/// A shared re-entrant lock; see [`proxy::RLock`].
pub type RLock = proxy::RLock<Blocking>;
/// A held lock, released when dropped; see [`proxy::LockGuard`].
pub type LockGuard = proxy::LockGuard<Blocking>;
/// A shared semaphore; see [`proxy::Semaphore`].
pub type Semaphore = proxy::Semaphore<Blocking>;
/// A shared bounded semaphore; see [`proxy::BoundedSemaphore`].
pub type BoundedSemaphore = proxy::BoundedSemaphore<Blocking>;
/// A held semaphore unit, released when dropped; see
/// [`proxy::SemaphoreGuard`].
pub type SemaphoreGuard = proxy::SemaphoreGuard<Blocking>;
/// A shared event; see [`proxy::Event`].
pub type Event = proxy::Event<Blocking>;
/// A shared memory block; see [`proxy::SharedMemory`].
pub type SharedMemory = proxy::SharedMemory<Blocking>;
/// A shared condition; see [`proxy::Condition`].
pub type Condition = proxy::Condition<Blocking>;
/// A condition's held lock, released when dropped; see
/// [`proxy::ConditionGuard`].
pub type ConditionGuard = proxy::ConditionGuard<Blocking>;
/// A shared barrier; see [`proxy::Barrier`].
pub type Barrier = proxy::Barrier<Blocking>;
/// An object of a custom type; see [`proxy::Custom`].
pub type Custom<T> = proxy::Custom<T, Blocking>;

/// A blocking connection to a manager; clone it freely (clones share the
/// connection).
///
/// It is a [`crate::Client`] in [`Blocking`] mode, and has all its methods
/// (through `Deref`); it adds the constructors, which cannot share their
/// names with the async client's.
///
/// # Examples
///
/// ```
/// let manager = manager::Manager::start()?;
/// let client = manager::blocking::Client::connect(manager.address(), manager.authkey())?;
/// let ns = client.namespace("stats")?;
/// assert_eq!(ns.add("hits", 2)?, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client(crate::Client<Blocking>);

impl Client {
    /// Connects to the manager at `address` and authenticates with `key`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::connect`], [`Error::Runtime`] if the client's
    /// runtime cannot start, and [`Error::InsideRuntime`] if it is called
    /// inside an async context of a tokio runtime, where blocking would
    /// stall it (see [`crate::mode`]).
    pub fn connect(address: &Address, key: &AuthKey) -> Result<Client, Error> {
        Self::connect_as(address, key, "blocking::Client::connect", "Client::connect")
    }

    /// [`Client::connect`], refused inside an async context under the name
    /// `call`, whose async twin is `instead`.
    pub(crate) fn connect_as(
        address: &Address,
        key: &AuthKey,
        call: &'static str,
        instead: &'static str,
    ) -> Result<Client, Error> {
        crate::mode::refuse_inside_runtime(call, instead)?;
        crate::Client::connect_blocking(address, key).map(Client)
    }

    /// Connects with the address and key a launcher put in this process's
    /// environment: the one call a worker makes.
    ///
    /// # Errors
    ///
    /// [`Error::InsideRuntime`] inside an async context (checked first),
    /// [`Error::Environment`] if they are missing, otherwise as
    /// [`Client::connect`].
    pub fn from_env() -> Result<Client, Error> {
        const CALL: &str = "blocking::Client::from_env";
        crate::mode::refuse_inside_runtime(CALL, "Client::from_env")?;
        let (address, key) = crate::launcher::env::manager_from_env()?;
        Self::connect_as(&address, &key, CALL, "Client::from_env")
    }

    /// A handle on the same connection whose calls (and those of the
    /// proxies made from it) fail with [`Error::Timeout`] after `timeout`.
    pub fn with_timeout(&self, timeout: std::time::Duration) -> Client {
        Client(self.0.with_timeout(timeout))
    }
}

impl Deref for Client {
    type Target = crate::Client<Blocking>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl From<Client> for crate::Client<Blocking> {
    fn from(client: Client) -> Self {
        client.0
    }
}
