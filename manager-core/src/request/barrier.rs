//! [`BarrierRequest`]: a barrier for a fixed number of parties.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use super::Wait;

/// A barrier's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BarrierRequest {
    /// Wait until `parties` waiters have arrived. Replies `Count`: this
    /// waiter's arrival index, from 0 (first) up to `parties - 1` (last), as
    /// in Python. A wait that ends first breaks the barrier, and every
    /// waiter gets `BrokenBarrier`.
    Wait {
        /// How long to wait.
        wait: Wait,
    },
    /// Break the barrier: every waiter, and every later wait until a reset,
    /// gets `BrokenBarrier`. Replies `Done`.
    Abort,
    /// Break it for current waiters and make it usable again. Replies `Done`.
    Reset,
    /// The number of parties. Replies `Count`.
    Parties,
    /// How many are waiting now. Replies `Count`.
    NWaiting,
    /// Whether it is broken. Replies `Bool`.
    Broken,
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    BarrierRequest {
        wait(wait: Wait) -> u64 = Wait { wait };
        abort() -> () = Abort;
        reset() -> () = Reset;
        parties() -> u64 = Parties;
        n_waiting() -> u64 = NWaiting;
        broken() -> bool = Broken;
    }
}

impl super::KindRequest for BarrierRequest {
    const FAMILY: &'static str = "barrier";

    fn wait_mut(&mut self) -> Option<&mut Wait> {
        match self {
            BarrierRequest::Wait { wait } => Some(wait),
            _ => None,
        }
    }
}
