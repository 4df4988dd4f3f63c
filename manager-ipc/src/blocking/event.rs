//! [`Event`]: the blocking proxies; see [`crate::proxy`] for what each method does.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::Runner;
use crate::proxy;

/// The blocking handle of [`proxy::Event`].
#[derive(Debug, Clone)]
pub struct Event {
    inner: proxy::Event,
    runtime: Runner,
}

impl Event {
    pub(crate) fn new(inner: proxy::Event, runtime: Runner) -> Self {
        Event { inner, runtime }
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
    pub fn as_async(&self) -> &proxy::Event {
        &self.inner
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.inner.with_timeout(timeout), self.runtime.clone())
    }
}
