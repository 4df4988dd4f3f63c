//! What a client asks of the manager.
//!
//! Every request travels in a [`RequestFrame`] with a [`RequestId`] chosen by
//! the client; the reply carries the same id, so one connection can have many
//! requests in flight and take their replies in any order.
//!
//! A request goes either to the registry ([`RegistryRequest`]) or to one
//! object, addressed by the [`ObjectId`] the registry handed out
//! ([`ObjectRequest`], one enum per object kind).

use serde::{Deserialize, Serialize};

use crate::{ObjectId, ObjectKind, ObjectName, Value};

/// A client's number for one request, echoed in its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RequestId(pub u64);

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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistryRequest {
    /// Find the object with this name, or create it with this kind. An
    /// existing object of another kind is an error.
    CreateOrGet {
        /// The object's name.
        name: ObjectName,
        /// Its kind.
        kind: ObjectKind,
    },
    /// Find an existing object.
    Lookup {
        /// The object's name.
        name: ObjectName,
    },
    /// Remove an object; its actor stops and later requests to its id fail.
    Remove {
        /// The object's name.
        name: ObjectName,
    },
    /// List every object.
    List,
}

/// An operation on one object, by object kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectRequest {
    /// An operation on a namespace.
    Namespace(NamespaceRequest),
}

impl ObjectRequest {
    /// The kind of object this request is for.
    pub fn kind(&self) -> ObjectKind {
        match self {
            ObjectRequest::Namespace(_) => ObjectKind::Namespace,
        }
    }
}

/// A namespace's operations: Python's attribute access plus atomic updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NamespaceRequest {
    /// Set an attribute (`ns.x = v`). Replies `Done`.
    Set {
        /// The attribute.
        attribute: String,
        /// Its new value.
        value: Value,
    },
    /// Read an attribute (`ns.x`). Replies `Value`; a missing attribute is
    /// an error.
    Get {
        /// The attribute.
        attribute: String,
    },
    /// Delete an attribute (`del ns.x`). Replies `Bool`: whether it existed.
    Delete {
        /// The attribute.
        attribute: String,
    },
    /// Whether an attribute exists (`hasattr`). Replies `Bool`.
    Contains {
        /// The attribute.
        attribute: String,
    },
    /// The attribute names, sorted. Replies `Names`.
    Names,
    /// Every attribute with its value, sorted by name. Replies `Snapshot`.
    Snapshot,
    /// Set an attribute only if it is absent. Replies `Bool`: whether it was
    /// set.
    SetIfAbsent {
        /// The attribute.
        attribute: String,
        /// The value to store if absent.
        value: Value,
    },
    /// Replace the attribute's value with `new` if it equals `expected`
    /// (`None`: if it is absent). Replies `Swapped`.
    CompareAndSwap {
        /// The attribute.
        attribute: String,
        /// The value it must hold now, or `None` for absent.
        expected: Option<Value>,
        /// The value to store.
        new: Value,
    },
    /// Add `delta` to an `i64` attribute (absent counts as 0) and reply the
    /// new value as `Integer`.
    Add {
        /// The attribute.
        attribute: String,
        /// The amount to add; may be negative.
        delta: i64,
    },
}
