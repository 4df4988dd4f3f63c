//! [`ArrayRequest`]: a fixed-length sequence.
//!
//! Indices may be negative, counting from the end. Each variant says which
//! [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use crate::Encoded;

/// An array's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ArrayRequest {
    /// The length. Replies `Count`.
    Len,
    /// The element at `index`. Replies `Value`.
    Get {
        /// The index.
        index: i64,
    },
    /// Replace the element at `index`. Replies `Done`.
    Set {
        /// The index.
        index: i64,
        /// The new element.
        value: Encoded,
    },
    /// A copy of `array[start:stop]` with Python's slice rules. Replies
    /// `Values`.
    GetRange {
        /// The first index, or `None` for the start.
        start: Option<i64>,
        /// The index after the last, or `None` for the end.
        stop: Option<i64>,
    },
    /// Replace the elements from `start` on with `values`, which must fit
    /// inside the array. Replies `Done`.
    SetRange {
        /// The first index replaced.
        start: i64,
        /// The new elements.
        values: Vec<Encoded>,
    },
    /// Every element. Replies `Values`.
    Snapshot,
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    ArrayRequest {
        len() -> u64 = Len;
        get(index: i64) -> Encoded = Get { index };
        set(index: i64, value: Encoded) -> () = Set { index, value };
        get_range(start: Option<i64>, stop: Option<i64>) -> Vec<Encoded> = GetRange { start, stop };
        set_range(start: i64, values: Vec<Encoded>) -> () = SetRange { start, values };
        snapshot() -> Vec<Encoded> = Snapshot;
    }
}

impl super::KindRequest for ArrayRequest {
    const FAMILY: &'static str = "array";

    fn replies_in_bulk(&self) -> bool {
        matches!(self, ArrayRequest::GetRange { .. } | ArrayRequest::Snapshot)
    }
}
