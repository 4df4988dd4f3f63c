//! Where an object's replies go ([`ReplySink`], drained by the connection's
//! writer through [`ReplyQueue`]), and how a reply that hands something
//! over is given back when it cannot be delivered.
//!
//! # Hand-offs
//!
//! Some replies hand the caller something the object no longer holds: a
//! queue item, a semaphore unit, a lock or a condition's lock and notify.
//! Such a reply travels as an [`Outgoing`] that carries its *give-back*: the
//! object to tell and the request it answered. Until the writer has put
//! every byte of it into the socket ([`Outgoing::deliver`]), the reply is
//! not delivered, and dropping it undelivered, wherever that happens (the
//! sink finds the connection gone, the writer's queue is dropped with it
//! inside, a write fails half-way, the writer finds the peer has hung up,
//! the writer task is aborted), sends the object an [`Undelivered`]
//! message. The object gives the thing back exactly as a client gives back
//! a grant that came after it stopped waiting (see
//! [`ObjectRequest::undo_for`]): the item returns to the front of its queue,
//! the unit or the lock is released, the notify passes to another waiter.
//!
//! # What counts as delivered
//!
//! A reply is delivered once the kernel has taken all of its bytes for the
//! peer's socket. On a Unix socket a write to a peer that has closed fails,
//! so a reply to a process that died before it was written comes back. A
//! process that dies after its reply was written, but before it read it,
//! loses what it held (its socket buffer goes with it): the manager cannot
//! tell that apart from a process that read the reply and then died. On
//! TCP the writer also checks, before each write that hands something
//! over, whether the peer has hung up ([`PeerCheck`]); a write can still
//! succeed into the buffer of a peer that has died but whose close has not
//! reached this host, and then what it handed over is lost.
//!
//! # Backpressure
//!
//! Sending never blocks; the sink counts replies sent but not yet written,
//! and their encoded bytes, so the bridge can stop reading a connection
//! whose client does not read its replies ([`ReplySink::wait_for_room`]).
//!
//! A connection has at most one reply of a bulk request (a snapshot, keys,
//! a listing: see
//! [`ObjectRequest::replies_in_bulk`](manager_core::request::ObjectRequest::replies_in_bulk))
//! under way at a time ([`ReplySink::begin_bulk`]). Such a reply is the one
//! kind that may be larger than a frame: the sink takes it whole and the
//! writer sends it in parts
//! ([`manager_core::reply::parts`]).
//!
//! # Parked requests
//!
//! Parked requests owe no reply yet, so they do not hold the reader back;
//! instead the sink counts them, across every object the connection uses,
//! and caps them ([`ReplySink::with_max_parked`]). An object parks a request
//! only with a slot of that count, which the request's
//! [`Caller`](crate::object::Caller) holds until it is answered or
//! dropped; a request that finds every slot taken is refused with
//! [`ManagerError::LimitReached`] (see
//! [`Waiters::park`](crate::waiters::Waiters::park)).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use actix::{Message, Recipient};
use manager_core::reply::{Reply, ReplyFrame};
use manager_core::request::{ObjectRequest, RequestId};
use manager_core::{ManagerError, codec};
use tokio::sync::{Notify, mpsc};

use crate::object::ConnectionId;

/// Tells an object that a reply which handed something over was not
/// delivered, so it gives that back. Sent by [`Outgoing`]'s drop.
#[derive(Debug)]
pub struct Undelivered {
    /// The connection the reply was for.
    pub connection: ConnectionId,
    /// The request the reply answered, if the object asked to keep it
    /// ([`GiveBackNeeds::RequestAndReply`]).
    pub request: Option<ObjectRequest>,
    /// The reply, with what it handed over.
    pub reply: Reply,
}

/// What an object needs to give back what a reply handed over, should the
/// reply not be delivered; see
/// [`ObjectState::gives_back`](crate::actor::ObjectState::gives_back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveBackNeeds {
    /// The reply hands nothing over.
    Nothing,
    /// The reply alone says what to give back.
    Reply,
    /// The request is needed too (to know who held what).
    RequestAndReply,
}

