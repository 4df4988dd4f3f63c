//! [`SemaphoreRequest`]: a counting semaphore, bounded or not.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.
//!
//! # Plain and owned units
//!
//! A semaphore hands out two sorts of unit:
//!
//! - *Plain* units ([`SemaphoreRequest::Acquire`],
//!   [`SemaphoreRequest::Release`]) are only counted, as in Python: any
//!   connection may release one (a semaphore of 0 used as a signal is
//!   released by one process and acquired by another), and the manager does
//!   not know who has one. So a plain unit is **not** given back when the
//!   process that took it dies; only a release brings it back.
//! - *Owned* units ([`SemaphoreRequest::AcquireOwned`],
//!   [`SemaphoreRequest::ReleaseOwned`]), what a proxy's guard takes, are
//!   held by an owner: the connection the request came on plus an
//!   [`Owner`] number. Only that owner gives them back, and when its
//!   connection closes the manager gives back every owned unit it still
//!   holds.
//!
//! A plain release never gives back an owned unit. A bounded semaphore
//! counts owned units against its bound: a plain release that would make
//! the available units plus the owned ones pass the bound is refused.
//!
//! # Wire order
//!
//! The variants are encoded by their position; new ones go at the end.

use serde::{Deserialize, Serialize};

use super::{Owner, Wait};

/// A semaphore's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SemaphoreRequest {
    /// Take one plain unit, waiting while there is none. Replies `Bool`:
    /// `false` if the wait ended first. The unit is not tracked: it comes
    /// back only through a release, not when this connection closes.
    Acquire {
        /// How long to wait.
        wait: Wait,
    },
    /// Give back `n` plain units; any connection may. A bounded semaphore
    /// refuses to go past its bound, owned units included
    /// (`TooManyReleases`, and nothing changes). Replies `Done`.
    Release {
        /// How many units.
        n: u64,
    },
    /// The units available now. Replies `Count`.
    Value,
    /// Take one unit for `owner` of this connection, waiting while there is
    /// none. Replies `Bool`: `false` if the wait ended first. The unit comes
    /// back through [`SemaphoreRequest::ReleaseOwned`] from the same owner
    /// and connection, or when this connection closes.
    AcquireOwned {
        /// Who takes it.
        owner: Owner,
        /// How long to wait.
        wait: Wait,
    },
    /// Give back `n` units `owner` of this connection took with
    /// [`SemaphoreRequest::AcquireOwned`]. Replies `Done`; `NotHeld` (and
    /// nothing changes) if that owner holds fewer than `n`.
    ReleaseOwned {
        /// Who gives them back.
        owner: Owner,
        /// How many units.
        n: u64,
    },
    /// How many acquires are parked, waiting for a unit. Replies `Count`.
    NWaiting,
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    SemaphoreRequest {
        acquire(wait: Wait) -> bool = Acquire { wait };
        release(n: u64) -> () = Release { n };
        value() -> u64 = Value;
        acquire_owned(owner: Owner, wait: Wait) -> bool = AcquireOwned { owner, wait };
        release_owned(owner: Owner, n: u64) -> () = ReleaseOwned { owner, n };
        n_waiting() -> u64 = NWaiting;
    }
}

impl super::KindRequest for SemaphoreRequest {
    const FAMILY: &'static str = "semaphore";

    fn wait_mut(&mut self) -> Option<&mut Wait> {
        match self {
            SemaphoreRequest::Acquire { wait } | SemaphoreRequest::AcquireOwned { wait, .. } => {
                Some(wait)
            }
            _ => None,
        }
    }

    fn may_take(&self) -> bool {
        matches!(
            self,
            SemaphoreRequest::Acquire { .. } | SemaphoreRequest::AcquireOwned { .. }
        )
    }

    /// A granted unit is released: a counted one as a plain release, an
    /// owned one by its owner.
    fn undo_for(&self, reply: &crate::reply::Reply) -> Option<Self> {
        match (self, reply) {
            (SemaphoreRequest::Acquire { .. }, crate::reply::Reply::Bool(true)) => {
                Some(SemaphoreRequest::Release { n: 1 })
            }
            (SemaphoreRequest::AcquireOwned { owner, .. }, crate::reply::Reply::Bool(true)) => {
                Some(SemaphoreRequest::ReleaseOwned {
                    owner: *owner,
                    n: 1,
                })
            }
            _ => None,
        }
    }
}
