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

use crate::ObjectId;

mod call;
mod object;
mod registry;

pub use call::Call;
pub use object::{KindRequest, NotTaken};
pub use registry::RegistryRequest;

use object::object_requests;

// The families' modules and `ObjectRequest`, from the list of kinds.
crate::for_each_kind!(object_requests);

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
