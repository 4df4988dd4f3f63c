//! The kinds of shared object a manager can hold, and what creating each
//! one takes: the one list of kinds every crate builds from.
//!
//! Sixteen kinds are built in (Python's `SyncManager` set, and the shared
//! memory block of its `SharedMemoryManager`); an application
//! adds its own with [`CustomType`](crate::custom::CustomType), named by a
//! [`TypeName`] and carried as [`ObjectKind::Custom`].
//!
//! # The list of kinds
//!
//! [`for_each_kind!`](crate::for_each_kind) holds the list: each family of
//! kinds (kinds that share a request enum, such as `Queue` and
//! `JoinableQueue`) with its file name, its request enum, and each kind's
//! name, method name and creation parameters. [`ObjectKind`],
//! [`ObjectSpec`] and [`ObjectRequest`](crate::request::ObjectRequest) are
//! made from it here; `manager-actors` makes its objects' modules and
//! `spawn` from it, and `manager` its proxies' modules and blocking
//! aliases. So a new kind is one entry in this list plus a file of its
//! family's name in each layer (docs/architecture.md, *Adding an object
//! kind*).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{Encoded, TypeName};

/// Calls the macro `$callback` with the list of built-in kinds, grouped
/// by family, in wire order (a variant is encoded by its position: a new
/// family goes at the end).
///
/// Each family is written
///
/// ```text
/// /// Docs of its `ObjectRequest` variant.
/// file: Family(FamilyRequest) {
///     /// Docs of the kind's `ObjectKind` variant.
///     Kind method "display name" { /// docs
///         field: Type, ... },
///     ...
/// },
/// ```
///
/// where `file` names the family's file in every layer (`request/file.rs`,
/// `objects/file.rs`, `proxy/file.rs`), `FamilyRequest` is its request enum
/// in [`request`](crate::request), `method` is the kind's constructor on
/// the client (and, in `manager-actors`, the function of `objects/file.rs`
/// that makes its state from the fields), `"display name"` is what
/// [`ObjectKind::as_str`] returns, and the braces, if any, list what
/// creating it takes (its [`ObjectSpec`] fields). Custom types are not in
/// the list: each user adds them by hand, last.
#[macro_export]
macro_rules! for_each_kind {
    ($callback:ident) => {
        $callback! {
            /// For a namespace.
            namespace: Namespace(NamespaceRequest) {
                /// Named attributes, like Python's `Manager().Namespace()`.
                Namespace namespace "namespace",
            },
            /// For a list.
            list: List(ListRequest) {
                /// A sequence, like `Manager().list()`.
                List list "list",
            },
            /// For a dict.
            dict: Dict(DictRequest) {
                /// A map in insertion order, like `Manager().dict()`.
                Dict dict "dict",
            },
            /// For a set.
            set: Set(SetRequest) {
                /// A set in insertion order, like `Manager().set()` (Python 3.14).
                Set set "set",
            },
            /// For a value.
            value: Value(ValueRequest) {
                /// One value, like `Manager().Value()`.
                Value value "value" {
                    /// The first value.
                    initial: $crate::Encoded,
                },
            },
            /// For an array.
            array: Array(ArrayRequest) {
                /// A fixed-length sequence, like `Manager().Array()`.
                Array array "array" {
                    /// The elements; their number never changes.
                    items: ::std::vec::Vec<$crate::Encoded>,
                },
            },
            /// For a queue or joinable queue.
            queue: Queue(QueueRequest) {
                /// A FIFO queue, optionally bounded, like `Manager().Queue()`.
                Queue queue "queue" {
                    /// The most items it holds before `put` waits (`None`:
                    /// unbounded).
                    maxsize: ::std::option::Option<u64>,
                },
                /// A queue whose consumers mark items done, like
                /// `Manager().JoinableQueue()`.
                JoinableQueue joinable_queue "joinable queue" {
                    /// The most items it holds before `put` waits (`None`:
                    /// unbounded).
                    maxsize: ::std::option::Option<u64>,
                },
            },
            /// For a lock or re-entrant lock.
            lock: Lock(LockRequest) {
                /// A lock, like `Manager().Lock()`.
                Lock lock "lock",
                /// A lock its holder may take again, like `Manager().RLock()`.
                RLock rlock "rlock",
            },
            /// For a semaphore or bounded semaphore.
            semaphore: Semaphore(SemaphoreRequest) {
                /// A counting semaphore, like `Manager().Semaphore()`.
                Semaphore semaphore "semaphore" {
                    /// The initial units.
                    value: u64,
                },
                /// A semaphore that refuses releases past its initial value.
                BoundedSemaphore bounded_semaphore "bounded semaphore" {
                    /// The initial units, which are also its bound.
                    value: u64,
                },
            },
            /// For an event.
            event: Event(EventRequest) {
                /// A flag processes wait for, like `Manager().Event()`.
                Event event "event",
            },
            /// For a condition.
            condition: Condition(ConditionRequest) {
                /// A condition variable with its own lock, like
                /// `Manager().Condition()`.
                Condition condition "condition",
            },
            /// For a barrier.
            barrier: Barrier(BarrierRequest) {
                /// A barrier for a fixed number of parties, like
                /// `Manager().Barrier()`.
                Barrier barrier "barrier" {
                    /// How many waiters release each other (at least 1).
                    parties: u64,
                },
            },
            /// For a shared memory block.
            shared_memory: SharedMemory(SharedMemoryRequest) {
                /// A block of memory worker processes map, like Python's
                /// `SharedMemoryManager().SharedMemory()`.
                SharedMemory shared_memory "shared memory" {
                    /// Its size in bytes: at least 1, at most the manager's
                    /// limit. The block is zero-filled.
                    size: u64,
                    /// The type of its elements, if it was made as a typed
                    /// array (`std::any::type_name`, as value tags are): a
                    /// typed view of another element type is refused.
                    /// `None`: plain bytes.
                    element: ::std::option::Option<::std::string::String>,
                },
            },
        }
    };
}

