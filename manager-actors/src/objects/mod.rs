//! The shared objects: one file per kind, each holding the kind's state and
//! how it carries out its requests ([`ObjectState`]), plus [`spawn`], which
//! starts the actor for a spec.
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
//! | an application's own ([`custom`]) | [`CustomState`] | its `CustomType::Request`, encoded |
//! | shared memory | [`SharedMemoryState`] | `SharedMemoryRequest` |

use actix::{Addr, Recipient};
use manager_core::{Encoded, ManagerError, ObjectId, ObjectKind, ObjectName, ObjectSpec, TypeTag};

use crate::actor::{ObjectActor, ObjectState};
use crate::object::{ObjectHandle, SharedStats, StopObject};
use crate::threads::{ThreadIndex, Threads};

mod array;
mod barrier;
mod condition;
pub mod custom;
mod dict;
mod event;
mod list;
mod lock;
mod namespace;
mod owned_lock;
mod queue;
#[cfg(test)]
mod reply_types;
mod semaphore;
pub mod sequence;
mod set;
mod shared_memory;
#[cfg(test)]
pub(crate) mod testing;
mod value;

pub use array::ArrayState;
pub use barrier::BarrierState;
pub use condition::ConditionState;
pub use custom::{CallInfo, CustomObject, CustomState, CustomTypes};
pub use dict::DictState;
pub use event::EventState;
pub use list::ListState;
pub use lock::LockState;
pub use namespace::NamespaceState;
pub use queue::QueueState;
pub use semaphore::SemaphoreState;
pub use set::SetState;
pub use shared_memory::{SharedMemoryBudget, SharedMemoryState};
pub use value::ValueState;

/// Starts the actor of a new object made from `spec`.
///
/// # Errors
///
/// [`ManagerError::BadRequest`] for a spec that cannot make an object (a
/// barrier for no parties); for a custom type,
/// [`ManagerError::UnknownType`] if `custom` does not have it and
/// [`ManagerError::CreateFailed`] if it refuses the parameters; for a
/// shared memory block, the errors of [`SharedMemoryState::new`].
pub fn spawn(
    spec: ObjectSpec,
    custom: &CustomTypes,
    place: Placement<'_>,
    id: ObjectId,
    name: ObjectName,
    stats: SharedStats,
) -> Result<(ObjectHandle, Recipient<StopObject>), ManagerError> {
    let kind = spec.kind();

    Ok(match spec {
        ObjectSpec::Namespace => start(place, NamespaceState::new(), id, name, kind, stats),
        ObjectSpec::List => start(place, ListState::new(), id, name, kind, stats),
        ObjectSpec::Dict => start(place, DictState::new(), id, name, kind, stats),
        ObjectSpec::Set => start(place, SetState::new(), id, name, kind, stats),
        ObjectSpec::Value { initial } => {
            start(place, ValueState::new(initial), id, name, kind, stats)
        }
        ObjectSpec::Array { items } => start(place, ArrayState::new(items), id, name, kind, stats),
        ObjectSpec::Queue { maxsize } => start(
            place,
            QueueState::new(maxsize, false),
            id,
            name,
            kind,
            stats,
        ),
        ObjectSpec::JoinableQueue { maxsize } => {
            start(place, QueueState::new(maxsize, true), id, name, kind, stats)
        }
        ObjectSpec::Lock => start(place, LockState::new(false), id, name, kind, stats),
        ObjectSpec::RLock => start(place, LockState::new(true), id, name, kind, stats),
        ObjectSpec::Semaphore { value } => start(
            place,
            SemaphoreState::new(value, false),
            id,
            name,
            kind,
            stats,
        ),
        ObjectSpec::BoundedSemaphore { value } => start(
            place,
            SemaphoreState::new(value, true),
            id,
            name,
            kind,
            stats,
        ),
        ObjectSpec::Event => start(place, EventState::new(), id, name, kind, stats),
        ObjectSpec::Condition => start(place, ConditionState::new(), id, name, kind, stats),
        ObjectSpec::Barrier { parties } => {
            if parties == 0 {
                return Err(ManagerError::BadRequest(
                    "a barrier needs at least one party".to_owned(),
                ));
            }
            start(place, BarrierState::new(parties), id, name, kind, stats)
        }
        ObjectSpec::Custom { type_name, init } => {
            return custom.spawn(type_name, init, place, id, name, stats);
        }
        ObjectSpec::SharedMemory { size, element } => {
            let state = SharedMemoryState::new(&name, size, element, place.shared_memory)?;
            start(place, state, id, name, kind, stats)
        }
    })
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
