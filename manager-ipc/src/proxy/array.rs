//! [`Array`]: the async proxy of a shared fixed-length sequence of `T`s.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::object::Element;
use super::object::ObjectRef;

/// A handle on a shared fixed-length sequence of `T`s, like Python's `Manager().Array()`.
pub struct Array<T> {
    object: ObjectRef,
    _element: Element<T>,
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Array {
            object: self.object.clone(),
            _element: Element::default(),
        }
    }
}

impl<T> std::fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Array")
            .field("object", &self.object)
            .finish()
    }
}

impl<T> Array<T> {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Array {
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
