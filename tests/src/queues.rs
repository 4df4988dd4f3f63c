//! Arguments shared by the tests of queues, joinable queues, events and
//! barriers and their worker entries (in `src/bin/test-worker/queues.rs`).

use serde::{Deserialize, Serialize};

/// Arguments of the `produce` entry: puts `count` numbers from `first` on,
/// in order, into the queue of `Option<u64>` named `queue`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Produce {
    /// The queue.
    pub queue: String,
    /// The first number.
    pub first: u64,
    /// How many numbers.
    pub count: u64,
}

/// Arguments of the `consume` entry: takes numbers from the queue of
/// `Option<u64>` named `queue` until it takes `None`, and puts each number
/// it took into the queue of `(u32, u64)` named `results`, with its index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Consume {
    /// The queue to take from.
    pub queue: String,
    /// Where to report what it took.
    pub results: String,
    /// This consumer's index.
    pub index: u32,
}

/// Arguments of the `work_joinable` entry: waits for the event `gate`, then
/// takes numbers from the joinable queue of `Option<u64>` named `queue`
/// until it takes `None`; for each number adds 1 to the attribute `done` of
/// the namespace [`crate::SHARED`] and only then calls `task_done`. The
/// sentinel is marked done too.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkJoinable {
    /// The joinable queue.
    pub queue: String,
    /// The event to wait for before the first `task_done`.
    pub gate: String,
}

/// How a `get_when_parked` worker says that its `get` is parked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Announce {
    /// By waiting (and staying parked) in the barrier of that name, so that
    /// its death breaks the barrier: a witness that the manager has seen
    /// its connection close.
    WaitInBarrier(String),
    /// By setting the event of that name.
    SetEvent(String),
}

/// Arguments of the `get_when_parked` entry: sends a `get` on the queue of
/// `u64` named `queue`, makes sure the manager has parked it, says so as
/// `announce` says, then waits for the item and puts it into the queue of
/// `u64` named `results`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GetWhenParked {
    /// The queue to take from.
    pub queue: String,
    /// How to say that the `get` is parked.
    pub announce: Announce,
    /// Where to put the item it took.
    pub results: String,
    /// Take with `get_many(max)` instead of `get`, and put every item it
    /// took into `results`.
    pub many: Option<usize>,
}

/// Arguments of the `wait_for_event` entry: adds 1 to the attribute
/// `arrived` of the namespace [`crate::SHARED`], waits for the event
/// `event`, then puts its `index` into the queue of `u32` named `results`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WaitForEvent {
    /// The event.
    pub event: String,
    /// Where to report that it was released.
    pub results: String,
    /// This waiter's index.
    pub index: u32,
}

/// What a `barrier_wait` worker expects of its waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expect {
    /// To be released `rounds` times; each arrival index is reported.
    Released {
        /// How many rounds to wait through.
        rounds: u32,
    },
    /// To fail with `BrokenBarrier`, well before its own wait could end.
    Broken,
}

/// Arguments of the `barrier_wait` entry: waits at the barrier `barrier`
/// of `parties` parties, on a handle whose own timeout is far longer than
/// any test's deadline, and reports each arrival index into the queue of
/// `(u32, u64)` named `results` as `(index, arrival index)`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BarrierWait {
    /// The barrier.
    pub barrier: String,
    /// Its parties.
    pub parties: usize,
    /// Where to report arrival indices.
    pub results: String,
    /// This worker's index.
    pub index: u32,
    /// What its waits should do.
    pub expect: Expect,
}

/// What a `receive_and_hold` worker does with the item it received with a
/// receipt before it announces and waits to be killed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Holding {
    /// Nothing: it has read the reply and not started on the item.
    JustRead,
    /// Part of the work: adds the item to the attribute `partial` of the
    /// namespace [`crate::SHARED`].
    Working,
    /// All of it: acknowledges the item.
    Acknowledged,
}

/// Arguments of the `receive_and_hold` entry: receives one `u64` from the
/// joinable queue `queue` with a receipt, does what `holding` says, sets
/// the event `announce`, then waits (to be killed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiveAndHold {
    /// The joinable queue of `u64`.
    pub queue: String,
    /// How far it gets with the item.
    pub holding: Holding,
    /// The event it sets once there.
    pub announce: String,
}

/// Arguments of the `bulk_consume` entry: takes batches of `Option<u64>`
/// from `queue` with `get_many` until it takes `None`, and records each
/// batch's numbers with one `put_many` into the queue of `u64` `results`.
/// With `abandon`, every other take is an async `get_many` whose future is
/// dropped after a moment (its grant, if any, is given back by the
/// client).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkConsume {
    /// The queue to take from.
    pub queue: String,
    /// Where to record what it took.
    pub results: String,
    /// The most items per take.
    pub batch: usize,
    /// Drop some takes' futures.
    pub abandon: bool,
}

/// Arguments of the `bulk_produce` entry: puts `count` numbers from
/// `first` on as `Some(n)` into the queue of `Option<u64>` `queue`, with
/// `put_many` of `batch` at a time (waiting for room).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BulkProduce {
    /// The queue.
    pub queue: String,
    /// The first number.
    pub first: u64,
    /// How many.
    pub count: u64,
    /// Per `put_many`.
    pub batch: usize,
}