impl Message for Undelivered {
    type Result = ();
}

/// Where a hand-off goes back to if its reply is not delivered.
#[derive(Debug)]
pub struct GiveBack {
    /// The object that handed it over.
    pub object: Recipient<Undelivered>,
    /// The connection it was handed to.
    pub connection: ConnectionId,
    /// The request it answered, if the object needs it.
    pub request: Option<ObjectRequest>,
}

/// One reply on its way to a connection's writer.
///
/// A reply that hands something over carries its [`GiveBack`]: dropped
/// before [`Outgoing::deliver`] is called, it sends the object
/// [`Undelivered`].
#[derive(Debug)]
pub struct Outgoing {
    frame: ReplyFrame,
    /// Boxed: most replies hand nothing over, and every reply is moved
    /// through the connection's queue.
    give_back: Option<Box<GiveBack>>,
    /// The frame's encoded size with its header, counted when it is sent.
    size: usize,
    /// Whether it answers the connection's bulk request under way
    /// ([`ReplySink::begin_bulk`]): writing it ends that.
    bulk: bool,
}

impl Outgoing {
    /// A reply that hands nothing over.
    pub fn plain(id: RequestId, result: Result<Reply, ManagerError>) -> Self {
        Outgoing {
            frame: ReplyFrame { id, result },
            give_back: None,
            size: 0,
            bulk: false,
        }
    }

    /// A reply that hands something over, given back through `give_back`
    /// unless delivered.
    pub fn handing_over(id: RequestId, reply: Reply, give_back: GiveBack) -> Self {
        Outgoing {
            frame: ReplyFrame {
                id,
                result: Ok(reply),
            },
            give_back: Some(Box::new(give_back)),
            size: 0,
            bulk: false,
        }
    }

    /// The reply, to encode.
    pub fn frame(&self) -> &ReplyFrame {
        &self.frame
    }

    /// Whether dropping this reply undelivered gives something back.
    pub fn hands_over(&self) -> bool {
        self.give_back.is_some()
    }

    /// Whether it answers the connection's bulk request under way: once it
    /// is written, the next may begin (see [`ReplySink::begin_bulk`]).
    pub fn is_bulk(&self) -> bool {
        self.bulk
    }

    /// The reply's encoded size in bytes, frame header included, as the
    /// sink counted it (0 before it was sent through a sink).
    pub fn size(&self) -> usize {
        self.size
    }

    /// The reply has reached its peer: nothing is to be given back.
    /// Returns the frame.
    pub fn deliver(mut self) -> ReplyFrame {
        self.give_back = None;
        let result = std::mem::replace(&mut self.frame.result, Ok(Reply::Done));
        ReplyFrame {
            id: self.frame.id,
            result,
        }
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        let Some(give_back) = self.give_back.take() else {
            return;
        };
        let Ok(reply) = std::mem::replace(&mut self.frame.result, Ok(Reply::Done)) else {
            return;
        };
        tracing::debug!(
            connection = %give_back.connection,
            request = ?self.frame.id,
            "reply not delivered; what it handed over goes back"
        );
        // One message per undelivered hand-off, which the object must not
        // miss; an object that has stopped has nothing to give back to.
        give_back.object.do_send(Undelivered {
            connection: give_back.connection,
            request: give_back.request,
            reply,
        });
    }
}

/// Tells whether a connection's peer has hung up, where the socket can
/// tell before anything is read from it.
pub trait PeerCheck: std::fmt::Debug + Send + Sync {
    /// Whether the peer has closed its end (or the connection is over).
    fn hung_up(&self) -> bool;
}

/// Where an actor sends the replies of one connection.
///
/// Sending never blocks. A reply that finds the connection gone is dropped,
/// and if it handed something over, that is given back (see the module
/// docs).
#[derive(Debug, Clone)]
pub struct ReplySink {
    /// One reference for all of it: every call an object handles holds a
    /// clone of its connection's sink.
    inner: Arc<SinkShared>,
}

