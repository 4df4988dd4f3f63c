//! What a client asks of the manager.
//!
//! Every request travels in a [`RequestFrame`] with a [`RequestId`] chosen by
//! the client; the reply carries the same id, so one connection can have many
//! requests in flight and take their replies in any order.
//!
//! A request goes either to the registry ([`RegistryRequest`]) or to one
//! object, addressed by the [`ObjectId`] the registry handed out
//! ([`ObjectRequest`], one enum per object kind, each in a file of this
//! folder named for the kind).
//!
//! # Waiting
//!
//! Operations that may wait (a `get` on an empty queue, an `acquire` of a
//! held lock) carry a [`Wait`]. The manager parks such a request in the
//! object's state and answers it when it can proceed or when its wait ends;
//! it never blocks the object meanwhile.
//!
//! # Owners
//!
//! Locks, owned semaphore units (taken by a guard) and a condition's lock are
//! held by an *owner*: the connection the request came on plus an [`Owner`]
//! number the client picks (its thread or task), so two threads of one
//! process do not share an `RLock`. When a connection closes, everything its
//! owners hold is released. Plain semaphore units are counted as in Python,
//! not held by anyone, and do not come back.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{Encoded, ObjectId, ObjectSpec, WireName};

mod array;
mod barrier;
mod condition;
mod dict;
mod event;
mod list;
mod lock;
mod namespace;
mod queue;
mod semaphore;
mod set;
mod value;

pub use array::ArrayRequest;
pub use barrier::BarrierRequest;
pub use condition::ConditionRequest;
pub use dict::DictRequest;
pub use event::EventRequest;
pub use list::ListRequest;
pub use lock::LockRequest;
pub use namespace::NamespaceRequest;
pub use queue::QueueRequest;
pub use semaphore::SemaphoreRequest;
pub use set::SetRequest;
pub use value::ValueRequest;

/// How long an operation may wait before it gives up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Wait {
    /// Do not wait: succeed now or fail now (Python's `block=False`).
    No,
    /// Wait at most this long.
    For(Duration),
    /// Wait as long as it takes.
    Forever,
}

impl Wait {
    /// This wait, but no longer than `limit`.
    pub fn at_most(self, limit: Duration) -> Wait {
        match self {
            Wait::No => Wait::No,
            Wait::For(d) => Wait::For(d.min(limit)),
            Wait::Forever => Wait::For(limit),
        }
    }

    /// `Wait::For(timeout)`, or `Wait::Forever` for `None`.
    pub fn from_timeout(timeout: Option<Duration>) -> Self {
        match timeout {
            Some(t) if t.is_zero() => Wait::No,
            Some(t) => Wait::For(t),
            None => Wait::Forever,
        }
    }
}

/// A client's number for whoever holds a lock, semaphore unit or condition:
/// a thread or task of that client. Together with the connection it names a
/// holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Owner(pub u64);

/// A client's number for one request, echoed in its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestId(pub u64);

impl RequestId {
    /// Never names a request (clients number theirs from 1): a reply with
    /// this id is the manager's last word on the connection, saying why it
    /// closes it (a frame too large, too slow or that does not decode).
    pub const CONNECTION: RequestId = RequestId(0);
}

/// One request with its id: the unit a client sends after the handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestFrame {
    /// Echoed in the reply.
    pub id: RequestId,
    /// What is asked.
    pub request: Request,
}

/// Where a request goes and what it asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// A request to the registry.
    Registry(RegistryRequest),
    /// A request to one object.
    Object {
        /// The object, by the id the registry gave it.
        target: ObjectId,
        /// The operation.
        op: ObjectRequest,
    },
}

/// The registry's operations.
///
/// Names travel unchecked ([`WireName`]): the registry checks them, so a
/// bad one is [`ManagerError::InvalidName`](crate::ManagerError::InvalidName)
/// for its request, not a frame that fails to decode and closes the
/// connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistryRequest {
    /// Find the object with this name, or create it from this spec. An
    /// existing object of another kind is an error; an existing object of the
    /// same kind is returned as it is.
    CreateOrGet {
        /// The object's name.
        name: WireName,
        /// Its kind and initial parameters.
        spec: ObjectSpec,
    },
    /// Find an existing object.
    Lookup {
        /// The object's name.
        name: WireName,
    },
    /// Remove an object; its actor stops and later requests to its id fail.
    Remove {
        /// The object's name.
        name: WireName,
    },
    /// List every object.
    List,
    /// Report what the manager holds: every object with its counters,
    /// every connection, totals. Answered with
    /// [`RegistryReply::Snapshot`](crate::reply::RegistryReply::Snapshot).
    Inspect,
}

