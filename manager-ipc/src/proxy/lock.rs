//! [`Lock`], [`RLock`]: the async proxy of a shared lock.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::object::ObjectRef;

/// A handle on a shared lock, like Python's `Manager().Lock()`.
#[derive(Debug, Clone)]
pub struct Lock {
    object: ObjectRef,
}

impl Lock {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Lock { object }
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

/// A handle on a shared lock its owner may take again, like Python's `Manager().RLock()`.
#[derive(Debug, Clone)]
pub struct RLock {
    object: ObjectRef,
}

impl RLock {
    pub(crate) fn new(object: ObjectRef) -> Self {
        RLock { object }
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