/// What the clones of a [`ReplySink`] share.
#[derive(Debug, Clone)]
struct SinkShared {
    tx: mpsc::UnboundedSender<Outgoing>,
    backlog: Arc<Backlog>,
    /// The largest reply it takes, encoded, without its frame header.
    max_reply: usize,
    /// The most requests of its connection that may be parked at once.
    max_parked: usize,
}

/// Bytes of a frame's length header (as the bridge frames replies).
const FRAME_HEADER: usize = 4;

#[derive(Debug, Default)]
struct Backlog {
    /// Replies sent and not yet written.
    queued: AtomicUsize,
    /// The encoded bytes of the replies in `queued`.
    bytes: AtomicUsize,
    /// Requests of this connection parked in objects.
    parked: AtomicUsize,
    /// Set once a request of this connection was refused for the cap.
    parked_refused: AtomicBool,
    /// Set while the reply of a bulk request is not yet written; see
    /// [`ReplySink::begin_bulk`].
    bulk_under_way: AtomicBool,
    /// Set when the writer has stopped for good.
    closed: AtomicBool,
    /// Woken when replies are written or the writer stops.
    changed: Notify,
    /// Asks the socket whether the peer has hung up; `None` where there is
    /// no socket (tests, internal callers).
    peer: Option<Arc<dyn PeerCheck>>,
}

impl Backlog {
    fn peer_hung_up(&self) -> bool {
        self.peer.as_ref().is_some_and(|p| p.hung_up())
    }
}

impl ReplySink {
    /// A sink and the queue the connection's writer drains.
    pub fn new() -> (Self, ReplyQueue) {
        Self::build(None)
    }

    /// A sink whose [`ReplySink::is_closed`] also asks `peer`.
    pub fn with_peer_check(peer: Arc<dyn PeerCheck>) -> (Self, ReplyQueue) {
        Self::build(Some(peer))
    }

    fn build(peer: Option<Arc<dyn PeerCheck>>) -> (Self, ReplyQueue) {
        let (tx, rx) = mpsc::unbounded_channel();
        let backlog = Arc::new(Backlog {
            peer,
            ..Backlog::default()
        });
        (
            ReplySink {
                inner: Arc::new(SinkShared {
                    tx,
                    backlog: backlog.clone(),
                    max_reply: usize::MAX,
                    max_parked: usize::MAX,
                }),
            },
            ReplyQueue { rx, backlog },
        )
    }

    /// Refuses replies over `bytes` encoded (the frame limit plus its
    /// headroom): such a reply is replaced by
    /// [`ManagerError::ReplyTooLarge`] when it is sent, before it is queued
    /// or encoded, and what it handed over is given back. Lists
    /// ([`Reply::comes_in_parts`]) are taken whatever their size: the
    /// writer sends them in parts.
    pub fn with_max_reply(mut self, bytes: usize) -> Self {
        Arc::make_mut(&mut self.inner).max_reply = bytes;
        self
    }

    /// The largest reply this connection takes whole, encoded
    /// ([`ReplySink::with_max_reply`]; unlimited by default): an object
    /// that chooses how much to answer (a bulk get) stays under it.
    pub fn max_reply(&self) -> usize {
        self.inner.max_reply
    }

    /// Caps the requests of this connection that may be parked at once,
    /// across all objects, at `max`; without a cap (the default), any
    /// number may be. A request that would park past it is refused with
    /// [`ManagerError::LimitReached`] (see
    /// [`Waiters::park`](crate::waiters::Waiters::park)).
    pub fn with_max_parked(mut self, max: usize) -> Self {
        Arc::make_mut(&mut self.inner).max_parked = max;
        self
    }

