//! [`LockRequest`]: a lock or re-entrant lock, held by an owner.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.
//! The variants are encoded by their position; new ones go at the end.

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
    /// Release the lock (once, for a re-entrant lock). Replies `Done`, or
    /// `NotHeld` (and nothing changes) if this request may not release it:
    /// a re-entrant lock only its holder (`owner` of the holding connection)
    /// releases; a plain lock any owner of the holding connection may
    /// release, as a thread of a Python process may release a `Lock`
    /// another thread took, but never another connection.
    Release {
        /// Who releases it.
        owner: Owner,
    },
    /// Whether anyone holds it. Replies `Bool`.
    IsLocked,
    /// How many acquires are parked, waiting for the lock. Replies `Count`.
    NWaiting,
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    LockRequest {
        acquire(owner: Owner, wait: Wait) -> bool = Acquire { owner, wait };
        release(owner: Owner) -> () = Release { owner };
        is_locked() -> bool = IsLocked;
        n_waiting() -> u64 = NWaiting;
    }
}

impl super::KindRequest for LockRequest {
    const FAMILY: &'static str = "lock";

    fn wait_mut(&mut self) -> Option<&mut Wait> {
        match self {
            LockRequest::Acquire { wait, .. } => Some(wait),
            _ => None,
        }
    }

    fn may_take(&self) -> bool {
        matches!(self, LockRequest::Acquire { .. })
    }

    /// A granted acquire is released.
    fn undo_for(&self, reply: &crate::reply::Reply) -> Option<Self> {
        match (self, reply) {
            (LockRequest::Acquire { owner, .. }, crate::reply::Reply::Bool(true)) => {
                Some(LockRequest::Release { owner: *owner })
            }
            _ => None,
        }
    }
}
