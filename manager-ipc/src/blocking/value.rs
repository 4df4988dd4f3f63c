//! [`Value`]: the blocking proxies; see [`crate::proxy`] for what each method does.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::proxy;

/// The blocking handle of [`proxy::Value`].
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
