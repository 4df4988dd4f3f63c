//! [`SetRequest`]: Python's set operations, in insertion order.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.
//!
//! # Typed pops
//!
//! [`SetRequest::Pop`] carries the type the caller will decode the item as.
//! The manager checks the item's [`TypeTag`] before removing it: an item of
//! another type stays in the set and the pop fails with `WrongType`.

use serde::{Deserialize, Serialize};

use crate::{Encoded, TypeTag};

/// A set's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetRequest {
    /// Add an item. Replies `Bool`: whether it was new.
    Add {
        /// The item.
        value: Encoded,
    },
    /// Remove an item that must be present. Replies `Done`.
    Remove {
        /// The item.
        value: Encoded,
    },
    /// Remove an item if present. Replies `Bool`: whether it was.
    Discard {
        /// The item.
        value: Encoded,
    },
    /// Whether an item is present. Replies `Bool`.
    Contains {
        /// The item.
        value: Encoded,
    },
    /// The number of items. Replies `Count`.
    Len,
    /// Remove and return some item (the last added). Replies `Value`. If
    /// `expect` names a type and the item was stored as another, nothing is
    /// removed and the reply is `WrongType`.
    Pop {
        /// The type the caller will decode the item as; `None` takes it
        /// whatever its type.
        expect: Option<TypeTag>,
    },
    /// Remove every item. Replies `Done`.
    Clear,
    /// The set's items together with `values`. Replies `Values`.
    Union {
        /// The other collection.
        values: Vec<Encoded>,
    },
    /// The set's items that are also in `values`. Replies `Values`.
    Intersection {
        /// The other collection.
        values: Vec<Encoded>,
    },
    /// The set's items that are not in `values`. Replies `Values`.
    Difference {
        /// The other collection.
        values: Vec<Encoded>,
    },
    /// Every item. Replies `Values`.
    Snapshot,
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    SetRequest {
        add(value: Encoded) -> bool = Add { value };
        remove(value: Encoded) -> () = Remove { value };
        discard(value: Encoded) -> bool = Discard { value };
        contains(value: Encoded) -> bool = Contains { value };
        len() -> u64 = Len;
        pop(expect: Option<TypeTag>) -> Encoded = Pop { expect };
        clear() -> () = Clear;
        union(values: Vec<Encoded>) -> Vec<Encoded> = Union { values };
        intersection(values: Vec<Encoded>) -> Vec<Encoded> = Intersection { values };
        difference(values: Vec<Encoded>) -> Vec<Encoded> = Difference { values };
        snapshot() -> Vec<Encoded> = Snapshot;
    }
}

impl super::KindRequest for SetRequest {
    const FAMILY: &'static str = "set";

    fn replies_in_bulk(&self) -> bool {
        matches!(
            self,
            SetRequest::Union { .. }
                | SetRequest::Intersection { .. }
                | SetRequest::Difference { .. }
                | SetRequest::Snapshot
        )
    }
}
