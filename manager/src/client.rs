//! [`Client`]: one authenticated connection to a manager, shared by every
//! proxy of a process.
//!
//! Opening or finding an object is one request on the existing connection
//! (Python opens new connections per proxy). Every call gets a fresh request
//! id; a background task reads replies and hands each to the call waiting for
//! its id, so many calls may be in flight at once and their replies may come
//! back in any order.
//!
//! # Timeouts and cancellation
//!
//! A call may carry a deadline ([`Client::with_timeout`]). A call that times
//! out, or whose future is dropped, forgets its id: a late reply is discarded
//! and the connection stays in step. The manager may still apply the request.
//!
//! # Disconnection
//!
//! When the connection ends (the manager stopped or died), every waiting call
//! and every later call fails with [`Error::ManagerGone`].

use std::time::Duration;

use manager_core::reply::{ObjectInfo, ObjectSummary, RegistryReply, Reply};
use manager_core::request::{RegistryRequest, Request};
use manager_core::{ObjectName, ObjectSpec};
use manager_ipc::Connection;
use serde::Serialize;

use crate::proxy::{
    self, Array, Barrier, BoundedSemaphore, Condition, Dict, Event, JoinableQueue, List, Lock,
    Namespace, ObjectRef, Queue, RLock, Semaphore, Set, Value,
};
use crate::{Address, AuthKey, Error};

pub use manager_ipc::connection::{CONNECT_TIMEOUT, MAX_REPLY_BYTES};

/// A connection to a manager, for async code; clone it freely (clones share
/// the connection).
///
/// Needs a tokio runtime. Plain threads use [`blocking::Client`](crate::blocking::Client).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = manager::Manager::start()?;
/// let client = manager::Client::connect(manager.address(), manager.authkey()).await?;
/// let hits = client.namespace("stats").await?;
/// assert_eq!(hits.add("hits", 1).await?, 1);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    connection: Connection,
}

impl From<Connection> for Client {
    fn from(connection: Connection) -> Self {
        Client { connection }
    }
}

impl Client {
    /// Connects to the manager at `address` and authenticates with `key`.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] if nothing answers at the address, and
    /// [`Error::Handshake`] if authentication fails (for example a wrong key),
    /// the protocol versions differ, or the manager does not finish the
    /// handshake within [`CONNECT_TIMEOUT`].
    pub async fn connect(address: &Address, key: &AuthKey) -> Result<Client, Error> {
        Ok(Client::from(Connection::connect(address, key).await?))
    }

    /// Connects with the address and key a launcher put in this process's
    /// environment (see [`crate::launcher`]).
    ///
    /// # Errors
    ///
    /// [`Error::Environment`] if they are missing or malformed, otherwise as
    /// [`Client::connect`].
    pub async fn from_env() -> Result<Client, Error> {
        let (address, key) = crate::launcher::manager_from_env()?;
        Self::connect(&address, &key).await
    }