    /// A sink whose replies go nowhere, for requests the manager makes of
    /// itself (a give-back); nothing sent to it is given back.
    pub fn discard() -> Self {
        ReplySink::new().0
    }

    /// Sends the outcome of request `id`.
    pub fn send(&self, id: RequestId, result: Result<Reply, ManagerError>) {
        self.send_outgoing(Outgoing::plain(id, result));
    }

    /// Sends the outcome of request `id`, with `bulk` if it answers the
    /// connection's bulk request under way ([`ReplySink::begin_bulk`]).
    /// The mark goes with the reply, not with its id: a client may give
    /// two requests the same id, and only this reply's writing ends the
    /// bulk request.
    pub fn send_marked(&self, id: RequestId, result: Result<Reply, ManagerError>, bulk: bool) {
        let mut reply = Outgoing::plain(id, result);
        reply.bulk = bulk;
        self.send_outgoing(reply);
    }

    /// Sends a reply; if the connection has gone, the reply is dropped
    /// undelivered (and gives back what it handed over).
    pub fn send_outgoing(&self, mut reply: Outgoing) {
        // Small replies, most of them, are counted by a bound, without a
        // pass of the encoder (the writer still refuses one that comes out
        // larger than a frame). A reply that cannot be encoded is answered
        // with a short error by the writer; it counts as a header's worth.
        let len = match codec::reply_len_bound(&reply.frame) {
            Some(bound) if bound <= self.inner.max_reply => bound,
            _ => codec::encoded_len(&reply.frame).unwrap_or(0),
        };
        // A list too long for one frame goes in parts (the writer cuts it,
        // see `manager_core::reply::parts`); a list never hands over.
        let in_parts = reply.give_back.is_none()
            && reply.frame.result.as_ref().is_ok_and(Reply::comes_in_parts);
        if len > self.inner.max_reply && !in_parts {
            // Refused before it is queued or encoded; dropping it gives
            // back what it handed over.
            let mut refusal = Outgoing::plain(
                reply.frame.id,
                Err(ManagerError::ReplyTooLarge {
                    size: len,
                    max: self.inner.max_reply,
                }),
            );
            refusal.bulk = reply.bulk;
            drop(reply);
            reply = refusal;
            return self.send_outgoing(reply);
        }
        reply.size = FRAME_HEADER + len;
        let size = reply.size;
        self.inner.backlog.queued.fetch_add(1, Ordering::Relaxed);
        self.inner.backlog.bytes.fetch_add(size, Ordering::Relaxed);
        if let Err(returned) = self.inner.tx.send(reply) {
            // The connection is gone; the reply has no reader.
            self.inner.backlog.queued.fetch_sub(1, Ordering::Relaxed);
            self.inner.backlog.bytes.fetch_sub(size, Ordering::Relaxed);
            drop(returned);
        }
    }

