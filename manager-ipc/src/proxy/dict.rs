//! [`Dict`]: the async proxy of a shared dict from `K`s to `V`s in insertion order.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::object::Element;
use super::object::ObjectRef;

/// A handle on a shared dict from `K`s to `V`s in insertion order, like Python's `Manager().dict()`.
pub struct Dict<K, V> {
    object: ObjectRef,
    _element: Element<(K, V)>,
}

impl<K, V> Clone for Dict<K, V> {
    fn clone(&self) -> Self {
        Dict {
            object: self.object.clone(),
            _element: Element::default(),
        }
    }
}

impl<K, V> std::fmt::Debug for Dict<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dict")
            .field("object", &self.object)
            .finish()
    }
}

impl<K, V> Dict<K, V> {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Dict {
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
