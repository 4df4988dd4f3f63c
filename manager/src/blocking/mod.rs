//! Blocking handles for plain threads: [`Client`] and the [`Namespace`]
//! proxy.
//!
//! Each wraps its async twin and runs it on a current-thread tokio runtime
//! that the blocking client owns, driven by the threads blocked in calls: a
//! call writes its request, reads replies and wakes itself on the calling
//! thread. Several threads may share one client; one of them reads for all.
//!
//! # Panics
//!
//! Like any blocking call, these must not be used from inside an async
//! runtime; use [`crate::Client`] there. Dropping the last handle of a blocking
//! client inside an async context panics for the same reason.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use manager_core::ObjectSpec;
use manager_core::reply::{ObjectInfo, ObjectSummary};
use serde::Serialize;
use tokio::runtime::Runtime;

pub use crate::proxy::NamespaceSnapshot;
use crate::{Address, AuthKey, Error, proxy};

mod array;
mod barrier;
mod condition;
mod custom;
mod dict;
mod event;
mod list;
mod lock;
mod namespace;
mod queue;
mod semaphore;
mod set;
mod shared;
mod value;

pub use crate::proxy::Proxy;
/// A token of the async proxy's type: `Shared<proxy::Queue<T>>` for a
/// [`Queue<T>`].
pub use crate::proxy::Shared;
pub use array::Array;
pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard};
pub use custom::Custom;
pub use dict::Dict;
pub use event::Event;
pub use list::List;
pub use lock::{Lock, LockGuard, RLock};
pub use namespace::Namespace;
pub use queue::{Delivery, JoinableQueue, Queue};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphoreGuard};
pub use set::Set;
pub use shared::BlockingProxy;
pub use value::Value;

/// The runtime a blocking client and its proxies drive from the calling
/// thread.
#[derive(Debug, Clone)]
pub(crate) struct Runner(Arc<Runtime>);

impl Runner {
    /// Runs `future` to completion on the calling thread.
    pub(crate) fn run<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }
}

/// A blocking connection to a manager; clone it freely (clones share the
/// connection).
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
pub struct Client {
    inner: crate::Client,
    runtime: Runner,
}

impl Client {
    /// Connects to the manager at `address` and authenticates with `key`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::connect`], and [`Error::Runtime`] if the
    /// background thread cannot start.
    pub fn connect(address: &Address, key: &AuthKey) -> Result<Client, Error> {
        let runtime = runtime()?;
        let inner = runtime.block_on(crate::Client::connect(address, key))?;
        Ok(Client {
            inner,
            runtime: Runner(Arc::new(runtime)),
        })
    }

    /// Connects with the address and key a launcher put in this process's
    /// environment: the one call a worker makes.
    ///
    /// # Errors
    ///
    /// [`Error::Environment`] if they are missing, otherwise as
    /// [`Client::connect`].
    pub fn from_env() -> Result<Client, Error> {
        let (address, key) = crate::launcher::manager_from_env()?;
        Self::connect(&address, &key)
    }

    /// The async client underneath, sharing this connection.
    pub fn as_async(&self) -> &crate::Client {
        &self.inner
    }

    /// The manager's address.
    pub fn address(&self) -> &Address {
        self.inner.address()
    }

    /// The identity of the manager this client is connected to (see
    /// [`crate::Client::manager_id`]).
    pub fn manager_id(&self) -> u64 {
        self.inner.manager_id()
    }

