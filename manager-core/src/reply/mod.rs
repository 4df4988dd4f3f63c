//! What the manager answers.
//!
//! Each [`ReplyFrame`] answers the [`RequestFrame`](crate::request::RequestFrame)
//! with the same id. Its result is either a [`Reply`] or the
//! [`ManagerError`] that failed that one request. A list-shaped reply too
//! long for one frame comes in several, see [`parts`]. A caller names the
//! shape it expects as a type ([`ReplyShape`]), never by matching.

mod attached;
pub mod parts;
pub mod shape;

pub use attached::AttachedFd;

pub use parts::{Part, PartsMismatch, ReplyParts};
pub use shape::{Delivered, Mapped, Removed, ReplyShape, Swapped, Versioned, Woken};

use serde::{Deserialize, Serialize};

use crate::inspect::ManagerSnapshot;
use crate::request::RequestId;
use crate::{Encoded, ManagerError, ObjectId, ObjectKind, ObjectName};

/// One reply with the id of the request it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyFrame {
    /// The id of the request answered.
    pub id: RequestId,
    /// The outcome.
    pub result: Result<Reply, ManagerError>,
}

/// A successful outcome. Object replies come in a few shapes shared by
/// every kind; each request variant documents which shape answers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// From the registry.
    Registry(RegistryReply),
    /// The operation was applied.
    Done,
    /// A yes or no.
    Bool(bool),
    /// A length, an index or a count.
    Count(u64),
    /// The result of an atomic add.
    Integer(i64),
    /// One value.
    Value(Encoded),
    /// A value or nothing.
    MaybeValue(Option<Encoded>),
    /// Several values, in order.
    Values(Vec<Encoded>),
    /// One key and value.
    Pair(Encoded, Encoded),
    /// Keys and values, in order.
    Pairs(Vec<(Encoded, Encoded)>),
    /// Attribute names, sorted.
    Names(Vec<String>),
    /// Attributes with their values, sorted by name.
    Attributes(Vec<(String, Encoded)>),
    /// The outcome of a compare-and-swap.
    Swapped {
        /// Whether the new value was stored.
        swapped: bool,
        /// When not swapped, what is there instead (`None`: absent).
        current: Option<Encoded>,
    },
    /// An item received with a receipt, to acknowledge
    /// ([`QueueRequest::Receive`](crate::request::QueueRequest::Receive)).
    Delivery {
        /// The receipt, unique in its queue.
        receipt: u64,
        /// The item.
        value: Encoded,
    },
    /// Values with the version they were read at.
    Versioned {
        /// The version.
        version: u64,
        /// The values.
        values: Vec<Encoded>,
    },
    /// Part of a reply that comes in several frames: more frames with the
    /// same request id follow, and the last of them is the reply itself
    /// (see [`parts`]).
    More(Part),
    /// A condition's `wait` has the lock back
    /// ([`ConditionRequest::Wait`](crate::request::ConditionRequest::Wait)).
    Woken {
        /// Whether a notify woke it (`false`: its wait ended first).
        notified: bool,
        /// How many times over it holds the lock again: what it held when
        /// it waited. A caller that gave up on the wait gives back exactly
        /// these ([`ConditionRequest::GiveBack`](crate::request::ConditionRequest::GiveBack)).
        holds: u64,
        /// The id of the `Wait` this answers, for a give-back to name the
        /// grant it undoes.
        wait: RequestId,
    },
    /// One value or nothing for each key asked for, in the order asked (a
    /// bulk read or removal, such as
    /// [`DictRequest::GetMany`](crate::request::DictRequest::GetMany)).
    MaybeValues(Vec<Option<Encoded>>),
    /// A shared memory block to map
    /// ([`SharedMemoryRequest::Map`](crate::request::SharedMemoryRequest::Map)):
    /// its size, and its descriptor, which travels beside the frame (see
    /// [`AttachedFd`]).
    Mapping {
        /// The block's size in bytes.
        size: u64,
        /// The block's descriptor: not in the frame's bytes; attached by
        /// the client's reader from the descriptors that came with the
        /// frame.
        #[serde(skip)]
        fd: AttachedFd,
    },
}

impl Reply {
    /// The descriptor this reply hands over beside its frame, if it is one
    /// that does ([`Reply::Mapping`]).
    pub fn attached_fd(&self) -> Option<&AttachedFd> {
        match self {
            Reply::Mapping { fd, .. } => Some(fd),
            _ => None,
        }
    }

    /// The descriptor slot of a reply that announces one, to fill.
    pub fn attached_fd_mut(&mut self) -> Option<&mut AttachedFd> {
        match self {
            Reply::Mapping { fd, .. } => Some(fd),
            _ => None,
        }
    }
}

/// The registry's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistryReply {
    /// The object found or created.
    Object(ObjectInfo),
    /// Whether `Remove` found something to remove.
    Removed(bool),
    /// Every object, sorted by name.
    Objects(Vec<ObjectSummary>),
    /// What the manager holds, for `Inspect`. Boxed: by far the largest
    /// reply, it would otherwise set the size of every reply moved on the
    /// hot path (the wire form is the same).
    Snapshot(Box<ManagerSnapshot>),
}

/// Identifies one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectInfo {
    /// Its id, used to address requests.
    pub id: ObjectId,
    /// Its name.
    pub name: ObjectName,
    /// Its kind.
    pub kind: ObjectKind,
    /// Whether this request created it.
    pub created: bool,
}

/// One row of the registry's listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectSummary {
    /// Its id.
    pub id: ObjectId,
    /// Its name.
    pub name: ObjectName,
    /// Its kind.
    pub kind: ObjectKind,
    /// Requests the object has carried out (failed ones included).
    pub messages_handled: u64,
}