    /// Completes once the connection's writer has stopped for good (the
    /// connection ended, however its process did): what an object that
    /// tracks holders waits on, independently of the notices a closed
    /// connection sends to the objects it used.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn closed(&self) {
        self.inner.tx.closed().await;
    }

    /// Whether the connection behind this sink has gone: its writer has
    /// stopped, or its peer has hung up.
    pub fn is_closed(&self) -> bool {
        self.inner.tx.is_closed() || self.inner.backlog.peer_hung_up()
    }

    /// The most requests of this connection that may be parked at once
    /// (`usize::MAX` without a cap; see [`ReplySink::with_max_parked`]).
    pub fn max_parked(&self) -> usize {
        self.inner.max_parked
    }

    /// Records that a request of this connection was refused for the
    /// parked cap; `true` the first time only, so the log says it once per
    /// connection, not once per refusal.
    pub fn first_parked_refusal(&self) -> bool {
        !self
            .inner
            .backlog
            .parked_refused
            .swap(true, Ordering::AcqRel)
    }

    /// How many requests of this connection are parked now.
    pub fn parked(&self) -> usize {
        self.inner.backlog.parked.load(Ordering::Acquire)
    }

    /// A slot for one more parked request of this connection, given back
    /// when it is dropped.
    ///
    /// # Errors
    ///
    /// [`ManagerError::LimitReached`] if [`ReplySink::max_parked`] requests
    /// are parked already.
    pub(crate) fn park_slot(&self) -> Result<ParkedSlot, ManagerError> {
        let max = self.max_parked();
        self.inner
            .backlog
            .parked
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map_err(|_| ManagerError::LimitReached {
                what: "parked requests on this connection".into(),
                max: max as u64,
            })?;
        Ok(ParkedSlot {
            backlog: self.inner.backlog.clone(),
        })
    }

    /// Waits until fewer than `replies` replies, of fewer than `bytes`
    /// bytes in all, wait to be written. Returns `false` if the writer has
    /// stopped (the connection is over).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn wait_for_room(&self, replies: usize, bytes: usize) -> bool {
        loop {
            let changed = self.inner.backlog.changed.notified();
            if self.inner.backlog.closed.load(Ordering::Acquire) {
                return false;
            }
            if !self.is_full(replies, bytes) {
                return true;
            }
            changed.await;
        }
    }

    /// Waits until no reply of a bulk request of this connection is under
    /// way, then marks one as under way until the writer has written the
    /// reply sent with the bulk mark ([`ReplySink::send_marked`],
    /// [`Outgoing::is_bulk`], [`ReplyQueue::written`]). Returns `false` if
    /// the writer has stopped (the connection is over).
    ///
    /// A bulk reply (a snapshot, keys, a listing) may hold as much as the
    /// object it was taken from; one at a time per connection keeps what a
    /// client that does not read its replies can make the manager hold to
    /// one such reply and the byte budget. Every bulk request must be
    /// answered with the mark, whatever its outcome, or the connection is
    /// read no more.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the mark is set only when it returns `true`.
    pub async fn begin_bulk(&self) -> bool {
        loop {
            let changed = self.inner.backlog.changed.notified();
            if self.inner.backlog.closed.load(Ordering::Acquire) {
                return false;
            }
            if self
                .inner
                .backlog
                .bulk_under_way
                .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                return true;
            }
            changed.await;
        }
    }

    /// Whether `replies` or more replies, or `bytes` or more bytes of
    /// them, wait to be written.
    pub fn is_full(&self, replies: usize, bytes: usize) -> bool {
        self.inner.backlog.queued.load(Ordering::Acquire) >= replies
            || self.inner.backlog.bytes.load(Ordering::Acquire) >= bytes
    }

    /// Waits until every reply sent so far has been written, or the writer
    /// has stopped.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn wait_until_written(&self) {
        loop {
            let changed = self.inner.backlog.changed.notified();
            if self.inner.backlog.closed.load(Ordering::Acquire)
                || self.inner.backlog.queued.load(Ordering::Acquire) == 0
            {
                return;
            }
            changed.await;
        }
    }
}

/// One parked request's place in its connection's count of parked
/// requests ([`ReplySink::max_parked`]); dropping it frees the place.
#[derive(Debug)]
pub(crate) struct ParkedSlot {
    backlog: Arc<Backlog>,
}

