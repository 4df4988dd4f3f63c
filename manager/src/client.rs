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

use std::future::Future;
use std::time::Duration;

use manager_core::reply::{ObjectInfo, ObjectSummary, Removed, Reply, ReplyShape};
use manager_core::request::{Call, RegistryRequest, Request};
use manager_core::{ObjectName, ObjectSpec};
use manager_ipc::Connection;

use crate::mode::{Async, Blocking, Mode};
use crate::proxy::ObjectRef;
use crate::{Address, AuthKey, Error};

pub use manager_ipc::connection::{CONNECT_TIMEOUT, MAX_REPLY_BYTES};

/// A connection to a manager; clone it freely (clones share the
/// connection).
///
/// `Client` (that is, `Client<Async>`) is for async code and needs a tokio
/// runtime; its methods return futures. Plain threads use
/// [`blocking::Client`](crate::blocking::Client), whose methods (the same
/// ones, see [`Mode`]) return their results.
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
pub struct Client<M: Mode = Async> {
    connection: Connection,
    mode: M,
}

impl From<Connection> for Client {
    fn from(connection: Connection) -> Self {
        Client {
            connection,
            mode: Async,
        }
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
        let (address, key) = crate::launcher::env::manager_from_env()?;
        Self::connect(&address, &key).await
    }
}

impl Client<Blocking> {
    /// Connects to the manager at `address` with `key`, on a runtime of
    /// its own that the calling threads drive.
    pub(crate) fn connect_blocking(address: &Address, key: &AuthKey) -> Result<Self, Error> {
        let mode = Blocking::new()?;
        let connection = mode.run(Connection::connect(address, key))?;
        // Its replies are read only while a call runs.
        connection.settle_give_ups(mode.runtime());
        Ok(Client { connection, mode })
    }

    /// The async client on this connection. Its calls are answered only
    /// while some thread drives this blocking client's runtime (is in a
    /// blocking call, or settles a call that gave up: see
    /// [`crate::mode`]); once the blocking client and its proxies are gone,
    /// and no such thread is left, its calls fail with
    /// [`Error::ManagerGone`].
    pub fn as_async(&self) -> Client {
        Client::from(self.connection.clone())
    }
}

impl<M: Mode> Client<M> {
    /// How this client's calls run.
    pub fn mode(&self) -> &M {
        &self.mode
    }

    /// Finds the object `name`, creating it from `spec` if there is none,
    /// and returns an untyped handle on it. The typed constructors
    /// ([`Client::namespace`], [`Client::queue`], ...), each written in its
    /// proxy's file of [`crate::proxy`], are built on this.
    ///
    /// # Errors
    ///
    /// [`Error::Manager`] with [`ManagerError::InvalidName`](crate::ManagerError::InvalidName) or
    /// [`ManagerError::KindMismatch`](crate::ManagerError::KindMismatch), and the errors of every call.
    pub fn object(
        &self,
        name: &str,
        spec: ObjectSpec,
    ) -> M::Answer<impl Future<Output = Result<ObjectRef<M>, Error>>> {
        self.mode
            .answer(async move { self.object_in(name, spec).await })
    }

    pub(crate) async fn object_in(
        &self,
        name: &str,
        spec: ObjectSpec,
    ) -> Result<ObjectRef<M>, Error> {
        let name = ObjectName::new(name)?;
        let info = self
            .ask_registry(RegistryRequest::create_or_get(name.into(), spec))
            .await?;
        Ok(ObjectRef::new(self.clone(), info))
    }

    /// Finds an existing object.
    ///
    /// # Errors
    ///
    /// [`Error::Manager`] with [`ManagerError::NoSuchObject`](crate::ManagerError::NoSuchObject) if there is none.
    pub fn lookup(&self, name: &str) -> M::Answer<impl Future<Output = Result<ObjectInfo, Error>>> {
        self.mode.answer(self.lookup_in(name))
    }

    pub(crate) async fn lookup_in(&self, name: &str) -> Result<ObjectInfo, Error> {
        let name = ObjectName::new(name)?;
        self.ask_registry(RegistryRequest::lookup(name.into()))
            .await
    }

    /// Removes an object; returns whether it existed. Proxies to it fail
    /// with [`ManagerError::ObjectGone`](crate::ManagerError::ObjectGone) afterwards.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn remove(&self, name: &str) -> M::Answer<impl Future<Output = Result<bool, Error>>> {
        self.mode.answer(async move {
            let name = ObjectName::new(name)?;
            let Removed(removed) = self
                .ask_registry(RegistryRequest::remove(name.into()))
                .await?;
            Ok(removed)
        })
    }

    /// Every object the manager holds, sorted by name.
    ///
    /// # Errors
    ///
    /// The errors of every call.
    pub fn objects(&self) -> M::Answer<impl Future<Output = Result<Vec<ObjectSummary>, Error>>> {
        self.mode
            .answer(async move { self.ask_registry(RegistryRequest::list()).await })
    }

    /// Sends a call to the registry and reads its reply as the call's type.
    pub(crate) async fn ask_registry<R: ReplyShape>(
        &self,
        call: Call<R, RegistryRequest>,
    ) -> Result<R, Error> {
        self.connection
            .call_as(Request::Registry(call.into_request()))
            .await
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
    pub fn with_timeout(&self, timeout: Duration) -> Client<M> {
        Client {
            connection: self.connection.with_timeout(timeout),
            mode: self.mode.clone(),
        }
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
    pub fn call(&self, request: Request) -> M::Answer<impl Future<Output = Result<Reply, Error>>> {
        self.mode.answer(self.connection.call(request))
    }

    pub(crate) fn call_within(
        &self,
        request: Request,
        deadline: Option<Duration>,
        takes: Option<Request>,
    ) -> manager_ipc::connection::CallFuture<'_> {
        self.connection.call_within(request, deadline, takes)
    }

    pub(crate) fn send_detached(&self, request: Request) -> Result<(), Error> {
        self.connection.send_detached(request)
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
