//! The shared objects: one file per family of kinds, each holding the
//! state and how it carries out its requests ([`ObjectState`]), plus
//! [`spawn`], which starts the actor for a spec. The modules and `spawn`
//! are made from the list of kinds ([`manager_core::for_each_kind`]).
//!
//! | kind | state | request |
//! |---|---|---|
//! | namespace | [`NamespaceState`] | `NamespaceRequest` |
//! | list | [`ListState`] | `ListRequest` |
//! | dict | [`DictState`] | `DictRequest` |
//! | set | [`SetState`] | `SetRequest` |
//! | value | [`ValueState`] | `ValueRequest` |
//! | array | [`ArrayState`] | `ArrayRequest` |
//! | queue, joinable queue | [`QueueState`] | `QueueRequest` |
//! | lock, rlock | [`LockState`] | `LockRequest` |
//! | semaphore, bounded semaphore | [`SemaphoreState`] | `SemaphoreRequest` |
//! | event | [`EventState`] | `EventRequest` |
//! | condition | [`ConditionState`] | `ConditionRequest` |
//! | barrier | [`BarrierState`] | `BarrierRequest` |
//! | shared memory | [`SharedMemoryState`] | `SharedMemoryRequest` |
//! | an application's own ([`custom`]) | its [`CustomKind`], or [`CustomState`] for a [`CustomObject`] | `CustomRequest<T>`, or its `CustomType::Request` encoded |

use actix::{Addr, Recipient};
use manager_core::{Encoded, ManagerError, ObjectId, ObjectKind, ObjectName, ObjectSpec, TypeTag};

use crate::actor::{ObjectActor, ObjectState};
use crate::object::{ObjectHandle, SharedStats, StopObject};
use crate::threads::{ThreadIndex, Threads};

pub mod custom;
mod owned_lock;
pub mod sequence;
#[cfg(test)]
pub(crate) mod testing;

pub use custom::{CallInfo, CustomKind, CustomObject, CustomState, CustomTypes};

/// Makes, from the list of kinds, each family's module (`objects/FILE.rs`,
/// which exports its state and has a function per kind, named by the
/// kind's method, that makes a new object's state from a [`Making`] and
/// its spec's fields) and [`spawn`].
macro_rules! objects {
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
        $(
            mod $file;
            pub use $file::*;
        )+

        /// Starts the actor of a new object made from `spec`.
        ///
        /// # Errors
        ///
        /// [`ManagerError::BadRequest`] for a spec that cannot make an
        /// object (a barrier for no parties); for a custom type,
        /// [`ManagerError::UnknownType`] if `custom` does not have it and
        /// [`ManagerError::CreateFailed`] if it refuses the parameters; for
        /// a shared memory block, the errors of [`SharedMemoryState::new`].
        pub fn spawn(
            spec: ObjectSpec,
            custom: &CustomTypes,
            place: Placement<'_>,
            id: ObjectId,
            name: ObjectName,
            stats: SharedStats,
        ) -> Result<(ObjectHandle, Recipient<StopObject>), ManagerError> {
            let kind = spec.kind();
            let making = Making { name: &name, place };
            Ok(match spec {
                $($(
                    ObjectSpec::$Kind $({$($field),*})? => {
                        let state = $file::$method(&making $($(, $field)*)?)?;
                        start(place, state, id, name, kind, stats)
                    }
                )+)+
                ObjectSpec::Custom { type_name, init } => {
                    return custom.spawn(type_name, init, place, id, name, stats);
                }
            })
        }
    };
}

manager_core::for_each_kind!(objects);

/// What a kind's state constructor may need besides its spec's fields.
pub(crate) struct Making<'a> {
    /// The new object's name.
    pub(crate) name: &'a ObjectName,
    /// Where it will run, and the manager's budgets.
    pub(crate) place: Placement<'a>,
}

