//! [`ListRequest`]: Python's list operations, plus bulk and versioned forms.
//!
//! Indices are `i64` and may be negative, counting from the end, as in
//! Python. Each variant says which [`Reply`](crate::reply::Reply) variant
//! answers it.
//!
//! # Typed pops
//!
//! [`ListRequest::Pop`] carries the type the caller will decode the item as.
//! The manager checks the item's [`TypeTag`] before removing it: an item of
//! another type stays where it is and the pop fails with `WrongType`.

use crate::reply::Versioned;
use serde::{Deserialize, Serialize};

use crate::{Encoded, TypeTag};

/// A list's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ListRequest {
    /// The number of items. Replies `Count`.
    Len,
    /// The item at `index`. Replies `Value`.
    Get {
        /// The index.
        index: i64,
    },
    /// Replace the item at `index`. Replies `Done`.
    Set {
        /// The index.
        index: i64,
        /// The new item.
        value: Encoded,
    },
    /// Add an item at the end. Replies `Done`.
    Append {
        /// The item.
        value: Encoded,
    },
    /// Add items at the end, in one request. Replies `Done`.
    Extend {
        /// The items.
        values: Vec<Encoded>,
    },
    /// Insert before `index` (clamped to the list, as in Python). Replies
    /// `Done`.
    Insert {
        /// The index.
        index: i64,
        /// The item.
        value: Encoded,
    },
    /// Remove and return the item at `index` (`None`: the last). Replies
    /// `Value`. If `expect` names a type and the item was stored as another,
    /// nothing is removed and the reply is `WrongType`.
    Pop {
        /// The index, or `None` for the last item.
        index: Option<i64>,
        /// The type the caller will decode the item as; `None` takes it
        /// whatever its type.
        expect: Option<TypeTag>,
    },
    /// Remove the first item equal to `value`. Replies `Done`.
    Remove {
        /// The item to remove.
        value: Encoded,
    },
    /// The index of the first item equal to `value`. Replies `Count`.
    Index {
        /// The item to find.
        value: Encoded,
    },
    /// How many items equal `value`. Replies `Count`.
    Count {
        /// The item to count.
        value: Encoded,
    },
    /// Whether an item equals `value`. Replies `Bool`.
    Contains {
        /// The item to find.
        value: Encoded,
    },
    /// A copy of `list[start:stop]` with Python's slice rules. Replies
    /// `Values`.
    Slice {
        /// The first index, or `None` for the start.
        start: Option<i64>,
        /// The index after the last, or `None` for the end.
        stop: Option<i64>,
    },
    /// Remove every item. Replies `Done`.
    Clear,
    /// Reverse in place. Replies `Done`.
    Reverse,
    /// Every item. Replies `Values`.
    Snapshot,
    /// Every item with the list's version, which changes with every
    /// modification. Replies `Versioned`.
    VersionedSnapshot,
    /// Replace every item with `values` if the list is still at `version`
    /// (how a client sorts: read, sort locally, replace). Replies `Bool`:
    /// whether it replaced.
    ReplaceIfVersion {
        /// The version read.
        version: u64,
        /// The new items.
        values: Vec<Encoded>,
    },
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    ListRequest {
        len() -> u64 = Len;
        get(index: i64) -> Encoded = Get { index };
        set(index: i64, value: Encoded) -> () = Set { index, value };
        append(value: Encoded) -> () = Append { value };
        extend(values: Vec<Encoded>) -> () = Extend { values };
        insert(index: i64, value: Encoded) -> () = Insert { index, value };
        pop(index: Option<i64>, expect: Option<TypeTag>) -> Encoded = Pop { index, expect };
        remove(value: Encoded) -> () = Remove { value };
        index(value: Encoded) -> u64 = Index { value };
        count(value: Encoded) -> u64 = Count { value };
        contains(value: Encoded) -> bool = Contains { value };
        slice(start: Option<i64>, stop: Option<i64>) -> Vec<Encoded> = Slice { start, stop };
        clear() -> () = Clear;
        reverse() -> () = Reverse;
        snapshot() -> Vec<Encoded> = Snapshot;
        versioned_snapshot() -> Versioned = VersionedSnapshot;
        replace_if_version(version: u64, values: Vec<Encoded>) -> bool = ReplaceIfVersion { version, values };
    }
}

impl super::KindRequest for ListRequest {
    const FAMILY: &'static str = "list";

    fn replies_in_bulk(&self) -> bool {
        matches!(
            self,
            ListRequest::Slice { .. } | ListRequest::Snapshot | ListRequest::VersionedSnapshot
        )
    }
}
