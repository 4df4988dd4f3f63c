//! [`Queue`], [`JoinableQueue`]: the blocking proxies; see [`crate::proxy`] for what each method does.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::proxy;

/// The blocking handle of [`proxy::Queue`].
pub struct Queue<T> {
    inner: proxy::Queue<T>,
    runtime: Runner,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("inner", &self.inner).finish()
    }
}

impl<T> Queue<T> {
    pub(crate) fn new(inner: proxy::Queue<T>, runtime: Runner) -> Self {
        Queue { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::Queue<T> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }
}

/// The blocking handle of [`proxy::JoinableQueue`].
pub struct JoinableQueue<T> {
    inner: proxy::JoinableQueue<T>,
    runtime: Runner,
}

impl<T> Clone for JoinableQueue<T> {
    fn clone(&self) -> Self {
        JoinableQueue {
            inner: self.inner.clone(),
            runtime: self.runtime.clone(),
        }
    }
}

impl<T> std::fmt::Debug for JoinableQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinableQueue")
            .field("inner", &self.inner)
            .finish()
    }
}

impl<T> JoinableQueue<T> {
    pub(crate) fn new(inner: proxy::JoinableQueue<T>, runtime: Runner) -> Self {
        JoinableQueue { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::JoinableQueue<T> {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }
}
