//! [`Event`]: the async proxy of a shared flag processes wait for.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::object::ObjectRef;

/// A handle on a shared flag processes wait for, like Python's `Manager().Event()`.
#[derive(Debug, Clone)]
pub struct Event {
    object: ObjectRef,
}

impl Event {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Event { object }
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
