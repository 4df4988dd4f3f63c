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

use std::sync::Arc;
use std::time::Duration;

use manager_core::ObjectId;
use manager_core::ObjectName;
use manager_core::reply::{ObjectInfo, ObjectSummary};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::runtime::Runtime;

pub use crate::proxy::NamespaceSnapshot;

use crate::proxy;
use crate::{Address, AuthKey, Error};

/// A blocking connection to a manager; clone it freely (clones share the
/// connection).
///
/// # Examples
///
/// ```
/// let manager = manager_ipc::Manager::start()?;
/// let client = manager_ipc::blocking::Client::connect(manager.address(), manager.authkey())?;
/// let ns = client.namespace("stats")?;
/// assert_eq!(ns.add("hits", 2)?, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: crate::Client,
    runtime: Arc<Runtime>,
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
            runtime: Arc::new(runtime),
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

    /// A handle on the same connection whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Client {
        Client {
            inner: self.inner.with_timeout(timeout),
            runtime: self.runtime.clone(),
        }
    }

    /// Finds the namespace called `name`, creating it if needed.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::namespace`].
    pub fn namespace(&self, name: &str) -> Result<Namespace, Error> {
        let inner = self.runtime.block_on(self.inner.namespace(name))?;
        Ok(Namespace {
            inner,
            runtime: self.runtime.clone(),
        })
    }

    /// Finds an existing object.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::lookup`].
    pub fn lookup(&self, name: &str) -> Result<ObjectInfo, Error> {
        self.runtime.block_on(self.inner.lookup(name))
    }

    /// Removes an object; returns whether it existed.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::remove`].
    pub fn remove(&self, name: &str) -> Result<bool, Error> {
        self.runtime.block_on(self.inner.remove(name))
    }

    /// Every object the manager holds, sorted by name.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::objects`].
    pub fn objects(&self) -> Result<Vec<ObjectSummary>, Error> {
        self.runtime.block_on(self.inner.objects())
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

/// The blocking proxy of a shared namespace; see [`proxy::Namespace`] for
/// what each method does.
///
/// # Examples
///
/// ```
/// let manager = manager_ipc::Manager::start()?;
/// let ns = manager.connect()?.namespace("job")?;
/// ns.set("name", "resize images")?;
/// assert_eq!(ns.get::<String>("name")?, "resize images");
/// assert_eq!(ns.add("done", 1)?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Namespace {
    inner: proxy::Namespace,
    runtime: Arc<Runtime>,
}

impl Namespace {
    /// The namespace's name.
    pub fn name(&self) -> &ObjectName {
        self.inner.name()
    }

    /// The namespace's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.inner.id()
    }

    /// The async proxy underneath.
    pub fn as_async(&self) -> &proxy::Namespace {
        &self.inner
    }

    /// A proxy of the same namespace whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Namespace {
        Namespace {
            inner: self.inner.with_timeout(timeout),
            runtime: self.runtime.clone(),
        }
    }

    /// See [`proxy::Namespace::set`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn set<T: Serialize + ?Sized>(&self, attribute: &str, value: &T) -> Result<(), Error> {
        self.runtime.block_on(self.inner.set(attribute, value))
    }

    /// See [`proxy::Namespace::get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get<T: DeserializeOwned>(&self, attribute: &str) -> Result<T, Error> {
        self.runtime.block_on(self.inner.get(attribute))
    }

    /// See [`proxy::Namespace::try_get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn try_get<T: DeserializeOwned>(&self, attribute: &str) -> Result<Option<T>, Error> {
        self.runtime.block_on(self.inner.try_get(attribute))
    }

    /// See [`proxy::Namespace::delete`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn delete(&self, attribute: &str) -> Result<bool, Error> {
        self.runtime.block_on(self.inner.delete(attribute))
    }

    /// See [`proxy::Namespace::contains`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn contains(&self, attribute: &str) -> Result<bool, Error> {
        self.runtime.block_on(self.inner.contains(attribute))
    }

    /// See [`proxy::Namespace::names`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn names(&self) -> Result<Vec<String>, Error> {
        self.runtime.block_on(self.inner.names())
    }

    /// See [`proxy::Namespace::snapshot`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn snapshot(&self) -> Result<NamespaceSnapshot, Error> {
        self.runtime.block_on(self.inner.snapshot())
    }

    /// See [`proxy::Namespace::set_if_absent`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn set_if_absent<T: Serialize + ?Sized>(
        &self,
        attribute: &str,
        value: &T,
    ) -> Result<bool, Error> {
        self.runtime
            .block_on(self.inner.set_if_absent(attribute, value))
    }

    /// See [`proxy::Namespace::compare_and_swap`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn compare_and_swap<T: Serialize + DeserializeOwned>(
        &self,
        attribute: &str,
        expected: Option<&T>,
        new: &T,
    ) -> Result<Result<(), Option<T>>, Error> {
        self.runtime
            .block_on(self.inner.compare_and_swap(attribute, expected, new))
    }

    /// See [`proxy::Namespace::add`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn add(&self, attribute: &str, delta: i64) -> Result<i64, Error> {
        self.runtime.block_on(self.inner.add(attribute, delta))
    }
}
