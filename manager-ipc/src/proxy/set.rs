//! [`Set`]: the async proxy of a shared set of `T`s in insertion order.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::object::Element;
use super::object::ObjectRef;

/// A handle on a shared set of `T`s in insertion order, like Python 3.14's `Manager().set()`.
pub struct Set<T> {
    object: ObjectRef,
    _element: Element<T>,
}

impl<T> Clone for Set<T> {
    fn clone(&self) -> Self {
        Set {
            object: self.object.clone(),
            _element: Element::default(),
        }
    }
}

impl<T> std::fmt::Debug for Set<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Set").field("object", &self.object).finish()
    }
}

impl<T> Set<T> {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Set {
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
