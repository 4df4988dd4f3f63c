//! [`Value`]: the blocking proxies; see [`crate::proxy`] for what each method does.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Runner;
use crate::{Error, proxy};

/// The blocking handle of [`proxy::Value`].
///
/// # Examples
///
/// ```
/// let manager = manager::Manager::start()?;
/// let total = manager.connect()?.value("total", &10_i64)?;
/// assert_eq!(total.add(5)?, 15);
/// assert_eq!(total.compare_and_swap(&15, &0)?, Ok(()));
/// assert_eq!(total.get()?, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Value<T> {
    inner: proxy::Value<T>,
    runtime: Runner,
}

impl<T> Clone for Value<T> {
    fn clone(&self) -> Self {
        Value {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Value").field("inner", &self.inner).finish()
    }
}

impl<T> Value<T> {
    pub(crate) fn new(inner: proxy::Value<T>, runtime: Runner) -> Self {
        Value { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::Value<T> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }
}

impl<T: Serialize> Value<T> {
    /// See [`proxy::Value::set`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn set(&self, value: &T) -> Result<(), Error> {
        self.runtime.run(self.inner.set(value))
    }
}

impl<T: DeserializeOwned> Value<T> {
    /// See [`proxy::Value::get`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn get(&self) -> Result<T, Error> {
        self.runtime.run(self.inner.get())
    }
}

impl<T: Serialize + DeserializeOwned> Value<T> {
    /// See [`proxy::Value::swap`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn swap(&self, value: &T) -> Result<T, Error> {
        self.runtime.run(self.inner.swap(value))
    }

    /// See [`proxy::Value::compare_and_swap`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn compare_and_swap(&self, expected: &T, new: &T) -> Result<Result<(), T>, Error> {
        self.runtime.run(self.inner.compare_and_swap(expected, new))
    }
}

/// `T` is an integer type, of any width.
impl<T: TryFrom<i64>> Value<T> {
    /// See [`proxy::Value::add`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn add(&self, delta: i64) -> Result<i64, Error> {
        self.runtime.run(self.inner.add(delta))
    }
}

impl Value<i64> {
    /// See [`proxy::Value::sub`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn sub(&self, delta: i64) -> Result<i64, Error> {
        self.runtime.run(self.inner.sub(delta))
    }
}
