//! [`Custom`]: the blocking proxy of an object of an application's own
//! type; see [`proxy::Custom`] for what it does.

use std::time::Duration;

use manager_core::custom::CustomType;
use manager_core::{ObjectId, ObjectName};

use super::{Client, Runner};
use crate::{Error, proxy};

/// The blocking handle of [`proxy::Custom`].
pub struct Custom<T> {
    inner: proxy::Custom<T>,
    runtime: Runner,
}

impl<T> Clone for Custom<T> {
    fn clone(&self) -> Self {
        Custom {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Custom<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Custom")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<T> Custom<T> {
    pub(crate) fn new(inner: proxy::Custom<T>, runtime: Runner) -> Self {
        Custom { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::Custom<T> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }
}

impl<T: CustomType> Custom<T> {
    /// See [`proxy::Custom::call`].
    ///
    /// # Errors
    ///
    /// As there.
    pub fn call(&self, request: T::Request) -> Result<T::Reply, Error> {
        self.runtime.run(self.inner.call(request))
    }
}

impl Client {
    /// Finds the object `name` of the custom type `T`, or creates it from
    /// `init`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::custom`].
    pub fn custom<T: CustomType>(&self, name: &str, init: &T::Init) -> Result<Custom<T>, Error> {
        let inner = self.runtime.run(self.inner.custom::<T>(name, init))?;
        Ok(Custom::new(inner, self.runtime.clone()))
    }

    /// Finds the existing object `name` of the custom type `T`.
    ///
    /// # Errors
    ///
    /// As [`crate::Client::lookup_custom`].
    pub fn lookup_custom<T: CustomType>(&self, name: &str) -> Result<Custom<T>, Error> {
        let inner = self.runtime.run(self.inner.lookup_custom::<T>(name))?;
        Ok(Custom::new(inner, self.runtime.clone()))
    }
}
