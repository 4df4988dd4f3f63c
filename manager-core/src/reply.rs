//! What the manager answers.
//!
//! Each [`ReplyFrame`] answers the [`RequestFrame`](crate::request::RequestFrame)
//! with the same id. Its result is either a [`Reply`] or the
//! [`ManagerError`] that failed that one request.

use serde::{Deserialize, Serialize};

use crate::request::RequestId;
use crate::{ManagerError, ObjectId, ObjectKind, ObjectName, Value};

/// One reply with the id of the request it answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyFrame {
    /// The id of the request answered.
    pub id: RequestId,
    /// The outcome.
    pub result: Result<Reply, ManagerError>,
}

/// A successful outcome, by who answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// From the registry.
    Registry(RegistryReply),
    /// From a namespace.
    Namespace(NamespaceReply),
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

/// A namespace's answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NamespaceReply {
    /// The operation was applied.
    Done,
    /// A value read.
    Value(Value),
    /// A yes or no.
    Bool(bool),
    /// Attribute names, sorted.
    Names(Vec<String>),
    /// Attributes with their values, sorted by name.
    Snapshot(Vec<(String, Value)>),
    /// The outcome of a compare-and-swap: whether it swapped, and if not,
    /// what the attribute holds instead.
    Swapped {
        /// Whether the new value was stored.
        swapped: bool,
        /// When not swapped, the current value (`None`: absent).
        current: Option<Value>,
    },
    /// The result of an atomic add.
    Integer(i64),
}
