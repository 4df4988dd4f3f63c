//! [`QueueRequest`]: a FIFO queue; `task_done` and `join` only for a
//! joinable queue.
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers it.
//!
//! # Typed gets
//!
//! A proxy takes items with [`QueueRequest::GetAs`], naming the type it
//! will decode the item as. The manager compares that with the front item's
//! [`TypeTag`] *before* removing it: an item of another type stays at the
//! front and the get fails with `WrongType`, so a consumer built with the
//! wrong type (or another version of a type that moved) cannot drain and
//! destroy the queue. [`QueueRequest::Get`] takes the front item whatever its
//! type, for callers that do not decode it.
//!
//! # Bulk puts and gets
//!
//! [`QueueRequest::PutMany`] and [`QueueRequest::GetMany`] move many items
//! in one request each; what a `GetMany` took is given back whole
//! ([`QueueRequest::ReturnMany`]) if its reply cannot be delivered.

use crate::reply::Delivered;
use serde::{Deserialize, Serialize};

use super::Wait;
use crate::{Encoded, TypeTag};

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
    /// Take the item at the front whatever its type, waiting for one.
    /// Replies `Value`; a wait that ends without an item is an error
    /// (`Empty`). Typed proxies send [`QueueRequest::GetAs`] instead.
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
    /// Take the item at the front if it was put as the type `expect`,
    /// waiting for one. Replies `Value`.
    ///
    /// An item of another type is not taken: it stays at the front and this
    /// request fails at once with `WrongType` (what the queue holds, what was
    /// asked for). A getter parked on an empty queue is checked the same way
    /// when a put hands it an item: on a mismatch it gets `WrongType`, the
    /// item goes to the next parked getter or into the queue, and nothing is
    /// lost. A wait that ends without an item is an error (`Empty`).
    GetAs {
        /// The type the caller will decode the item as.
        expect: TypeTag,
        /// How long to wait for an item.
        wait: Wait,
    },
    /// Put back at the front an item a get took after its caller gave up
    /// (its reply came too late): a client sends it so the item is not
    /// lost. In a full bounded queue it waits for room like a put, then
    /// goes to the front; it is not a new task for `join`. A connection may
    /// return only as many items as its gets took and it has not returned
    /// (else `BadRequest`); if it closes while a return waits, or has as
    /// many requests parked as it may, the item goes to the front at once,
    /// past the bound: a give-back is never refused. Replies `Done`.
    Return {
        /// The item, as the get's reply carried it.
        value: Encoded,
    },
    /// An *acknowledged* get: take the item at the front (of type `expect`,
    /// if given, checked as [`QueueRequest::GetAs`] does), waiting for one,
    /// and keep it as in flight for this connection under a receipt until
    /// the connection acknowledges it ([`QueueRequest::Ack`]). If the
    /// connection closes first, however its process ended, the item goes
    /// back to the front of the queue (not a new task for `join`). Replies
    /// `Delivery`; a wait that ends without an item is an error (`Empty`).
    Receive {
        /// The type the caller will decode the item as; `None`: any.
        expect: Option<TypeTag>,
        /// How long to wait for an item.
        wait: Wait,
    },
    /// The item received under `receipt` has been dealt with: the queue
    /// forgets it; with `task_done`, it is also marked done for `join` (a
    /// joinable queue only). Only the connection that received it may
    /// acknowledge it (`NotHeld` otherwise). Replies `Done`.
    Ack {
        /// The receipt `Receive` gave.
        receipt: u64,
        /// Also mark the item done, as `TaskDone` does.
        task_done: bool,
    },
    /// Give the item received under `receipt` back now: it returns to the
    /// front of the queue, not a new task for `join`. Only the connection
    /// that received it may. Replies `Done`.
    Requeue {
        /// The receipt `Receive` gave.
        receipt: u64,
    },
    /// Add `values` at the back, in order, as one request: as many as there
    /// is room for go in at once, and the rest wait for room (in order,
    /// ahead of later puts) at most `wait`. Replies `Count`: how many went
    /// in, always the first ones; the others did not enter. An unbounded
    /// queue takes them all at once.
    PutMany {
        /// The items, front first.
        values: Vec<Encoded>,
        /// How long the items that do not fit at once may wait for room.
        wait: Wait,
    },
    /// Take up to `max` items from the front, each put as the type
    /// `expect`, waiting at most `wait` for the first. Replies `Values`:
    /// the items taken, front first; none if the wait ended first. It
    /// takes what is there when it is answered: it waits for one item, not
    /// for `max`. It stops before an item of another type (which stays at
    /// the front) and fails with `WrongType` only if the front item is of
    /// another type. The items taken fit in one reply frame: it takes fewer
    /// than `max` rather than exceed it.
    GetMany {
        /// The most items to take (at least one is asked for).
        max: u64,
        /// The type the caller will decode the items as.
        expect: TypeTag,
        /// How long to wait for the first item.
        wait: Wait,
    },
    /// Put back at the front, in order, the items a `GetMany` took after
    /// its caller gave up: as [`QueueRequest::Return`] does for one, it
    /// waits in a bounded queue until there is room for all of it, then
    /// they enter together (once the queue holds nothing else, its first
    /// items as far as there is room, in order). Replies `Done` once all
    /// are back.
    ReturnMany {
        /// The items, as the get's reply carried them.
        values: Vec<Encoded>,
    },
    /// How many requests are parked on it: getters waiting for an item,
    /// putters for room and joiners for the tasks to be done. Replies
    /// `Count`.
    NWaiting,
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    QueueRequest {
        put(value: Encoded, wait: Wait) -> () = Put { value, wait };
        get(wait: Wait) -> Encoded = Get { wait };
        len() -> u64 = Len;
        is_empty() -> bool = IsEmpty;
        is_full() -> bool = IsFull;
        task_done() -> () = TaskDone;
        join(wait: Wait) -> bool = Join { wait };
        get_as(expect: TypeTag, wait: Wait) -> Encoded = GetAs { expect, wait };
        return_item(value: Encoded) -> () = Return { value };
        receive(expect: Option<TypeTag>, wait: Wait) -> Delivered = Receive { expect, wait };
        ack(receipt: u64, task_done: bool) -> () = Ack { receipt, task_done };
        requeue(receipt: u64) -> () = Requeue { receipt };
        put_many(values: Vec<Encoded>, wait: Wait) -> u64 = PutMany { values, wait };
        get_many(max: u64, expect: TypeTag, wait: Wait) -> Vec<Encoded> = GetMany { max, expect, wait };
        return_many(values: Vec<Encoded>) -> () = ReturnMany { values };
        n_waiting() -> u64 = NWaiting;
    }
}