    /// Finds the object `name`, creating it from `spec` if there is none,
    /// and returns an untyped handle on it. The typed constructors below
    /// ([`Client::namespace`], [`Client::queue`], ...) are built on this.
    ///
    /// # Errors
    ///
    /// [`Error::Manager`] with [`ManagerError::InvalidName`](crate::ManagerError::InvalidName) or
    /// [`ManagerError::KindMismatch`](crate::ManagerError::KindMismatch), and the errors of every call.
    pub async fn object(&self, name: &str, spec: ObjectSpec) -> Result<ObjectRef, Error> {
        let name = ObjectName::new(name)?;
        match self
            .call(Request::Registry(RegistryRequest::CreateOrGet {
                name: name.into(),
                spec,
            }))
            .await?
        {
            Reply::Registry(RegistryReply::Object(info)) => Ok(ObjectRef::new(self.clone(), info)),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Finds or creates the namespace `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn namespace(&self, name: &str) -> Result<Namespace, Error> {
        Ok(Namespace::new(
            self.object(name, ObjectSpec::Namespace).await?,
        ))
    }

    /// Finds or creates the list `name` of `T`s.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn list<T>(&self, name: &str) -> Result<List<T>, Error> {
        Ok(List::new(self.object(name, ObjectSpec::List).await?))
    }

    /// Finds or creates the dict `name` from `K`s to `V`s.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn dict<K, V>(&self, name: &str) -> Result<Dict<K, V>, Error> {
        Ok(Dict::new(self.object(name, ObjectSpec::Dict).await?))
    }

    /// Finds or creates the set `name` of `T`s.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn set<T>(&self, name: &str) -> Result<Set<T>, Error> {
        Ok(Set::new(self.object(name, ObjectSpec::Set).await?))
    }

    /// Finds the value `name`, or creates it holding `initial`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`], and [`Error::EncodeValue`].
    pub async fn value<T: Serialize>(&self, name: &str, initial: &T) -> Result<Value<T>, Error> {
        let spec = ObjectSpec::Value {
            initial: proxy::encode(initial)?,
        };
        Ok(Value::new(self.object(name, spec).await?))
    }

    /// Finds the array `name`, or creates it holding `items` (its length is
    /// fixed from then on).
    ///
    /// # Errors
    ///
    /// As [`Client::value`].
    pub async fn array<T: Serialize>(&self, name: &str, items: &[T]) -> Result<Array<T>, Error> {
        let spec = ObjectSpec::Array {
            items: proxy::encode_all(items)?,
        };
        Ok(Array::new(self.object(name, spec).await?))
    }

    /// Finds or creates the queue `name`; `maxsize` bounds a new one.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn queue<T>(&self, name: &str, maxsize: Option<usize>) -> Result<Queue<T>, Error> {
        let spec = ObjectSpec::Queue {
            maxsize: maxsize.map(|n| n as u64),
        };
        Ok(Queue::new(self.object(name, spec).await?))
    }

