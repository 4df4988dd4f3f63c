//! [`Set`]: the blocking proxies; see [`crate::proxy`] for what each method does.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::proxy;

/// The blocking handle of [`proxy::Set`].
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
}
