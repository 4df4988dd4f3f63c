//! [`Condition`]: the async proxy of a shared condition variable with its own lock.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::object::ObjectRef;

/// A handle on a shared condition variable with its own lock, like Python's `Manager().Condition()`.
#[derive(Debug, Clone)]
pub struct Condition {
    object: ObjectRef,
}

impl Condition {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Condition { object }
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
