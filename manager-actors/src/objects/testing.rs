//! Drives object actors from unit tests, with no sockets and no server
//! bridge: a real registry to create and remove objects in, and fake client
//! connections ([`Conn`]) that send request batches straight to an object's
//! mailbox and read the replies from their own reply channel.
//!
//! A [`Conn`] does what the bridge does for one connection: it counts each
//! batch it sends in the object's `sent` counter, gives every request an id,
//! and on [`Conn::close`] tells the objects it used that it has closed.
//! Dropping a `Conn` without closing it is a connection whose peer is gone
//! but whose objects have not been told yet.

use std::time::Duration;

use actix::{Actor, Addr};
use manager_core::inspect::ObjectReport;
use manager_core::reply::{RegistryReply, Reply, ReplyFrame};
use manager_core::request::{ObjectRequest, RegistryRequest, RequestId};
use manager_core::{ManagerError, ObjectName, ObjectSpec};
use tokio::sync::mpsc::error::TryRecvError;

use crate::object::{
    ConnectionClosed, ConnectionId, ObjectBatch, ObjectCall, ObjectHandle, ReplyQueue, ReplySink,
    ReportObject,
};
use crate::registry::{InspectObjects, RegistryActor, RegistryCall};

/// How long a test waits for a reply that must come.
const REPLY_DEADLINE: Duration = Duration::from_secs(10);

/// A registry to create objects in.
pub(crate) struct Harness {
    registry: Addr<RegistryActor>,
}

impl Harness {
    pub(crate) fn new() -> Self {
        Self::with_custom_types(crate::CustomTypes::new())
    }

    /// A harness whose registry also makes the types in `custom`.
    pub(crate) fn with_custom_types(custom: crate::CustomTypes) -> Self {
        Harness {
            registry: RegistryActor::with_custom_types(custom).start(),
        }
    }

    /// A harness holding one object, named `t`, made from `spec`.
    pub(crate) async fn start(spec: ObjectSpec) -> (Self, ObjectHandle) {
        let harness = Self::new();
        let object = harness.object("t", spec).await;
        (harness, object)
    }

    /// Creates the object `name` from `spec`.
    pub(crate) async fn object(&self, name: &str, spec: ObjectSpec) -> ObjectHandle {
        self.try_object(name, spec).await.unwrap()
    }

    /// Creates the object `name` from `spec`, or says why not.
    pub(crate) async fn try_object(
        &self,
        name: &str,
        spec: ObjectSpec,
    ) -> Result<ObjectHandle, ManagerError> {
        let outcome = self
            .registry
            .send(RegistryCall::new(RegistryRequest::CreateOrGet {
                name: ObjectName::new(name).unwrap().into(),
                spec,
            }))
            .await
            .expect("the registry is running");
        match outcome.reply {
            Ok(RegistryReply::Object(_)) => Ok(outcome.handle.unwrap()),
            Ok(other) => panic!("a create answered {other:?}"),
            Err(e) => Err(e),
        }
    }

    /// Sends one request to the registry and returns its answer.
    pub(crate) async fn registry(
        &self,
        request: RegistryRequest,
    ) -> Result<RegistryReply, ManagerError> {
        self.registry
            .send(RegistryCall::new(request))
            .await
            .expect("the registry is running")
            .reply
    }

    /// Every object's report, as an inspection gathers them.
    pub(crate) async fn inspect(&self) -> Vec<ObjectReport> {
        self.registry
            .send(InspectObjects {
                timeout: REPLY_DEADLINE,
            })
            .await
            .unwrap()
    }

    /// Removes the object `name`, and returns once the object has handled
    /// its removal (so its parked requests are already answered).
    pub(crate) async fn remove(&self, name: &str) {
        let name = ObjectName::new(name).unwrap();
        let lookup = self
            .registry
            .send(RegistryCall::new(RegistryRequest::Lookup {
                name: name.clone().into(),
            }))
            .await
            .unwrap();
        let object = lookup.handle.expect("the object to remove exists");
        let outcome = self
            .registry
            .send(RegistryCall::new(RegistryRequest::Remove {
                name: name.into(),
            }))
            .await
            .unwrap();
        assert_eq!(outcome.reply, Ok(RegistryReply::Removed(true)));
        // The registry has queued the stop in the object's mailbox; a report
        // asked for now is answered after it, or dropped unanswered once the
        // actor has stopped. Either way the stop has been handled.
        let _ = object.report.send(ReportObject).await;
    }
}

/// One fake client connection: its id and the replies sent to it.
pub(crate) struct Conn {
    id: ConnectionId,
    sink: ReplySink,
    replies: ReplyQueue,
    next: u64,
}

impl Conn {
    pub(crate) fn new(id: u64) -> Self {
        let (sink, replies) = ReplySink::new();
        Conn {
            id: ConnectionId(id),
            sink,
            replies,
            next: 1,
        }
    }

    /// A connection whose sink refuses replies over `bytes` encoded.
    pub(crate) fn with_max_reply(id: u64, bytes: usize) -> Self {
        let mut conn = Conn::new(id);
        conn.sink = conn.sink.with_max_reply(bytes);
        conn
    }