    /// A handle on the same connection whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client {
            inner: self.inner.with_timeout(timeout),
            runtime: self.runtime.clone(),
        }
    }

    /// Finds the object `name`, creating it from `spec` if there is none.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::object`].
    pub fn object(&self, name: &str, spec: ObjectSpec) -> Result<proxy::ObjectRef, Error> {
        self.runtime.run(self.inner.object(name, spec))
    }

    /// Finds or creates the namespace `name`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::namespace`].
    pub fn namespace(&self, name: &str) -> Result<Namespace, Error> {
        let inner = self.runtime.run(self.inner.namespace(name))?;
        Ok(Namespace::new(inner, self.runtime.clone()))
    }

    /// Finds or creates the list `name` of `T`s.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::list`].
    pub fn list<T>(&self, name: &str) -> Result<List<T>, Error> {
        let inner = self.runtime.run(self.inner.list(name))?;
        Ok(List::new(inner, self.runtime.clone()))
    }

    /// Finds or creates the dict `name` from `K`s to `V`s.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::dict`].
    pub fn dict<K, V>(&self, name: &str) -> Result<Dict<K, V>, Error> {
        let inner = self.runtime.run(self.inner.dict(name))?;
        Ok(Dict::new(inner, self.runtime.clone()))
    }

    /// Finds or creates the set `name` of `T`s.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::set`].
    pub fn set<T>(&self, name: &str) -> Result<Set<T>, Error> {
        let inner = self.runtime.run(self.inner.set(name))?;
        Ok(Set::new(inner, self.runtime.clone()))
    }

    /// Finds the value `name`, or creates it holding `initial`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::value`].
    pub fn value<T: Serialize>(&self, name: &str, initial: &T) -> Result<Value<T>, Error> {
        let inner = self.runtime.run(self.inner.value(name, initial))?;
        Ok(Value::new(inner, self.runtime.clone()))
    }

    /// Finds the array `name`, or creates it holding `items`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::array`].
    pub fn array<T: Serialize>(&self, name: &str, items: &[T]) -> Result<Array<T>, Error> {
        let inner = self.runtime.run(self.inner.array(name, items))?;
        Ok(Array::new(inner, self.runtime.clone()))
    }

    /// Finds or creates the queue `name`; `maxsize` bounds a new one.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::queue`].
    pub fn queue<T>(&self, name: &str, maxsize: Option<usize>) -> Result<Queue<T>, Error> {
        let inner = self.runtime.run(self.inner.queue(name, maxsize))?;
        Ok(Queue::new(inner, self.runtime.clone()))
    }

    /// Finds or creates the joinable queue `name`; `maxsize` bounds a new one.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::joinable_queue`].
    pub fn joinable_queue<T>(
        &self,
        name: &str,
        maxsize: Option<usize>,
    ) -> Result<JoinableQueue<T>, Error> {
        let inner = self.runtime.run(self.inner.joinable_queue(name, maxsize))?;
        Ok(JoinableQueue::new(inner, self.runtime.clone()))
    }

    /// Finds or creates the lock `name`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::lock`].
    pub fn lock(&self, name: &str) -> Result<Lock, Error> {
        let inner = self.runtime.run(self.inner.lock(name))?;
        Ok(Lock::new(inner, self.runtime.clone()))
    }

    /// Finds or creates the re-entrant lock `name`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::rlock`].
    pub fn rlock(&self, name: &str) -> Result<RLock, Error> {
        let inner = self.runtime.run(self.inner.rlock(name))?;
        Ok(RLock::new(inner, self.runtime.clone()))
    }

    /// Finds the semaphore `name`, or creates it with `value` units.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::semaphore`].
    pub fn semaphore(&self, name: &str, value: u64) -> Result<Semaphore, Error> {
        let inner = self.runtime.run(self.inner.semaphore(name, value))?;
        Ok(Semaphore::new(inner, self.runtime.clone()))
    }

    /// Finds the bounded semaphore `name`, or creates it with `value` units.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::bounded_semaphore`].
    pub fn bounded_semaphore(&self, name: &str, value: u64) -> Result<BoundedSemaphore, Error> {
        let inner = self
            .runtime
            .run(self.inner.bounded_semaphore(name, value))?;
        Ok(BoundedSemaphore::new(inner, self.runtime.clone()))
    }

    /// Finds or creates the event `name`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::event`].
    pub fn event(&self, name: &str) -> Result<Event, Error> {
        let inner = self.runtime.run(self.inner.event(name))?;
        Ok(Event::new(inner, self.runtime.clone()))
    }

    /// Finds or creates the condition `name`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::condition`].
    pub fn condition(&self, name: &str) -> Result<Condition, Error> {
        let inner = self.runtime.run(self.inner.condition(name))?;
        Ok(Condition::new(inner, self.runtime.clone()))
    }

    /// Finds the barrier `name`, or creates it for `parties` waiters.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::barrier`].
    pub fn barrier(&self, name: &str, parties: usize) -> Result<Barrier, Error> {
        let inner = self.runtime.run(self.inner.barrier(name, parties))?;
        Ok(Barrier::new(inner, self.runtime.clone()))
    }

    /// Finds an existing object.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::lookup`].
    pub fn lookup(&self, name: &str) -> Result<ObjectInfo, Error> {
        self.runtime.run(self.inner.lookup(name))
    }

    /// Removes an object; returns whether it existed.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::remove`].
    pub fn remove(&self, name: &str) -> Result<bool, Error> {
        self.runtime.run(self.inner.remove(name))
    }

    /// Every object the manager holds, sorted by name.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::objects`].
    pub fn objects(&self) -> Result<Vec<ObjectSummary>, Error> {
        self.runtime.run(self.inner.objects())
    }

    /// What the manager holds now: every object, every live connection,
    /// totals.
    ///
    /// # Examples
    ///
    /// ```
    /// let manager = manager::Manager::start()?;
    /// let client = manager.connect()?;
    /// client.dict::<String, u32>("scores")?.insert("ann", &3)?;
    /// let snapshot = client.inspect()?;
    /// assert_eq!(snapshot.objects.len(), 1);
    /// assert_eq!(snapshot.totals.connections_now, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`crate::Client::inspect`].
    pub fn inspect(&self) -> Result<crate::inspect::ManagerSnapshot, Error> {
        self.runtime.run(self.inner.inspect())
    }
}

/// A current-thread runtime: whichever thread is blocked in a call drives the
/// connection's tasks, so a lone call sends, waits and reads its reply on
/// one thread, with no hand-over between threads.
fn runtime() -> Result<Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}
