//! [`ConditionRequest`]: a condition variable with its own re-entrant lock.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use super::{Owner, RequestId, Wait};
use crate::reply::Woken;

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
    /// `Woken`: whether a notify woke it (`false` if the wait ended
    /// first), how many times over it holds the lock again and the wait's
    /// id, for a caller that gave up to give back
    /// ([`ConditionRequest::GiveBack`]). `owner` must hold the lock.
    ///
    /// A [`ObjectRequest::Cancel`](super::ObjectRequest::Cancel) of a wait
    /// that has taken the lock back already (its reply on the way) gives
    /// the lock back at once, if the owner holds it through that grant
    /// still: the holds it restored are released and a notify it consumed
    /// wakes another wait. The cancel replies `Bool(false)` all the same:
    /// the wait was not taken back while parked, and its reply still
    /// comes.
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
    /// (not an error). (The give-back of a `Wait` is
    /// [`ConditionRequest::GiveBack`], which releases only what the wait
    /// took back.)
    ReleaseAll {
        /// Who releases it.
        owner: Owner,
        /// The wait this gives back had been notified: the notify wakes
        /// another wait instead (the longest-waiting, if any), so it is
        /// not lost with a caller that never saw it.
        pass_on_notify: bool,
    },
    /// Give back the `holds` that `Wait` request `wait` took back (its
    /// `Woken` reply names both) after its caller gave up: sent by the
    /// client when that reply came but was never read (at once, before any
    /// later request of the owner), or when it came after the client's
    /// cancel, and by the manager itself for a reply it could not deliver.
    ///
    /// Applied only if `owner` of this connection holds the lock through
    /// that very grant still: the lock has not changed hands since `wait`
    /// took it back. Then up to `holds` of the holder's count are given
    /// back (never more than is there; the lock is released, and handed
    /// on, when none is left). Otherwise nothing changes: a cancel that
    /// arrived after the grant gave it back already (see
    /// [`ObjectRequest::Cancel`](super::ObjectRequest::Cancel)), or the
    /// connection's close released it, and the holds the owner has now
    /// came from a later request. Replies `Count`: how many holds were
    /// given back (0 if none; not an error).
    GiveBack {
        /// Whose holds.
        owner: Owner,
        /// How many, at most: the `holds` of the wait's `Woken` reply.
        holds: u64,
        /// The wait had been notified: the notify wakes another wait
        /// instead (the longest-waiting, if any), so it is not lost with a
        /// caller that never saw it.
        pass_on_notify: bool,
        /// The id of the `Wait` whose grant this gives back (the `wait`
        /// of its `Woken` reply).
        wait: RequestId,
    },
    /// How many are parked on it: waiting for a notify, or for its lock.
    /// Replies `Count`.
    NWaiting,
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    ConditionRequest {
        acquire(owner: Owner, wait: Wait) -> bool = Acquire { owner, wait };
        release(owner: Owner) -> () = Release { owner };
        wait(owner: Owner, wait: Wait) -> Woken = Wait { owner, wait };
        notify(owner: Owner, n: u64) -> u64 = Notify { owner, n };
        notify_all(owner: Owner) -> u64 = NotifyAll { owner };
        release_all(owner: Owner, pass_on_notify: bool) -> u64 = ReleaseAll { owner, pass_on_notify };
        give_back(owner: Owner, holds: u64, pass_on_notify: bool, wait: RequestId) -> u64 = GiveBack { owner, holds, pass_on_notify, wait };
        n_waiting() -> u64 = NWaiting;
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
    /// notified or not, so the holds it restored are given back
    /// ([`ConditionRequest::GiveBack`], naming the wait), passing on the
    /// notify it consumed.
    fn undo_for(&self, reply: &crate::reply::Reply) -> Option<Self> {
        use crate::reply::Reply;
        match (self, reply) {
            (ConditionRequest::Acquire { owner, .. }, Reply::Bool(true)) => {
                Some(ConditionRequest::Release { owner: *owner })
            }
            (
                ConditionRequest::Wait { owner, .. },
                Reply::Woken {
                    notified,
                    holds,
                    wait,
                },
            ) => Some(ConditionRequest::GiveBack {
                owner: *owner,
                holds: *holds,
                pass_on_notify: *notified,
                wait: *wait,
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::Reply;
    use crate::request::KindRequest;

    #[test]
    fn a_late_wait_gives_back_the_holds_its_reply_names() {
        let wait = ConditionRequest::Wait {
            owner: Owner(4),
            wait: Wait::Forever,
        };
        for notified in [false, true] {
            let reply = Reply::Woken {
                notified,
                holds: 3,
                wait: RequestId(9),
            };
            assert_eq!(
                wait.undo_for(&reply),
                Some(ConditionRequest::GiveBack {
                    owner: Owner(4),
                    holds: 3,
                    pass_on_notify: notified,
                    wait: RequestId(9),
                })
            );
        }
        // No other shape answers a wait: nothing to give back.
        assert_eq!(wait.undo_for(&Reply::Bool(false)), None);
        let acquire = ConditionRequest::Acquire {
            owner: Owner(4),
            wait: Wait::Forever,
        };
        assert_eq!(
            acquire.undo_for(&Reply::Bool(true)),
            Some(ConditionRequest::Release { owner: Owner(4) })
        );
        assert_eq!(acquire.undo_for(&Reply::Bool(false)), None);
    }
}