    /// A connection that may have at most `max` requests parked.
    pub(crate) fn with_max_parked(id: u64, max: usize) -> Self {
        let mut conn = Conn::new(id);
        conn.sink = conn.sink.with_max_parked(max);
        conn
    }

    /// The connection's reply sink, to read its counts.
    pub(crate) fn sink(&self) -> &ReplySink {
        &self.sink
    }

    /// Sends `op` to `object` and returns once the object has handled it
    /// (so an immediate reply is already waiting).
    pub(crate) async fn send(&mut self, object: &ObjectHandle, op: ObjectRequest) -> RequestId {
        let id = RequestId(self.next);
        self.next += 1;
        // Counted as the bridge counts it.
        object.stats.add_sent(1);
        object
            .mailbox
            .send(ObjectBatch {
                connection: self.id,
                calls: vec![ObjectCall {
                    id,
                    op,
                    bulk: false,
                }],
                replies: self.sink.clone(),
                read_at: std::time::Instant::now(),
            })
            .await
            .unwrap();
        id
    }

    /// Sends `ops` to `object` as one batch, as one socket read may bring
    /// them, and returns once the object has handled them all.
    pub(crate) async fn send_batch(
        &mut self,
        object: &ObjectHandle,
        ops: Vec<ObjectRequest>,
    ) -> Vec<RequestId> {
        let calls: Vec<_> = ops
            .into_iter()
            .map(|op| {
                let id = RequestId(self.next);
                self.next += 1;
                ObjectCall {
                    id,
                    op,
                    bulk: false,
                }
            })
            .collect();
        let ids = calls.iter().map(|call| call.id).collect();
        object.stats.add_sent(calls.len() as u64);
        object
            .mailbox
            .send(ObjectBatch {
                connection: self.id,
                calls,
                replies: self.sink.clone(),
                read_at: std::time::Instant::now(),
            })
            .await
            .unwrap();
        ids
    }

    /// Sends `op` and returns its reply, which must come at once.
    pub(crate) async fn call(
        &mut self,
        object: &ObjectHandle,
        op: ObjectRequest,
    ) -> Result<Reply, ManagerError> {
        let id = self.send(object, op).await;
        self.now(id)
    }

    /// The next reply, waiting for it (a parked request answered later).
    pub(crate) async fn next(&mut self) -> ReplyFrame {
        tokio::time::timeout(REPLY_DEADLINE, self.replies.recv())
            .await
            .expect("a reply within the deadline")
            .expect("the sink is open")
            .deliver()
    }

    /// A reply already sent, if any.
    pub(crate) fn ready(&mut self) -> Option<ReplyFrame> {
        match self.replies.try_recv() {
            Ok(reply) => Some(reply.deliver()),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => panic!("the sink closed"),
        }
    }

    /// The reply to `id`, which must already be there and be the next one.
    pub(crate) fn now(&mut self, id: RequestId) -> Result<Reply, ManagerError> {
        let frame = self
            .replies
            .try_recv()
            .unwrap_or_else(|e| panic!("no reply to {id:?}: {e}"))
            .deliver();
        assert_eq!(frame.id, id, "replies out of order");
        frame.result
    }

    /// The reply to `id`, waiting for it (a timer's); it must be the next
    /// one.
    pub(crate) async fn later(&mut self, id: RequestId) -> Result<Reply, ManagerError> {
        let frame = tokio::time::timeout(REPLY_DEADLINE, self.replies.recv())
            .await
            .unwrap_or_else(|_| panic!("no reply to {id:?} within {REPLY_DEADLINE:?}"))
            .expect("sink open")
            .deliver();
        assert_eq!(frame.id, id, "replies out of order");
        frame.result
    }

    /// Asserts that nothing has been answered on this connection.
    pub(crate) fn nothing(&mut self) {
        match self.replies.try_recv() {
            Err(TryRecvError::Empty) => {}
            other => panic!("expected no reply, got {other:?}"),
        }
    }

    /// Closes the connection: its replies have no reader any more, and
    /// `objects` are told, as the bridge does.
    pub(crate) async fn close(self, objects: &[&ObjectHandle]) {
        let Conn { id, replies, .. } = self;
        drop(replies);
        for object in objects {
            object.closed.send(ConnectionClosed(id)).await.unwrap();
        }
    }
}

/// `n` as a stored value.
pub(crate) fn int(n: i64) -> manager_core::Encoded {
    manager_core::Encoded::encode(&n).unwrap()
}

/// Sends `call` on `conn` and checks that its successful reply has the
/// call's reply type: a state that answered another shape would make a
/// proxy fail with a protocol error; this finds it first.
pub(crate) async fn ask<R: manager_core::reply::ReplyShape>(
    conn: &mut Conn,
    object: &ObjectHandle,
    call: manager_core::request::Call<R>,
) -> R {
    let what = format!("{call:?}");
    // Answered now or, for a wait that ends at once, by the object's timer.
    let id = conn.send(object, call.into_request()).await;
    let reply = conn
        .later(id)
        .await
        .unwrap_or_else(|e| panic!("{what} failed: {e}"));
    R::from_reply(reply).unwrap_or_else(|other| panic!("{what} answered {other:?}"))
}
