//! The kinds of shared object a manager can hold, and what creating each
//! one takes.
//!
//! Sixteen kinds are built in (Python's `SyncManager` set, and the shared
//! memory block of its `SharedMemoryManager`); an application
//! adds its own with [`CustomType`](crate::custom::CustomType), named by a
//! [`TypeName`] and carried as [`ObjectKind::Custom`].

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Encoded, TypeName};

/// The kind of a shared object, as named in the registry.
///
/// Asking the registry for an existing name with a different kind is an error
/// ([`crate::ManagerError::KindMismatch`]), never a silent reuse.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ObjectKind {
    /// Named attributes, like Python's `Manager().Namespace()`.
    Namespace,
    /// A sequence, like `Manager().list()`.
    List,
    /// A map in insertion order, like `Manager().dict()`.
    Dict,
    /// A set in insertion order, like `Manager().set()` (Python 3.14).
    Set,
    /// One value, like `Manager().Value()`.
    Value,
    /// A fixed-length sequence, like `Manager().Array()`.
    Array,
    /// A FIFO queue, optionally bounded, like `Manager().Queue()`.
    Queue,
    /// A queue whose consumers mark items done, like `Manager().JoinableQueue()`.
    JoinableQueue,
    /// A lock, like `Manager().Lock()`.
    Lock,
    /// A lock its holder may take again, like `Manager().RLock()`.
    RLock,
    /// A counting semaphore, like `Manager().Semaphore()`.
    Semaphore,
    /// A semaphore that refuses releases past its initial value.
    BoundedSemaphore,
    /// A flag processes wait for, like `Manager().Event()`.
    Event,
    /// A condition variable with its own lock, like `Manager().Condition()`.
    Condition,
    /// A barrier for a fixed number of parties, like `Manager().Barrier()`.
    Barrier,
    /// An application's own type, registered with the manager under this
    /// name (Python's `BaseManager.register`).
    Custom(TypeName),
    /// A block of memory worker processes map, like Python's
    /// `SharedMemoryManager().SharedMemory()`.
    SharedMemory,
}

impl ObjectKind {
    /// The name used in tables and error messages; a custom kind's type
    /// name.
    pub fn as_str(&self) -> &str {
        match self {
            ObjectKind::Namespace => "namespace",
            ObjectKind::List => "list",
            ObjectKind::Dict => "dict",
            ObjectKind::Set => "set",
            ObjectKind::Value => "value",
            ObjectKind::Array => "array",
            ObjectKind::Queue => "queue",
            ObjectKind::JoinableQueue => "joinable queue",
            ObjectKind::Lock => "lock",
            ObjectKind::RLock => "rlock",
            ObjectKind::Semaphore => "semaphore",
            ObjectKind::BoundedSemaphore => "bounded semaphore",
            ObjectKind::Event => "event",
            ObjectKind::Condition => "condition",
            ObjectKind::Barrier => "barrier",
            ObjectKind::Custom(name) => name.as_str(),
            ObjectKind::SharedMemory => "shared memory",
        }
    }
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest element type name a shared memory block records, in bytes.
pub const MAX_ELEMENT_NAME: usize = 1024;

/// What creating an object takes: its kind and, for some kinds, initial
/// parameters. The parameters apply only when the object is created; asking
/// for an existing name returns the object as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectSpec {
    /// An empty namespace.
    Namespace,
    /// An empty list.
    List,
    /// An empty dict.
    Dict,
    /// An empty set.
    Set,
    /// A value holding `initial`.
    Value {
        /// The first value.
        initial: Encoded,
    },
    /// An array holding `items`; its length never changes.
    Array {
        /// The elements.
        items: Vec<Encoded>,
    },
    /// An empty queue; `maxsize` bounds it (`None`: unbounded).
    Queue {
        /// The most items it holds before `put` waits.
        maxsize: Option<u64>,
    },
    /// An empty joinable queue.
    JoinableQueue {
        /// The most items it holds before `put` waits.
        maxsize: Option<u64>,
    },
    /// An unheld lock.
    Lock,
    /// An unheld re-entrant lock.
    RLock,
    /// A semaphore with `value` units.
    Semaphore {
        /// The initial units.
        value: u64,
    },
    /// A bounded semaphore with `value` units, which is also its bound.
    BoundedSemaphore {
        /// The initial units and the bound.
        value: u64,
    },
    /// A clear event.
    Event,
    /// A condition with an unheld lock.
    Condition,
    /// A barrier for `parties` waiters.
    Barrier {
        /// How many waiters release each other.
        parties: u64,
    },
    /// An object of a custom type, made from `init` (the encoded
    /// [`CustomType::Init`](crate::custom::CustomType::Init)).
    Custom {
        /// The type, as registered with the manager.
        type_name: TypeName,
        /// Its creation parameters.
        init: Encoded,
    },
    /// A zero-filled shared memory block of `size` bytes.
    SharedMemory {
        /// Its size in bytes: at least 1, at most the manager's limit.
        size: u64,
        /// The type of its elements, if it was made as a typed array
        /// (`std::any::type_name`, as value tags are): a typed view of
        /// another element type is refused. `None`: plain bytes.
        element: Option<String>,
    },
}