impl super::KindRequest for QueueRequest {
    const FAMILY: &'static str = "queue";

    fn wait_mut(&mut self) -> Option<&mut Wait> {
        match self {
            QueueRequest::Put { wait, .. }
            | QueueRequest::Get { wait }
            | QueueRequest::GetAs { wait, .. }
            | QueueRequest::Receive { wait, .. }
            | QueueRequest::PutMany { wait, .. }
            | QueueRequest::GetMany { wait, .. }
            | QueueRequest::Join { wait } => Some(wait),
            _ => None,
        }
    }

    /// A get takes an item (a `GetMany` several), a receive delivers one.
    fn may_take(&self) -> bool {
        matches!(
            self,
            QueueRequest::Get { .. }
                | QueueRequest::GetAs { .. }
                | QueueRequest::Receive { .. }
                | QueueRequest::GetMany { .. }
        )
    }

    /// An item got goes back to the front; an item received is requeued.
    fn undo_for(&self, reply: &crate::reply::Reply) -> Option<Self> {
        use crate::reply::Reply;
        match (self, reply) {
            (QueueRequest::Get { .. } | QueueRequest::GetAs { .. }, Reply::Value(value)) => {
                Some(QueueRequest::Return {
                    value: value.clone(),
                })
            }
            (QueueRequest::Receive { .. }, Reply::Delivery { receipt, .. }) => {
                Some(QueueRequest::Requeue { receipt: *receipt })
            }
            (QueueRequest::GetMany { .. }, Reply::Values(values)) if !values.is_empty() => {
                Some(QueueRequest::ReturnMany {
                    values: values.clone(),
                })
            }
            _ => None,
        }
    }
}
