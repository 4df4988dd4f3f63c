//! [`NamespaceRequest`]: Python's attribute access plus atomic updates.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use crate::reply::Swapped;
use serde::{Deserialize, Serialize};

use crate::Encoded;

/// A namespace's operations: Python's attribute access plus atomic updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum NamespaceRequest {
    /// Set an attribute (`ns.x = v`). Replies `Done`.
    Set {
        /// The attribute.
        attribute: String,
        /// Its new value.
        value: Encoded,
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
    /// Every attribute with its value, sorted by name. Replies `Attributes`.
    Snapshot,
    /// Set an attribute only if it is absent. Replies `Bool`: whether it was
    /// set.
    SetIfAbsent {
        /// The attribute.
        attribute: String,
        /// The value to store if absent.
        value: Encoded,
    },
    /// Replace the attribute's value with `new` if it equals `expected`
    /// (`None`: if it is absent). Replies `Swapped`.
    CompareAndSwap {
        /// The attribute.
        attribute: String,
        /// The value it must hold now, or `None` for absent.
        expected: Option<Encoded>,
        /// The value to store.
        new: Encoded,
    },
    /// Add `delta` to an integer attribute of any width (absent counts as an
    /// `i64` 0), keeping its width, and reply the new value as `Integer`.
    Add {
        /// The attribute.
        attribute: String,
        /// The amount to add; may be negative.
        delta: i64,
    },
    /// Set many attributes in one request, in order (a later one of the
    /// same name wins). Replies `Done`.
    Update {
        /// The attributes with their new values.
        items: Vec<(String, Encoded)>,
    },
    /// Read many attributes in one request. Replies `MaybeValues`: for each
    /// attribute, in the order asked, its value or `None` if it is not set.
    GetMany {
        /// The attributes.
        attributes: Vec<String>,
    },
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    NamespaceRequest {
        set(attribute: String, value: Encoded) -> () = Set { attribute, value };
        get(attribute: String) -> Encoded = Get { attribute };
        delete(attribute: String) -> bool = Delete { attribute };
        contains(attribute: String) -> bool = Contains { attribute };
        names() -> Vec<String> = Names;
        snapshot() -> Vec<(String, Encoded)> = Snapshot;
        set_if_absent(attribute: String, value: Encoded) -> bool = SetIfAbsent { attribute, value };
        compare_and_swap(attribute: String, expected: Option<Encoded>, new: Encoded) -> Swapped = CompareAndSwap { attribute, expected, new };
        add(attribute: String, delta: i64) -> i64 = Add { attribute, delta };
        update(items: Vec<(String, Encoded)>) -> () = Update { items };
        get_many(attributes: Vec<String>) -> Vec<Option<Encoded>> = GetMany { attributes };
    }
}

impl super::KindRequest for NamespaceRequest {
    const FAMILY: &'static str = "namespace";

    fn replies_in_bulk(&self) -> bool {
        matches!(
            self,
            NamespaceRequest::Names | NamespaceRequest::Snapshot | NamespaceRequest::GetMany { .. }
        )
    }
}
