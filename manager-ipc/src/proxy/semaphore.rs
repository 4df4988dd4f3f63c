//! [`Semaphore`], [`BoundedSemaphore`]: the async proxy of a shared counting semaphore.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::object::ObjectRef;

/// A handle on a shared counting semaphore, like Python's `Manager().Semaphore()`.
#[derive(Debug, Clone)]
pub struct Semaphore {
    object: ObjectRef,
}

impl Semaphore {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Semaphore { object }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.object.name()
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.object.id()
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.object.with_timeout(timeout))
    }
}

/// A handle on a shared semaphore that refuses releases past its initial value.
#[derive(Debug, Clone)]
pub struct BoundedSemaphore {
    object: ObjectRef,
}

impl BoundedSemaphore {
    pub(crate) fn new(object: ObjectRef) -> Self {
        BoundedSemaphore { object }
    }

    /// The object's name.
    pub fn name(&self) -> &ObjectName {
        self.object.name()
    }

    /// The object's id in the manager's registry.
    pub fn id(&self) -> ObjectId {
        self.object.id()
    }

    /// A handle on the same object whose calls time out after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self::new(self.object.with_timeout(timeout))
    }
}