impl ObjectSpec {
    /// Checks what a spec that came over the wire holds beyond numbers: a
    /// custom type's name, a shared memory block's element type name (at
    /// most [`MAX_ELEMENT_NAME`] bytes).
    ///
    /// # Errors
    ///
    /// [`ManagerError::InvalidName`](crate::ManagerError::InvalidName) for a
    /// bad type name, [`ManagerError::BadRequest`](crate::ManagerError::BadRequest)
    /// for an element type name that is too long.
    pub fn check(&self) -> Result<(), crate::ManagerError> {
        match self {
            ObjectSpec::Custom { type_name, .. } => type_name.check(),
            ObjectSpec::SharedMemory {
                element: Some(element),
                ..
            } if element.len() > MAX_ELEMENT_NAME => Err(crate::ManagerError::BadRequest(format!(
                "a shared memory block's element type name of {} bytes is over the limit of {MAX_ELEMENT_NAME}",
                element.len()
            ))),
            _ => Ok(()),
        }
    }

    /// The kind this spec creates.
    pub fn kind(&self) -> ObjectKind {
        match self {
            ObjectSpec::Namespace => ObjectKind::Namespace,
            ObjectSpec::List => ObjectKind::List,
            ObjectSpec::Dict => ObjectKind::Dict,
            ObjectSpec::Set => ObjectKind::Set,
            ObjectSpec::Value { .. } => ObjectKind::Value,
            ObjectSpec::Array { .. } => ObjectKind::Array,
            ObjectSpec::Queue { .. } => ObjectKind::Queue,
            ObjectSpec::JoinableQueue { .. } => ObjectKind::JoinableQueue,
            ObjectSpec::Lock => ObjectKind::Lock,
            ObjectSpec::RLock => ObjectKind::RLock,
            ObjectSpec::Semaphore { .. } => ObjectKind::Semaphore,
            ObjectSpec::BoundedSemaphore { .. } => ObjectKind::BoundedSemaphore,
            ObjectSpec::Event => ObjectKind::Event,
            ObjectSpec::Condition => ObjectKind::Condition,
            ObjectSpec::Barrier { .. } => ObjectKind::Barrier,
            ObjectSpec::Custom { type_name, .. } => ObjectKind::Custom(type_name.clone()),
            ObjectSpec::SharedMemory { .. } => ObjectKind::SharedMemory,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_kinds_show_their_type_name() {
        let kind = ObjectKind::Custom(TypeName::new("ledger").unwrap());
        assert_eq!(kind.to_string(), "ledger");
    }
}
