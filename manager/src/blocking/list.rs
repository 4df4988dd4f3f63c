//! [`List`]: the blocking proxies; see [`crate::proxy`] for what each method does.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::time::Duration;

use manager_core::{ObjectId, ObjectName};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Runner;
use crate::{Error, proxy};

/// The blocking handle of [`proxy::List`].
///
/// # Examples
///
/// ```
/// let manager = manager::Manager::start()?;
/// let sizes = manager.connect()?.list::<i64>("sizes")?;
/// sizes.extend(&[30, 10, 20])?;
/// sizes.sort()?;
/// assert_eq!(sizes.snapshot()?, [10, 20, 30]);
/// assert_eq!(sizes.get(-1)?, 30);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct List<T> {
    inner: proxy::List<T>,
    runtime: Runner,
}

impl<T> Clone for List<T> {
    fn clone(&self) -> Self {
        List {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<T> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("List").field("inner", &self.inner).finish()
    }
}

impl<T> List<T> {
    pub(crate) fn new(inner: proxy::List<T>, runtime: Runner) -> Self {
        List { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::List<T> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }

    /// See [`proxy::List::len`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn len(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.len())
    }

    /// See [`proxy::List::is_empty`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn is_empty(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.is_empty())
    }

    /// See [`proxy::List::clear`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn clear(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.clear())
    }

    /// See [`proxy::List::reverse`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn reverse(&self) -> Result<(), Error> {
        self.runtime.run(self.inner.reverse())
    }
}

impl<T: Serialize> List<T> {
    /// See [`proxy::List::set`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn set(&self, index: i64, value: &T) -> Result<(), Error> {
        self.runtime.run(self.inner.set(index, value))
    }

    /// See [`proxy::List::append`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn append(&self, value: &T) -> Result<(), Error> {
        self.runtime.run(self.inner.append(value))
    }

    /// See [`proxy::List::extend`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn extend<'a>(&self, values: impl IntoIterator<Item = &'a T>) -> Result<(), Error>
    where
        T: 'a,
    {
        self.runtime.run(self.inner.extend(values))
    }

    /// See [`proxy::List::insert`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn insert(&self, index: i64, value: &T) -> Result<(), Error> {
        self.runtime.run(self.inner.insert(index, value))
    }

    /// See [`proxy::List::remove`].
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

    /// See [`proxy::List::index`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn index<Q>(&self, value: &Q) -> Result<usize, Error>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.index(value))
    }

    /// See [`proxy::List::count`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn count<Q>(&self, value: &Q) -> Result<usize, Error>
    where
        T: Borrow<Q>,
        Q: Serialize + ?Sized,
    {
        self.runtime.run(self.inner.count(value))
    }

    /// See [`proxy::List::contains`].
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

    /// See [`proxy::List::replace_if_version`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn replace_if_version<'a>(
        &self,
        version: u64,
        values: impl IntoIterator<Item = &'a T>,
    ) -> Result<bool, Error>
    where
        T: 'a,
    {
        self.runtime
            .run(self.inner.replace_if_version(version, values))
    }
}

impl<T: DeserializeOwned> List<T> {
    /// See [`proxy::List::get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get(&self, index: i64) -> Result<T, Error> {
        self.runtime.run(self.inner.get(index))
    }

    /// See [`proxy::List::pop`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn pop(&self) -> Result<T, Error> {
        self.runtime.run(self.inner.pop())
    }

    /// See [`proxy::List::pop_index`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn pop_index(&self, index: i64) -> Result<T, Error> {
        self.runtime.run(self.inner.pop_index(index))
    }

    /// See [`proxy::List::slice`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn slice(&self, start: Option<i64>, stop: Option<i64>) -> Result<Vec<T>, Error> {
        self.runtime.run(self.inner.slice(start, stop))
    }

    /// See [`proxy::List::snapshot`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn snapshot(&self) -> Result<Vec<T>, Error> {
        self.runtime.run(self.inner.snapshot())
    }

    /// See [`proxy::List::versioned_snapshot`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn versioned_snapshot(&self) -> Result<(u64, Vec<T>), Error> {
        self.runtime.run(self.inner.versioned_snapshot())
    }

    /// See [`proxy::List::sort`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn sort(&self) -> Result<(), Error>
    where
        T: Ord,
    {
        self.runtime.run(self.inner.sort())
    }

    /// See [`proxy::List::sort_by`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn sort_by(&self, compare: impl FnMut(&T, &T) -> Ordering) -> Result<(), Error> {
        self.runtime.run(self.inner.sort_by(compare))
    }

    /// See [`proxy::List::sort_by_key`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn sort_by_key<K: Ord>(&self, key: impl FnMut(&T) -> K) -> Result<(), Error> {
        self.runtime.run(self.inner.sort_by_key(key))
    }
}
