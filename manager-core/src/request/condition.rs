//! [`ConditionRequest`]: a condition variable with its own re-entrant lock.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use super::{Owner, Wait};

/// A condition's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConditionRequest {
    /// Take the condition's lock. Replies `Bool`: `false` if the wait ended
    /// first.
    Acquire {
        /// Who takes it.
        owner: Owner,
        /// How long to wait.
        wait: Wait,
    },
    /// Release the lock once. Replies `Done`; `NotHeld` if `owner` does not
    /// hold it.
    Release {
        /// Who releases it.
        owner: Owner,
    },
    /// Release the lock (however many times `owner` took it), wait for a
    /// notify, then take the lock back as it was before replying. Replies
    /// `Bool`: `false` if the wait ended without a notify. `owner` must hold
    /// the lock.
    Wait {
        /// Who waits.
        owner: Owner,
        /// How long to wait for a notify.
        wait: Wait,
    },
    /// Wake up to `n` waiters. `owner` must hold the lock. Replies `Count`:
    /// how many were woken.
    Notify {
        /// Who notifies.
        owner: Owner,
        /// How many waiters at most.
        n: u64,
    },
    /// Wake every waiter. `owner` must hold the lock. Replies `Count`.
    NotifyAll {
        /// Who notifies.
        owner: Owner,
    },
    /// Release the lock completely, however many times `owner` holds it.
    /// Replies `Count`: how many times it held it, 0 if it did not hold it
    /// (not an error). Sent when a `Wait` took the lock back after its
    /// caller gave up (by the client), or its reply could not be delivered
    /// (by the manager itself), so the lock is not left held.
    ReleaseAll {
        /// Who releases it.
        owner: Owner,
        /// The wait this gives back had been notified: the notify wakes
        /// another wait instead (the longest-waiting, if any), so it is
        /// not lost with a caller that never saw it.
        pass_on_notify: bool,
    },
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    ConditionRequest {
        acquire(owner: Owner, wait: Wait) -> bool = Acquire { owner, wait };
        release(owner: Owner) -> () = Release { owner };
        wait(owner: Owner, wait: Wait) -> bool = Wait { owner, wait };
        notify(owner: Owner, n: u64) -> u64 = Notify { owner, n };
        notify_all(owner: Owner) -> u64 = NotifyAll { owner };
        release_all(owner: Owner, pass_on_notify: bool) -> u64 = ReleaseAll { owner, pass_on_notify };
    }
}

impl super::KindRequest for ConditionRequest {
    const FAMILY: &'static str = "condition";

    fn wait_mut(&mut self) -> Option<&mut Wait> {
        match self {
            ConditionRequest::Acquire { wait, .. } | ConditionRequest::Wait { wait, .. } => {
                Some(wait)
            }
            _ => None,
        }
    }

    fn may_take(&self) -> bool {
        matches!(
            self,
            ConditionRequest::Acquire { .. } | ConditionRequest::Wait { .. }
        )
    }

    /// A granted acquire is released; a `Wait` always takes the lock back,
    /// notified or not, so its lock is released completely, passing on the
    /// notify it consumed.
    fn undo_for(&self, reply: &crate::reply::Reply) -> Option<Self> {
        use crate::reply::Reply;
        match (self, reply) {
            (ConditionRequest::Acquire { owner, .. }, Reply::Bool(true)) => {
                Some(ConditionRequest::Release { owner: *owner })
            }
            (ConditionRequest::Wait { owner, .. }, Reply::Bool(notified)) => {
                Some(ConditionRequest::ReleaseAll {
                    owner: *owner,
                    pass_on_notify: *notified,
                })
            }
            _ => None,
        }
    }
}
