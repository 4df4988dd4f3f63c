//! [`ValueRequest`]: one shared value, with atomic swaps and adds.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use crate::reply::Swapped;
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

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    ValueRequest {
        get() -> Encoded = Get;
        set(value: Encoded) -> () = Set { value };
        swap(value: Encoded) -> Encoded = Swap { value };
        compare_and_swap(expected: Encoded, new: Encoded) -> Swapped = CompareAndSwap { expected, new };
        add(delta: i64) -> i64 = Add { delta };
    }
}

impl super::KindRequest for ValueRequest {
    const FAMILY: &'static str = "value";
}