impl RegistryRequest {
    /// Whether its reply grows with the number of objects (a listing, an
    /// inspection); see [`ObjectRequest::replies_in_bulk`].
    pub fn replies_in_bulk(&self) -> bool {
        matches!(self, RegistryRequest::List | RegistryRequest::Inspect)
    }
}

/// An operation on one object, by object kind. Kinds that share
/// operations share a request enum: `Queue` and `JoinableQueue` take
/// [`QueueRequest`], `Lock` and `RLock` take [`LockRequest`], `Semaphore` and
/// `BoundedSemaphore` take [`SemaphoreRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectRequest {
    /// For a namespace.
    Namespace(NamespaceRequest),
    /// For a list.
    List(ListRequest),
    /// For a dict.
    Dict(DictRequest),
    /// For a set.
    Set(SetRequest),
    /// For a value.
    Value(ValueRequest),
    /// For an array.
    Array(ArrayRequest),
    /// For a queue or joinable queue.
    Queue(QueueRequest),
    /// For a lock or re-entrant lock.
    Lock(LockRequest),
    /// For a semaphore or bounded semaphore.
    Semaphore(SemaphoreRequest),
    /// For an event.
    Event(EventRequest),
    /// For a condition.
    Condition(ConditionRequest),
    /// For a barrier.
    Barrier(BarrierRequest),
    /// For an object of a custom type: its encoded
    /// [`CustomType::Request`](crate::custom::CustomType::Request), answered
    /// with `Value` holding the encoded
    /// [`CustomType::Reply`](crate::custom::CustomType::Reply).
    Custom(Encoded),
    /// Take back request `request` of this connection if it is still parked
    /// in the object (its caller stopped waiting for it: a dropped future,
    /// a timeout): it is answered [`ManagerError::Cancelled`] and changes
    /// nothing. For any kind; replies `Bool`, whether a parked request was
    /// taken back. A request already answered, or one whose wait counts
    /// toward a result (a barrier's party), is left as it is.
    ///
    /// [`ManagerError::Cancelled`]: crate::ManagerError::Cancelled
    Cancel {
        /// The id of the request to take back.
        request: RequestId,
    },
}

impl ObjectRequest {
    /// How long this request may wait on the manager's side, if it is one
    /// that waits; for a client to bound it by its own deadline.
    pub fn wait_mut(&mut self) -> Option<&mut Wait> {
        match self {
            ObjectRequest::Queue(
                QueueRequest::Put { wait, .. }
                | QueueRequest::Get { wait }
                | QueueRequest::GetAs { wait, .. }
                | QueueRequest::Receive { wait, .. }
                | QueueRequest::Join { wait },
            )
            | ObjectRequest::Lock(LockRequest::Acquire { wait, .. })
            | ObjectRequest::Semaphore(
                SemaphoreRequest::Acquire { wait } | SemaphoreRequest::AcquireOwned { wait, .. },
            )
            | ObjectRequest::Event(EventRequest::Wait { wait })
            | ObjectRequest::Condition(
                ConditionRequest::Acquire { wait, .. } | ConditionRequest::Wait { wait, .. },
            )
            | ObjectRequest::Barrier(BarrierRequest::Wait { wait }) => Some(wait),
            _ => None,
        }
    }

    /// Whether this request may take something (a lock, a semaphore unit,
    /// a queue item) that must be given back if its reply comes after its
    /// caller gave up; see [`ObjectRequest::undo_for`].
    pub fn may_take(&self) -> bool {
        matches!(
            self,
            ObjectRequest::Lock(LockRequest::Acquire { .. })
                | ObjectRequest::Semaphore(
                    SemaphoreRequest::Acquire { .. } | SemaphoreRequest::AcquireOwned { .. }
                )
                | ObjectRequest::Condition(
                    ConditionRequest::Acquire { .. } | ConditionRequest::Wait { .. }
                )
                | ObjectRequest::Queue(
                    QueueRequest::Get { .. }
                        | QueueRequest::GetAs { .. }
                        | QueueRequest::Receive { .. }
                )
        )
    }

