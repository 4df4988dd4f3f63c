//! [`Set`]: the blocking proxies; see [`crate::proxy`] for what each method does.

use std::borrow::Borrow;
use std::time::Duration;

use manager_core::{ObjectId, ObjectName};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Runner;
use crate::{Error, proxy};

/// The blocking handle of [`proxy::Set`].
///
/// # Examples
///
/// ```
/// let manager = manager::Manager::start()?;
/// let seen = manager.connect()?.set::<String>("seen")?;
/// assert!(seen.add("a")?);
/// assert!(!seen.add(&"a".to_owned())?, "the same item, owned or borrowed");
/// assert!(seen.contains("a")?);
/// assert_eq!(seen.difference(&["a".to_owned()])?, Vec::<String>::new());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Set<T> {
    inner: proxy::Set<T>,
    runtime: Runner,
}

impl<T> Clone for Set<T> {
    fn clone(&self) -> Self {
        Set {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Set<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Set").field("inner", &self.inner).finish()
    }
}

impl<T> Set<T> {
    pub(crate) fn new(inner: proxy::Set<T>, runtime: Runner) -> Self {
        Set { inner, runtime }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.inner.name()
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.inner.id()
    }

    /// The async handle underneath.
    pub fn as_async(&self) -> &proxy::Set<T> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }

    /// See [`proxy::Set::len`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn len(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.len())
    }

    /// See [`proxy::Set::is_empty`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn is_empty(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.is_empty())
    }

    /// See [`proxy::Set::clear`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn clear(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.clear())
    }
}

impl<T: Serialize> Set<T> {
    /// See [`proxy::Set::add`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn add<Q>(&self, value: &Q) -> Result<bool, Error>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.add(value))
    }

    /// See [`proxy::Set::remove`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn remove<Q>(&self, value: &Q) -> Result<(), Error>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.remove(value))
    }

    /// See [`proxy::Set::discard`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn discard<Q>(&self, value: &Q) -> Result<bool, Error>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.discard(value))
    }

    /// See [`proxy::Set::contains`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn contains<Q>(&self, value: &Q) -> Result<bool, Error>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.contains(value))
    }
}

impl<T: DeserializeOwned> Set<T> {
    /// See [`proxy::Set::pop`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn pop(&self) -> Result<T, Error> {
        self.runtime.run(self.inner.pop())
    }

    /// See [`proxy::Set::snapshot`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn snapshot(&self) -> Result<Vec<T>, Error> {
        self.runtime.run(self.inner.snapshot())
    }
}

impl<T: Serialize + DeserializeOwned> Set<T> {
    /// See [`proxy::Set::union`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn union<'a>(&self, values: impl IntoIterator<Item = &'a T>) -> Result<Vec<T>, Error>
    where
        T: 'a,
    {
        self.runtime.run(self.inner.union(values))
    }

    /// See [`proxy::Set::intersection`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn intersection<'a>(&self, values: impl IntoIterator<Item = &'a T>) -> Result<Vec<T>, Error>
    where
        T: 'a,
    {
        self.runtime.run(self.inner.intersection(values))
    }

    /// See [`proxy::Set::difference`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn difference<'a>(&self, values: impl IntoIterator<Item = &'a T>) -> Result<Vec<T>, Error>
    where
        T: 'a,
    {
        self.runtime.run(self.inner.difference(values))
    }
}
