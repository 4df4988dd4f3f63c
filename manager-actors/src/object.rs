//! What every object actor shares: the batch message that carries requests
//! to it, who made each request ([`Caller`]), and its counters. Where the
//! replies go is [`crate::reply`].
//!
//! # Batches
//!
//! The server bridge reads whatever frames one wakeup brings and sends each
//! object the requests meant for it as one [`ObjectBatch`], in the order they
//! arrived. The actor applies them in that order and sends each reply straight
//! to the connection's [`ReplySink`], so the bridge pays one mailbox hop per
//! batch, not per request.
//!
//! # Backpressure
//!
//! Object mailboxes are bounded ([`MAILBOX_CAPACITY`] batches). A sender
//! that finds a mailbox full waits for room; nothing is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use actix::{Message, Recipient};
use manager_core::inspect::{Latency, ObjectDetail, UnixMillis};
use manager_core::reply::Reply;
use manager_core::request::{ObjectRequest, RequestId};
use manager_core::{ManagerError, ObjectId, ObjectKind};

use crate::reply::{GiveBack, Outgoing, ParkedSlot, Undelivered};
pub use crate::reply::{ReplyQueue, ReplySink};

/// How many batches an object's mailbox holds before senders wait.
pub const MAILBOX_CAPACITY: usize = 256;

/// One request for an object, with the id its reply must carry.
#[derive(Debug)]
pub struct ObjectCall {
    /// Echoed in the reply.
    pub id: RequestId,
    /// The operation.
    pub op: ObjectRequest,
    /// Whether it is the connection's bulk request under way: its reply is
    /// sent marked ([`ReplySink::send_marked`]).
    pub bulk: bool,
}

/// The bridge's number for one client connection: who holds a lock, whose
/// waiters to drop when it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

impl std::fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "connection {}", self.0)
    }
}

/// Requests for one object from one connection, applied in order.
#[derive(Debug)]
pub struct ObjectBatch {
    /// The connection they came on.
    pub connection: ConnectionId,
    /// The requests, in the order the client sent them.
    pub calls: Vec<ObjectCall>,
    /// Where the replies go.
    pub replies: ReplySink,
    /// When the bridge read them: the start of the object's latency
    /// ([`ObjectReport::latency`](manager_core::inspect::ObjectReport::latency)).
    pub read_at: Instant,
}

/// Tells an object that a connection has closed: what its owners held is
/// released and its parked requests are dropped. The bridge sends it, after
/// the connection's last batch, to every object the connection used.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionClosed(pub ConnectionId);

impl Message for ConnectionClosed {
    type Result = ();
}

/// Who made one request and where its reply goes. Every request gets
/// exactly one reply through its caller, now or (for a parked request)
/// later.
///
/// A caller whose request may take something (see
/// [`ObjectState::gives_back`](crate::actor::ObjectState::gives_back))
/// carries a [`GiveBack`]: its successful reply is sent as a hand-off,
/// given back to the object if it is not delivered.
///
/// A parked request's caller holds its place in the connection's count of
/// parked requests ([`ReplySink::max_parked`]) until it is answered or
/// dropped, so the count goes down however the request leaves.
#[derive(Debug)]
pub struct Caller {
    /// The connection it came on.
    pub connection: ConnectionId,
    /// Its id, echoed in the reply.
    pub id: RequestId,
    /// The connection's reply sink.
    pub replies: ReplySink,
    give_back: Option<GiveBack>,
    /// Its place among the connection's parked requests, once parked.
    parked: Option<ParkedSlot>,
    /// Whether the manager itself makes the request ([`Caller::internal`]).
    internal: bool,
    /// Whether its reply ends the connection's bulk request under way.
    bulk: bool,
}

impl Caller {
    /// A caller whose reply hands nothing over.
    pub fn new(connection: ConnectionId, id: RequestId, replies: ReplySink) -> Self {
        Caller {
            connection,
            id,
            replies,
            give_back: None,
            parked: None,
            internal: false,
            bulk: false,
        }
    }

    /// This caller, its reply marked as the answer to the connection's bulk
    /// request under way ([`ReplySink::send_marked`]).
    pub fn answering_bulk(mut self, bulk: bool) -> Self {
        self.bulk = bulk;
        self
    }

    /// A caller of the manager itself, whose reply goes nowhere: for a
    /// request the manager makes on `connection`'s behalf (a give-back).
    pub fn internal(connection: ConnectionId) -> Self {
        Caller {
            internal: true,
            ..Caller::new(connection, RequestId(0), ReplySink::discard())
        }
    }

    /// Whether the manager itself makes this request, on a connection's
    /// behalf ([`Caller::internal`]), rather than a client.
    pub fn is_internal(&self) -> bool {
        self.internal
    }

    /// This caller, its successful reply given back to `object` through
    /// [`Undelivered`] (with `request`, if given) if it is not delivered.
    pub fn giving_back_to(
        mut self,
        object: Recipient<Undelivered>,
        request: Option<ObjectRequest>,
    ) -> Self {
        self.give_back = Some(GiveBack {
            object,
            connection: self.connection,
            request,
        });
        self
    }

