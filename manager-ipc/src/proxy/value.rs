//! [`Value`]: the async proxy of one shared `T`.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::object::Element;
use super::object::ObjectRef;

/// A handle on one shared `T`, like Python's `Manager().Value()`.
pub struct Value<T> {
    object: ObjectRef,
    _element: Element<T>,
}

impl<T> Clone for Value<T> {
    fn clone(&self) -> Self {
        Value {
            object: self.object.clone(),
            _element: Element::default(),
        }
    }
}

impl<T> std::fmt::Debug for Value<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Value")
            .field("object", &self.object)
            .finish()
    }
}

impl<T> Value<T> {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Value {
            object,
            _element: Element::default(),
        }
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
