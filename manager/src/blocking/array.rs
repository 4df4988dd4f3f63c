//! [`Array`]: the blocking proxies; see [`crate::proxy`] for what each method does.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Runner;
use crate::{Error, proxy};

/// The blocking handle of [`proxy::Array`].
///
/// # Examples
///
/// ```
/// let manager = manager::Manager::start()?;
/// let grid = manager.connect()?.array("grid", &[0.0_f64; 4])?;
/// grid.set_range(2, &[0.5, 1.5])?;
/// assert_eq!(grid.get(-1)?, 1.5);
/// assert_eq!(grid.snapshot()?, [0.0, 0.0, 0.5, 1.5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Array<T> {
    inner: proxy::Array<T>,
    runtime: Runner,
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Array").field("inner", &self.inner).finish()
    }
}

impl<T> Array<T> {
    pub(crate) fn new(inner: proxy::Array<T>, runtime: Runner) -> Self {
        Array { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::Array<T> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }

    /// See [`proxy::Array::len`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn len(&self) -> Result<usize, Error> {
        self.runtime.run(self.inner.len())
    }

    /// See [`proxy::Array::is_empty`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn is_empty(&self) -> Result<bool, Error> {
        self.runtime.run(self.inner.is_empty())
    }
}

impl<T: Serialize> Array<T> {
    /// See [`proxy::Array::set`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn set(&self, index: i64, value: &T) -> Result<(), Error> {
        self.runtime.run(self.inner.set(index, value))
    }

    /// See [`proxy::Array::set_range`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn set_range<'a>(
        &self,
        start: i64,
        values: impl IntoIterator<Item = &'a T>,
    ) -> Result<(), Error>
    where
        T: 'a,
    {
        self.runtime.run(self.inner.set_range(start, values))
    }
}

impl<T: DeserializeOwned> Array<T> {
    /// See [`proxy::Array::get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get(&self, index: i64) -> Result<T, Error> {
        self.runtime.run(self.inner.get(index))
    }

    /// See [`proxy::Array::get_range`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get_range(&self, start: Option<i64>, stop: Option<i64>) -> Result<Vec<T>, Error> {
        self.runtime.run(self.inner.get_range(start, stop))
    }

    /// See [`proxy::Array::snapshot`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn snapshot(&self) -> Result<Vec<T>, Error> {
        self.runtime.run(self.inner.snapshot())
    }
}
