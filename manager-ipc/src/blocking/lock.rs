//! [`Lock`], [`RLock`]: the blocking proxies; see [`crate::proxy`] for what each method does.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::proxy;

/// The blocking handle of [`proxy::Lock`].
#[derive(Debug, Clone)]
pub struct Lock {
    inner: proxy::Lock,
    runtime: Runner,
}

impl Lock {
    pub(crate) fn new(inner: proxy::Lock, runtime: Runner) -> Self {
        Lock { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::Lock {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }
}

/// The blocking handle of [`proxy::RLock`].
#[derive(Debug, Clone)]
pub struct RLock {
    inner: proxy::RLock,
    runtime: Runner,
}

impl RLock {
    pub(crate) fn new(inner: proxy::RLock, runtime: Runner) -> Self {
        RLock { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::RLock {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }
}
