//! [`RegistryRequest`]: what a client asks of the registry (create or
//! find, look up, remove, list, inspect), and a [`Call`] for each, with the
//! type of its reply.

use serde::{Deserialize, Serialize};

use super::Call;
#[cfg(doc)]
use super::ObjectRequest;
use crate::inspect::ManagerSnapshot;
use crate::reply::{ObjectInfo, ObjectSummary, Removed};
use crate::{ObjectSpec, WireName};

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

impl RegistryRequest {
    /// A call of [`RegistryRequest::CreateOrGet`], answered with the
    /// object's [`ObjectInfo`].
    pub fn create_or_get(name: WireName, spec: ObjectSpec) -> Call<ObjectInfo, RegistryRequest> {
        Call::new(RegistryRequest::CreateOrGet { name, spec })
    }

    /// A call of [`RegistryRequest::Lookup`], answered with the object's
    /// [`ObjectInfo`].
    pub fn lookup(name: WireName) -> Call<ObjectInfo, RegistryRequest> {
        Call::new(RegistryRequest::Lookup { name })
    }

    /// A call of [`RegistryRequest::Remove`], answered with whether the
    /// object was there.
    pub fn remove(name: WireName) -> Call<Removed, RegistryRequest> {
        Call::new(RegistryRequest::Remove { name })
    }

    /// A call of [`RegistryRequest::List`], answered with every object.
    pub fn list() -> Call<Vec<ObjectSummary>, RegistryRequest> {
        Call::new(RegistryRequest::List)
    }

    /// A call of [`RegistryRequest::Inspect`], answered with a
    /// [`ManagerSnapshot`].
    pub fn inspect() -> Call<ManagerSnapshot, RegistryRequest> {
        Call::new(RegistryRequest::Inspect)
    }
}
