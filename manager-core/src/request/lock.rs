//! [`LockRequest`]: a lock or re-entrant lock, held by an owner.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use super::{Owner, Wait};

/// A lock's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockRequest {
    /// Take the lock for `owner`, waiting while another holds it. A
    /// re-entrant lock already held by `owner` is taken again at once.
    /// Replies `Bool`: `false` if the wait ended first.
    Acquire {
        /// Who takes it.
        owner: Owner,
        /// How long to wait.
        wait: Wait,
    },
    /// Release the lock (once, for a re-entrant lock). Releasing a lock
    /// `owner` does not hold is an error (`NotHeld`). Replies `Done`.
    Release {
        /// Who releases it.
        owner: Owner,
    },
    /// Whether anyone holds it. Replies `Bool`.
    IsLocked,
}