    /// Counts this caller among its connection's parked requests, unless
    /// it is already (a request moving between an object's waiters).
    ///
    /// # Errors
    ///
    /// [`ManagerError::LimitReached`] if its connection has as many parked
    /// requests as it may.
    pub(crate) fn hold_parked_slot(&mut self) -> Result<(), ManagerError> {
        if self.parked.is_none() {
            self.parked = Some(self.replies.park_slot()?);
        }
        Ok(())
    }

    /// Sends the reply.
    pub fn reply(mut self, result: Result<Reply, ManagerError>) {
        // Leaves the parked count first: a client that has its answer may
        // park another request at once, on this object or another.
        self.parked = None;
        match (self.give_back, result) {
            (Some(give_back), Ok(reply)) => self
                .replies
                .send_outgoing(Outgoing::handing_over(self.id, reply, give_back)),
            (_, result) => self.replies.send_marked(self.id, result, self.bulk),
        }
    }

    /// Whether the caller's connection has gone (its reply would be lost).
    pub fn is_gone(&self) -> bool {
        self.replies.is_closed()
    }
}

impl Message for ObjectBatch {
    type Result = ();
}

/// Asks an object actor to stop; sent by the registry when the object is
/// removed.
#[derive(Debug)]
pub struct StopObject;

impl Message for StopObject {
    type Result = ();
}

/// Counters an object actor keeps and the registry reads without asking it.
///
/// The bridge counts requests it sends ([`ObjectStats::add_sent`]) and the
/// actor those it takes ([`ObjectStats::took_batch`]), so the requests still
/// in the mailbox are the difference, known without asking the actor. Every
/// update is one relaxed atomic operation, per batch, not per request.
#[derive(Debug)]
pub struct ObjectStats {
    sent: AtomicU64,
    handled: AtomicU64,
    /// [`UnixMillis`] of the last batch taken; 0 if none yet.
    last_operation: AtomicU64,
    created_at: UnixMillis,
}

impl Default for ObjectStats {
    fn default() -> Self {
        ObjectStats::new()
    }
}

impl ObjectStats {
    /// Counters of an object created now.
    pub fn new() -> Self {
        ObjectStats {
            sent: AtomicU64::new(0),
            handled: AtomicU64::new(0),
            last_operation: AtomicU64::new(0),
            created_at: UnixMillis::now(),
        }
    }

    /// Counts `n` more requests sent to the object's mailbox.
    pub fn add_sent(&self, n: u64) {
        self.sent.fetch_add(n, Ordering::Relaxed);
    }

    /// Takes back `n` requests counted as sent that never reached the
    /// mailbox (the actor had stopped).
    pub fn sub_sent(&self, n: u64) {
        self.sent.fetch_sub(n, Ordering::Relaxed);
    }

    /// Counts `n` more handled requests.
    pub fn add_handled(&self, n: u64) {
        self.handled.fetch_add(n, Ordering::Relaxed);
    }

    /// Counts a batch of `n` requests taken from the mailbox now.
    pub fn took_batch(&self, n: u64) {
        self.add_handled(n);
        self.last_operation
            .store(UnixMillis::now().0, Ordering::Relaxed);
    }

    /// Requests handled so far.
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// Requests sent and not yet taken from the mailbox.
    pub fn in_mailbox(&self) -> u64 {
        let handled = self.handled();
        self.sent.load(Ordering::Relaxed).saturating_sub(handled)
    }

    /// When the object took its last batch; `None` if never.
    pub fn last_operation(&self) -> Option<UnixMillis> {
        match self.last_operation.load(Ordering::Relaxed) {
            0 => None,
            millis => Some(UnixMillis(millis)),
        }
    }

    /// When the object was created.
    pub fn created_at(&self) -> UnixMillis {
        self.created_at
    }
}

/// Asks an object actor for its [`ObjectDetail`] and [`Latency`]; sent by
/// the registry for an inspection. Answered after the batches already in
/// the mailbox.
#[derive(Debug, Clone, Copy)]
pub struct ReportObject;

impl Message for ReportObject {
    type Result = (ObjectDetail, Latency);
}

/// How the bridge reaches one object: its id, kind and mailbox.
#[derive(Debug, Clone)]
pub struct ObjectHandle {
    /// The object's id.
    pub id: ObjectId,
    /// The object's kind.
    pub kind: ObjectKind,
    /// The object's mailbox for request batches.
    pub mailbox: Recipient<ObjectBatch>,
    /// The same mailbox, for connection-closed notices.
    pub closed: Recipient<ConnectionClosed>,
    /// The same mailbox, for inspection reports.
    pub report: Recipient<ReportObject>,
    /// The object's counters; the bridge counts what it sends.
    pub stats: SharedStats,
}

/// Counters shared between an actor and the registry.
pub type SharedStats = Arc<ObjectStats>;
