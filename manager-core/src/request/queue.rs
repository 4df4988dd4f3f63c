//! [`QueueRequest`]: a FIFO queue; `task_done` and `join` only for a
//! joinable queue.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.

use serde::{Deserialize, Serialize};

use super::Wait;
use crate::Encoded;

/// A queue's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueRequest {
    /// Add an item at the back, waiting for room in a bounded queue. Replies
    /// `Done`; a wait that ends without room is an error (`Full`).
    Put {
        /// The item.
        value: Encoded,
        /// How long to wait for room.
        wait: Wait,
    },
    /// Take the item at the front, waiting for one. Replies `Value`; a wait
    /// that ends without an item is an error (`Empty`).
    Get {
        /// How long to wait for an item.
        wait: Wait,
    },
    /// The number of items (Python's `qsize`). Replies `Count`.
    Len,
    /// Whether it holds no item. Replies `Bool`.
    IsEmpty,
    /// Whether a bounded queue is at its bound. Replies `Bool`.
    IsFull,
    /// Mark one item taken with `get` as processed. Replies `Done`.
    TaskDone,
    /// Wait until every item put has been marked done. Replies `Bool`:
    /// `false` if the wait ended first.
    Join {
        /// How long to wait.
        wait: Wait,
    },
}
