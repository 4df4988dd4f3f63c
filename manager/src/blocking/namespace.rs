//! [`Namespace`]: the blocking proxy of a shared namespace.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Runner;
use crate::Error;
use crate::proxy::{self, NamespaceSnapshot};

/// The blocking proxy of a shared namespace; see [`proxy::Namespace`] for
/// what each method does.
///
/// # Examples
///
/// ```
/// let manager = manager::Manager::start()?;
/// let ns = manager.connect()?.namespace("job")?;
/// ns.set("name", "resize images")?;
/// assert_eq!(ns.get::<String>("name")?, "resize images");
/// assert_eq!(ns.add("done", 1)?, 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Namespace {
    inner: proxy::Namespace,
    runtime: Runner,
}

impl Namespace {
    pub(crate) fn new(inner: proxy::Namespace, runtime: Runner) -> Self {
        Namespace { inner, runtime }
    }

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
        self.runtime.run(self.inner.set(attribute, value))
    }

    /// See [`proxy::Namespace::get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get<T: DeserializeOwned>(&self, attribute: &str) -> Result<T, Error> {
        self.runtime.run(self.inner.get(attribute))
    }

    /// See [`proxy::Namespace::try_get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn try_get<T: DeserializeOwned>(&self, attribute: &str) -> Result<Option<T>, Error> {
        self.runtime.run(self.inner.try_get(attribute))
    }

    /// See [`proxy::Namespace::delete`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn delete(&self, attribute: &str) -> Result<bool, Error> {
        self.runtime.run(self.inner.delete(attribute))
    }

    /// See [`proxy::Namespace::contains`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn contains(&self, attribute: &str) -> Result<bool, Error> {
        self.runtime.run(self.inner.contains(attribute))
    }

    /// See [`proxy::Namespace::names`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn names(&self) -> Result<Vec<String>, Error> {
        self.runtime.run(self.inner.names())
    }

    /// See [`proxy::Namespace::snapshot`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn snapshot(&self) -> Result<NamespaceSnapshot, Error> {
        self.runtime.run(self.inner.snapshot())
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
        self.runtime.run(self.inner.set_if_absent(attribute, value))
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
            .run(self.inner.compare_and_swap(attribute, expected, new))
    }

    /// See [`proxy::Namespace::add`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn add(&self, attribute: &str, delta: i64) -> Result<i64, Error> {
        self.runtime.run(self.inner.add(attribute, delta))
    }
}
