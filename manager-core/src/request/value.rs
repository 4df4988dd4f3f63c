//! [`ValueRequest`]: one shared value, with atomic swaps and adds.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use crate::Encoded;

/// A value's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueRequest {
    /// The value. Replies `Value`.
    Get,
    /// Replace the value. Replies `Done`.
    Set {
        /// The new value.
        value: Encoded,
    },
    /// Replace the value and return the old one. Replies `Value`.
    Swap {
        /// The new value.
        value: Encoded,
    },
    /// Store `new` if the value equals `expected`. Replies `Swapped`.
    CompareAndSwap {
        /// The value it must hold.
        expected: Encoded,
        /// The new value.
        new: Encoded,
    },
    /// Add `delta` to an integer value of any width, keeping its width.
    /// Replies `Integer`: the new value.
    Add {
        /// The amount; may be negative.
        delta: i64,
    },
}

impl super::KindRequest for ValueRequest {
    const FAMILY: &'static str = "value";
}
