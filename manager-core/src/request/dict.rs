//! [`DictRequest`]: Python's dict operations, in insertion order.
//!
//! Keys are compared by their encoding and type. Each variant says which
//! [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use crate::Encoded;

/// A dict's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DictRequest {
    /// The number of entries. Replies `Count`.
    Len,
    /// The value of `key`, if any (Python's `d.get(k)`). Replies
    /// `MaybeValue`.
    Get {
        /// The key.
        key: Encoded,
    },
    /// Set `key` to `value`. Replies `MaybeValue`: the old value.
    Insert {
        /// The key.
        key: Encoded,
        /// The value.
        value: Encoded,
    },
    /// Remove `key`. Replies `MaybeValue`: the value it had.
    Remove {
        /// The key.
        key: Encoded,
    },
    /// Whether `key` is present. Replies `Bool`.
    ContainsKey {
        /// The key.
        key: Encoded,
    },
    /// Every key. Replies `Values`.
    Keys,
    /// Every value. Replies `Values`.
    Values,
    /// Every entry. Replies `Pairs`.
    Items,
    /// Set many entries in one request. Replies `Done`.
    Update {
        /// The entries.
        items: Vec<(Encoded, Encoded)>,
    },
    /// The value of `key`, setting it to `default` first if absent. Replies
    /// `Value`.
    SetDefault {
        /// The key.
        key: Encoded,
        /// The value to set if absent.
        default: Encoded,
    },
    /// Remove `key` and return its value, or `default` if absent (no
    /// default: an error). Replies `Value`.
    Pop {
        /// The key.
        key: Encoded,
        /// What to return if absent.
        default: Option<Encoded>,
    },
    /// Remove and return the last inserted entry. Replies `Pair`.
    PopItem,
    /// Remove every entry. Replies `Done`.
    Clear,
    /// Add `delta` to the `i64` at `key` (absent counts as 0). Replies
    /// `Integer`: the new value.
    Add {
        /// The key.
        key: Encoded,
        /// The amount; may be negative.
        delta: i64,
    },
}