impl Drop for ParkedSlot {
    fn drop(&mut self) {
        self.backlog.parked.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The receiving end of a [`ReplySink`], drained by the connection's writer.
///
/// Dropping it (the writer stopped, or was aborted) drops every reply still
/// queued undelivered, so what they handed over is given back.
#[derive(Debug)]
pub struct ReplyQueue {
    rx: mpsc::UnboundedReceiver<Outgoing>,
    backlog: Arc<Backlog>,
}

impl ReplyQueue {
    /// The next reply; `None` when every sink is gone.
    pub async fn recv(&mut self) -> Option<Outgoing> {
        self.rx.recv().await
    }

    /// The next reply if one is ready.
    ///
    /// # Errors
    ///
    /// `Empty` if none is ready, `Disconnected` if every sink is gone.
    pub fn try_recv(&mut self) -> Result<Outgoing, mpsc::error::TryRecvError> {
        self.rx.try_recv()
    }

    /// Whether the peer has hung up, if the sink was made with a
    /// [`PeerCheck`]; `false` otherwise.
    pub fn peer_hung_up(&self) -> bool {
        self.backlog.peer_hung_up()
    }

    /// Records that `n` replies of `bytes` bytes in all (their
    /// [`Outgoing::size`]s) have been written, and with `bulk` that the
    /// reply marked bulk ([`Outgoing::is_bulk`]) was among them.
    pub fn written(&self, n: usize, bytes: usize, bulk: bool) {
        self.backlog.queued.fetch_sub(n, Ordering::AcqRel);
        self.backlog.bytes.fetch_sub(bytes, Ordering::AcqRel);
        if bulk {
            self.backlog.bulk_under_way.store(false, Ordering::Release);
        }
        self.backlog.changed.notify_waiters();
    }
}

impl Drop for ReplyQueue {
    fn drop(&mut self) {
        // The writer has stopped: later sends fail (and give back), a
        // reader waiting for room wakes.
        self.backlog.closed.store(true, Ordering::Release);
        self.rx.close();
        while let Ok(reply) = self.rx.try_recv() {
            drop(reply);
        }
        self.backlog.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parked_slots_are_capped_and_come_back_when_dropped() {
        let (sink, _queue) = ReplySink::new();
        assert_eq!(sink.max_parked(), usize::MAX, "no cap by default");
        let sink = sink.with_max_parked(2);
        let first = sink.park_slot().unwrap();
        let other_clone = sink.clone();
        let second = other_clone.park_slot().unwrap();
        assert_eq!(sink.parked(), 2, "counted per connection, across clones");
        assert_eq!(
            sink.park_slot().unwrap_err(),
            ManagerError::LimitReached {
                what: "parked requests on this connection".into(),
                max: 2,
            }
        );
        assert_eq!(sink.parked(), 2, "a refusal takes no slot");
        drop(first);
        assert_eq!(sink.parked(), 1);
        let third = sink.park_slot().unwrap();
        drop((second, third));
        assert_eq!(sink.parked(), 0);
        // Another connection has its own count.
        let (another, _queue) = ReplySink::new();
        let another = another.with_max_parked(2);
        let _slots = (another.park_slot().unwrap(), another.park_slot().unwrap());
        assert!(sink.park_slot().is_ok());
    }

    /// Review: the writer ends "the bulk reply under way" on any reply
    /// whose id is the bulk request's id. A client may reuse ids (the
    /// manager does not refuse them), so the reply of another request with
    /// that id (a parked get, a request to another object sent in the same
    /// batch) ends it early, and the reader starts the next bulk request
    /// while the first bulk reply is still being gathered or queued: more
    /// than one bulk reply per connection (and, for `Inspect`, more than
    /// one inspection task at a time, which the removed semaphore used to
    /// prevent).
    #[actix::test]
    async fn a_reply_of_another_request_with_the_same_id_does_not_end_the_bulk() {
        use std::future::Future;
        use std::task::Poll;

        let (sink, mut queue) = ReplySink::new();
        let id = RequestId(7);
        assert!(sink.begin_bulk().await);
        // Another request of the client with id 7 (e.g. a get parked
        // before) is answered, and written, before the bulk reply is in.
        sink.send(id, Ok(Reply::Done));
        let reply = queue.recv().await.expect("queued");
        queue.written(1, reply.size(), reply.is_bulk());
        // Request 7's bulk reply was never written: a second bulk request
        // must still wait.
        let mut second = std::pin::pin!(sink.begin_bulk());
        let began =
            std::future::poll_fn(|cx| Poll::Ready(second.as_mut().poll(cx).is_ready())).await;
        assert!(
            !began,
            "a second bulk reply began while the first was still under way"
        );
    }
}
