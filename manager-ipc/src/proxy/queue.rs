//! [`Queue`], [`JoinableQueue`]: the async proxy of a shared FIFO queue of `T`s.
//!
//! Not written yet: only the handle itself.

use std::time::Duration;

use manager_core::{ObjectId, ObjectName};

use super::object::Element;
use super::object::ObjectRef;

/// A handle on a shared FIFO queue of `T`s, like Python's `Manager().Queue()`.
pub struct Queue<T> {
    object: ObjectRef,
    _element: Element<T>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue {
            object: self.object.clone(),
            _element: Element::default(),
        }
    }
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("object", &self.object)
            .finish()
    }
}

impl<T> Queue<T> {
    pub(crate) fn new(object: ObjectRef) -> Self {
        Queue {
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

/// A handle on a shared queue whose consumers mark items done, like Python's `Manager().JoinableQueue()`.
pub struct JoinableQueue<T> {
    object: ObjectRef,
    _element: Element<T>,
}

impl<T> Clone for JoinableQueue<T> {
    fn clone(&self) -> Self {
        JoinableQueue {
            object: self.object.clone(),
            _element: Element::default(),
        }
    }
}

impl<T> std::fmt::Debug for JoinableQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JoinableQueue")
            .field("object", &self.object)
            .finish()
    }
}

impl<T> JoinableQueue<T> {
    pub(crate) fn new(object: ObjectRef) -> Self {
        JoinableQueue {
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