/// Makes [`ObjectKind`] and [`ObjectSpec`] from the list of kinds.
macro_rules! object_kinds {
    ($(
        $(#[$family_doc:meta])*
        $file:ident: $Family:ident($Request:ident) {$(
            $(#[$kind_doc:meta])*
            $Kind:ident $method:ident $name:literal $({$(
                $(#[$field_doc:meta])*
                $field:ident: $Field:ty,
            )*})?,
        )+},
    )+) => {
        /// The kind of a shared object, as named in the registry.
        ///
        /// Asking the registry for an existing name with a different kind is
        /// an error ([`crate::ManagerError::KindMismatch`]), never a silent
        /// reuse.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum ObjectKind {
            $($($(#[$kind_doc])* $Kind,)+)+
            /// An application's own type, registered with the manager under
            /// this name (Python's `BaseManager.register`).
            Custom(TypeName),
        }

        impl ObjectKind {
            /// The name used in tables and error messages; a custom kind's
            /// type name.
            pub fn as_str(&self) -> &str {
                match self {
                    $($(ObjectKind::$Kind => $name,)+)+
                    ObjectKind::Custom(name) => name.as_str(),
                }
            }
        }

        /// What creating an object takes: its kind and, for some kinds,
        /// initial parameters. The parameters apply only when the object is
        /// created; asking for an existing name returns the object as it is.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub enum ObjectSpec {
            $($(
                #[doc = concat!("A new ", $name, " (see [`ObjectKind::", stringify!($Kind), "`]).")]
                $Kind $({$($(#[$field_doc])* $field: $Field,)*})?,
            )+)+
            /// An object of a custom type, made from `init` (the encoded
            /// [`CustomType::Init`](crate::custom::CustomType::Init)).
            Custom {
                /// The type, as registered with the manager.
                type_name: TypeName,
                /// Its creation parameters.
                init: Encoded,
            },
        }

        impl ObjectSpec {
            /// The kind this spec creates.
            pub fn kind(&self) -> ObjectKind {
                match self {
                    $($(ObjectSpec::$Kind { .. } => ObjectKind::$Kind,)+)+
                    ObjectSpec::Custom { type_name, .. } => ObjectKind::Custom(type_name.clone()),
                }
            }
        }
    };
}

for_each_kind!(object_kinds);

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest element type name a shared memory block records, in bytes.
pub const MAX_ELEMENT_NAME: usize = 1024;

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
            } => check_element_name(element),
            _ => Ok(()),
        }
    }
}

/// Checks a shared memory block's element type name, which the block
/// keeps: at most [`MAX_ELEMENT_NAME`] bytes.
///
/// # Errors
///
/// [`ManagerError::BadRequest`](crate::ManagerError::BadRequest) for a
/// longer one.
pub fn check_element_name(element: &str) -> Result<(), crate::ManagerError> {
    if element.len() > MAX_ELEMENT_NAME {
        return Err(crate::ManagerError::BadRequest(format!(
            "a shared memory block's element type name of {} bytes is over the limit of {MAX_ELEMENT_NAME}",
            element.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_kinds_show_their_type_name() {
        let kind = ObjectKind::Custom(TypeName::new("ledger").unwrap());
        assert_eq!(kind.to_string(), "ledger");
    }

    /// Variants are encoded by their position: the list of kinds keeps the
    /// order clients and managers of earlier builds use, and each spec has
    /// its kind's position.
    #[test]
    fn kinds_and_specs_keep_their_wire_positions() {
        let v = || Encoded::encode(&0_u8).unwrap();
        let specs = [
            ObjectSpec::Namespace,
            ObjectSpec::List,
            ObjectSpec::Dict,
            ObjectSpec::Set,
            ObjectSpec::Value { initial: v() },
            ObjectSpec::Array { items: vec![v()] },
            ObjectSpec::Queue { maxsize: None },
            ObjectSpec::JoinableQueue { maxsize: Some(1) },
            ObjectSpec::Lock,
            ObjectSpec::RLock,
            ObjectSpec::Semaphore { value: 1 },
            ObjectSpec::BoundedSemaphore { value: 1 },
            ObjectSpec::Event,
            ObjectSpec::Condition,
            ObjectSpec::Barrier { parties: 2 },
            ObjectSpec::SharedMemory {
                size: 4096,
                element: Some("f64".to_owned()),
            },
            ObjectSpec::Custom {
                type_name: TypeName::new("ledger").unwrap(),
                init: v(),
            },
        ];
        let names = [
            "namespace",
            "list",
            "dict",
            "set",
            "value",
            "array",
            "queue",
            "joinable queue",
            "lock",
            "rlock",
            "semaphore",
            "bounded semaphore",
            "event",
            "condition",
            "barrier",
            "shared memory",
            "ledger",
        ];
        for (position, (spec, name)) in specs.iter().zip(names).enumerate() {
            let kind = spec.kind();
            assert_eq!(kind.as_str(), name);
            for bytes in [
                crate::codec::encode(spec).unwrap(),
                crate::codec::encode(&kind).unwrap(),
            ] {
                assert_eq!(usize::from(bytes[0]), position, "{name} moved");
            }
            let back: ObjectSpec =
                crate::codec::decode(&crate::codec::encode(spec).unwrap()).unwrap();
            assert_eq!(&back, spec);
        }
    }
}