    /// What gives back what this request took, judging by `reply`, when
    /// that reply came after the caller gave up (a timeout, a dropped
    /// future): the release of a granted lock or semaphore unit, the full
    /// release of a condition's lock that a `Wait` took back (it always
    /// does, notified or not), the return of a queue item to the front (for
    /// a received item, its requeue).
    /// `None` if the reply took nothing.
    pub fn undo_for(&self, reply: &crate::reply::Reply) -> Option<ObjectRequest> {
        use crate::reply::Reply;
        match (self, reply) {
            (ObjectRequest::Lock(LockRequest::Acquire { owner, .. }), Reply::Bool(true)) => {
                Some(ObjectRequest::Lock(LockRequest::Release { owner: *owner }))
            }
            (ObjectRequest::Semaphore(SemaphoreRequest::Acquire { .. }), Reply::Bool(true)) => {
                Some(ObjectRequest::Semaphore(SemaphoreRequest::Release { n: 1 }))
            }
            (
                ObjectRequest::Semaphore(SemaphoreRequest::AcquireOwned { owner, .. }),
                Reply::Bool(true),
            ) => Some(ObjectRequest::Semaphore(SemaphoreRequest::ReleaseOwned {
                owner: *owner,
                n: 1,
            })),
            (
                ObjectRequest::Condition(ConditionRequest::Acquire { owner, .. }),
                Reply::Bool(true),
            ) => Some(ObjectRequest::Condition(ConditionRequest::Release {
                owner: *owner,
            })),
            (
                ObjectRequest::Condition(ConditionRequest::Wait { owner, .. }),
                Reply::Bool(notified),
            ) => Some(ObjectRequest::Condition(ConditionRequest::ReleaseAll {
                owner: *owner,
                pass_on_notify: *notified,
            })),
            (
                ObjectRequest::Queue(QueueRequest::Get { .. } | QueueRequest::GetAs { .. }),
                Reply::Value(value),
            ) => Some(ObjectRequest::Queue(QueueRequest::Return {
                value: value.clone(),
            })),
            (
                ObjectRequest::Queue(QueueRequest::Receive { .. }),
                Reply::Delivery { receipt, .. },
            ) => Some(ObjectRequest::Queue(QueueRequest::Requeue {
                receipt: *receipt,
            })),
            _ => None,
        }
    }

    /// Whether its reply is a list that grows with the object (keys, a
    /// snapshot, a slice, a set operation): such a reply may be long, so the
    /// bridge lets each connection have one of them under way at a time and
    /// sends it in parts (see [`reply::parts`](crate::reply::parts)).
    pub fn replies_in_bulk(&self) -> bool {
        matches!(
            self,
            ObjectRequest::Namespace(NamespaceRequest::Names | NamespaceRequest::Snapshot)
                | ObjectRequest::List(
                    ListRequest::Slice { .. }
                        | ListRequest::Snapshot
                        | ListRequest::VersionedSnapshot
                )
                | ObjectRequest::Dict(DictRequest::Keys | DictRequest::Values | DictRequest::Items)
                | ObjectRequest::Set(
                    SetRequest::Union { .. }
                        | SetRequest::Intersection { .. }
                        | SetRequest::Difference { .. }
                        | SetRequest::Snapshot
                )
                | ObjectRequest::Array(ArrayRequest::GetRange { .. } | ArrayRequest::Snapshot)
        )
    }

    /// A short name of the request family, for error messages.
    pub fn family(&self) -> &'static str {
        match self {
            ObjectRequest::Namespace(_) => "namespace",
            ObjectRequest::List(_) => "list",
            ObjectRequest::Dict(_) => "dict",
            ObjectRequest::Set(_) => "set",
            ObjectRequest::Value(_) => "value",
            ObjectRequest::Array(_) => "array",
            ObjectRequest::Queue(_) => "queue",
            ObjectRequest::Lock(_) => "lock",
            ObjectRequest::Semaphore(_) => "semaphore",
            ObjectRequest::Event(_) => "event",
            ObjectRequest::Condition(_) => "condition",
            ObjectRequest::Barrier(_) => "barrier",
            ObjectRequest::Custom(_) => "custom",
            ObjectRequest::Cancel { .. } => "cancel",
        }
    }
}
