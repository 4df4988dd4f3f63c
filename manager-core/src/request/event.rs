//! [`EventRequest`]: a flag that processes wait for.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use super::Wait;

/// An event's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventRequest {
    /// Set the flag and release every waiter. Replies `Done`.
    Set,
    /// Clear the flag. Replies `Done`.
    Clear,
    /// Whether the flag is set. Replies `Bool`.
    IsSet,
    /// Wait until the flag is set. Replies `Bool`: `false` if the wait ended
    /// first.
    Wait {
        /// How long to wait.
        wait: Wait,
    },
    /// How many waits are parked on it. Replies `Count`.
    NWaiting,
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    EventRequest {
        set() -> () = Set;
        clear() -> () = Clear;
        is_set() -> bool = IsSet;
        wait(wait: Wait) -> bool = Wait { wait };
        n_waiting() -> u64 = NWaiting;
    }
}

impl super::KindRequest for EventRequest {
    const FAMILY: &'static str = "event";

    fn wait_mut(&mut self) -> Option<&mut Wait> {
        match self {
            EventRequest::Wait { wait } => Some(wait),
            _ => None,
        }
    }
}