/// Where a new object's actor runs: one of a manager's threads.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// The manager's threads.
    pub threads: &'a Threads,
    /// The one to start the actor on.
    pub at: ThreadIndex,
    /// The bytes the manager's shared memory blocks may take.
    pub shared_memory: &'a SharedMemoryBudget,
}

impl Placement<'static> {
    /// The calling thread, which must run an actix system: for tests and
    /// single-threaded set-ups.
    pub fn here() -> Self {
        static HERE: std::sync::OnceLock<Threads> = std::sync::OnceLock::new();
        static UNLIMITED: std::sync::OnceLock<SharedMemoryBudget> = std::sync::OnceLock::new();
        Placement {
            threads: HERE.get_or_init(Threads::current_only),
            at: ThreadIndex(0),
            shared_memory: UNLIMITED.get_or_init(SharedMemoryBudget::default),
        }
    }
}

/// Starts the actor of `state` where `place` says.
pub(crate) fn start<S: ObjectState>(
    place: Placement<'_>,
    state: S,
    id: ObjectId,
    name: ObjectName,
    kind: ObjectKind,
    stats: SharedStats,
) -> (ObjectHandle, Recipient<StopObject>) {
    let addr: Addr<ObjectActor<S>> = place.threads.start(
        place.at,
        ObjectActor::new(id, name, kind.clone(), state, stats.clone()),
    );
    let handle = ObjectHandle {
        id,
        kind,
        mailbox: addr.clone().recipient(),
        closed: addr.clone().recipient(),
        report: addr.clone().recipient(),
        stats,
    };
    (handle, addr.recipient())
}

/// A description built only when displayed: error messages name their
/// object without allocating on the paths that succeed.
pub(crate) struct Lazy<F>(pub(crate) F);

impl<F: Fn() -> String> std::fmt::Display for Lazy<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&(self.0)())
    }
}

/// Approximate heap bytes of `values` (encodings plus type tags), for an
/// inspection.
pub(crate) fn bytes_held<'a>(values: impl IntoIterator<Item = &'a Encoded>) -> u64 {
    values.into_iter().map(|v| v.heap_size() as u64).sum()
}

/// The report of a collection of encoded items (a list, an array, a set):
/// its length and the bytes its items hold.
pub(crate) fn items_report<'a, I>(items: I) -> manager_core::inspect::ObjectDetail
where
    I: IntoIterator<Item = &'a Encoded>,
    I::IntoIter: ExactSizeIterator,
{
    let items = items.into_iter();
    let len = items.len() as u64;
    manager_core::inspect::ObjectDetail {
        size: manager_core::inspect::KindDetail::Items { len },
        bytes_held: bytes_held(items),
        ..Default::default()
    }
}

/// The atomic add of the kinds that have one: adds `delta` to `current`
/// (absent: an `i64` 0), an integer of any width, and returns the sum
/// encoded as the same width, with the sum as the `i64` the reply carries
/// ([`Encoded::checked_add`]).
pub(crate) fn add(
    current: Option<&Encoded>,
    delta: i64,
    what: impl std::fmt::Display,
) -> Result<(Encoded, i64), ManagerError> {
    match current {
        Some(value) => value.checked_add(delta, what),
        None => zero(None, &what)?.checked_add(delta, what),
    }
}

/// A 0 of the integer type `tag` (`None`: `i64`), where an add starts from
/// an absent entry.
///
/// # Errors
///
/// [`ManagerError::WrongType`] if `tag` names no integer type.
pub(crate) fn zero(
    tag: Option<&TypeTag>,
    what: impl std::fmt::Display,
) -> Result<Encoded, ManagerError> {
    let zero = Encoded::encode(&0_i64).expect("an i64 always encodes");
    match tag {
        None => Ok(zero),
        Some(tag) => zero
            .read_as(tag, &what)
            .map(std::borrow::Cow::into_owned)
            .map_err(|_| ManagerError::WrongType {
                what: what.to_string(),
                stored: tag.as_str().to_owned(),
                requested: "i64".to_owned(),
            }),
    }
}