    /// Finds or creates the joinable queue `name`; `maxsize` bounds a new one.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn joinable_queue<T>(
        &self,
        name: &str,
        maxsize: Option<usize>,
    ) -> Result<JoinableQueue<T>, Error> {
        let spec = ObjectSpec::JoinableQueue {
            maxsize: maxsize.map(|n| n as u64),
        };
        Ok(JoinableQueue::new(self.object(name, spec).await?))
    }

    /// Finds or creates the lock `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn lock(&self, name: &str) -> Result<Lock, Error> {
        Ok(Lock::new(self.object(name, ObjectSpec::Lock).await?))
    }

    /// Finds or creates the re-entrant lock `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn rlock(&self, name: &str) -> Result<RLock, Error> {
        Ok(RLock::new(self.object(name, ObjectSpec::RLock).await?))
    }

    /// Finds the semaphore `name`, or creates it with `value` units.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn semaphore(&self, name: &str, value: u64) -> Result<Semaphore, Error> {
        Ok(Semaphore::new(
            self.object(name, ObjectSpec::Semaphore { value }).await?,
        ))
    }

    /// Finds the bounded semaphore `name`, or creates it with `value` units.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn bounded_semaphore(
        &self,
        name: &str,
        value: u64,
    ) -> Result<BoundedSemaphore, Error> {
        let spec = ObjectSpec::BoundedSemaphore { value };
        Ok(BoundedSemaphore::new(self.object(name, spec).await?))
    }

    /// Finds or creates the event `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn event(&self, name: &str) -> Result<Event, Error> {
        Ok(Event::new(self.object(name, ObjectSpec::Event).await?))
    }

    /// Finds or creates the condition `name`.
    ///
    /// # Errors
    ///
    /// As [`Client::object`].
    pub async fn condition(&self, name: &str) -> Result<Condition, Error> {
        Ok(Condition::new(
            self.object(name, ObjectSpec::Condition).await?,
        ))
    }

    /// Finds the barrier `name`, or creates it for `parties` waiters.
    ///
    /// # Errors
    ///
    /// As [`Client::object`]; a barrier for 0 parties is a `BadRequest`.
    pub async fn barrier(&self, name: &str, parties: usize) -> Result<Barrier, Error> {
        let spec = ObjectSpec::Barrier {
            parties: parties as u64,
        };
        Ok(Barrier::new(self.object(name, spec).await?))
    }

    /// Finds an existing object.
    ///
    /// # Errors
    ///
    /// [`Error::Manager`] with [`ManagerError::NoSuchObject`](crate::ManagerError::NoSuchObject) if there is none.
    pub async fn lookup(&self, name: &str) -> Result<ObjectInfo, Error> {
        let name = ObjectName::new(name)?;
        match self
            .call(Request::Registry(RegistryRequest::Lookup {
                name: name.into(),
            }))
            .await?
        {
            Reply::Registry(RegistryReply::Object(info)) => Ok(info),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Removes an object; returns whether it existed. Proxies to it fail
    /// with [`ManagerError::ObjectGone`](crate::ManagerError::ObjectGone) afterwards.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub async fn remove(&self, name: &str) -> Result<bool, Error> {
        let name = ObjectName::new(name)?;
        match self
            .call(Request::Registry(RegistryRequest::Remove {
                name: name.into(),
            }))
            .await?
        {
            Reply::Registry(RegistryReply::Removed(removed)) => Ok(removed),
            other => Err(self.unexpected(&other)),
        }
    }

    /// Every object the manager holds, sorted by name.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub async fn objects(&self) -> Result<Vec<ObjectSummary>, Error> {
        match self.call(Request::Registry(RegistryRequest::List)).await? {
            Reply::Registry(RegistryReply::Objects(list)) => Ok(list),
            other => Err(self.unexpected(&other)),
        }
    }

    /// The connection underneath, shared by this client and its proxies.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The manager's address.
    pub fn address(&self) -> &Address {
        self.connection.address()
    }

    /// The manager's number for this connection.
    pub fn connection_id(&self) -> u64 {
        self.connection.connection_id()
    }

    /// The identity of the manager this client is connected to: a random
    /// number it chose when it started. [`Shared`](crate::proxy::Shared)
    /// tokens carry it, so a token attaches only on its own manager.
    pub fn manager_id(&self) -> u64 {
        self.connection.manager_id()
    }

    /// A handle on the same connection whose calls (and those of the
    /// proxies made from it) fail with [`Error::Timeout`] after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client::from(self.connection.with_timeout(timeout))
    }

    /// The deadline this handle puts on each call, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.connection.timeout()
    }

    /// Sends one request and waits for its reply, within this handle's
    /// timeout if it has one. Typed proxies are built on this.
    ///
    /// # Errors
    ///
    /// As [`Connection::call`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in that dropping the future never corrupts the
    /// connection; the request may or may not have been sent and applied.
    pub async fn call(&self, request: Request) -> Result<Reply, Error> {
        self.connection.call(request).await
    }

    pub(crate) async fn call_within(
        &self,
        request: Request,
        deadline: Option<Duration>,
        takes: Option<Request>,
    ) -> Result<Reply, Error> {
        self.connection.call_within(request, deadline, takes).await
    }

    pub(crate) fn send_detached(&self, request: Request) -> Result<(), Error> {
        self.connection.send_detached(request)
    }

    pub(crate) fn unexpected(&self, reply: &Reply) -> Error {
        self.connection.unexpected(reply)
    }
}

#[cfg(all(test, feature = "manager"))]
mod tests {
    use std::future::Future;
    use std::time::Duration;

    const DEADLINE: Duration = Duration::from_secs(30);

    /// A grant whose reply reached its call's channel after the caller
    /// stopped polling (the call dropped before it took the reply) is given
    /// back: the lock is released, not kept by a caller that never knew.
    #[test]
    fn a_grant_left_unread_in_its_channel_is_given_back() -> anyhow::Result<()> {
        let manager = crate::Manager::builder().start()?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        rt.block_on(async {
            let client = manager.connect_async().await?;
            let lock = client.lock("unread").await?;
            let mut call = Box::pin(lock.acquire());
            // Polled once: the request is sent.
            let first = std::future::poll_fn(|cx| std::task::Poll::Ready(call.as_mut().poll(cx)));
            assert!(first.await.is_pending());
            // The reply reaches the call's channel: its waiter is gone.
            tokio::time::timeout(DEADLINE, async {
                loop {
                    if client.connection().waiting() == 0 {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
            })
            .await?;
            // Dropped unread.
            drop(call);
            let other = manager.connect_async().await?.lock("unread").await?;
            assert!(
                other.acquire_timeout(DEADLINE).await?,
                "the unread grant was given back"
            );
            anyhow::Ok(())
        })?;
        manager.shutdown();
        Ok(())
    }
}
