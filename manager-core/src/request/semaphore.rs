//! [`SemaphoreRequest`]: a counting semaphore, bounded or not.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use super::Wait;

/// A semaphore's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SemaphoreRequest {
    /// Take one unit, waiting while there is none. Replies `Bool`: `false` if
    /// the wait ended first.
    Acquire {
        /// How long to wait.
        wait: Wait,
    },
    /// Give back `n` units. A bounded semaphore refuses to go past its bound
    /// (`TooManyReleases`). Replies `Done`.
    Release {
        /// How many units.
        n: u64,
    },
    /// The units available now. Replies `Count`.
    Value,
}
