//! [`Reader`]: reads a connection's frames and hands its requests to the
//! objects and the registry, in order, within the connection's limits.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use futures_util::future::join_all;
use manager_actors::registry::{RegistryCalls, ResolveId};
use manager_actors::threads::ThreadIndex;
use manager_actors::{ConnectionClosed, ConnectionId, ObjectBatch, ObjectCall, ReplySink};
use manager_core::reply::{RegistryReply, Reply};
use manager_core::request::{RegistryRequest, Request, RequestFrame, RequestId};
use manager_core::{ManagerError, ObjectId};
use tokio::io::AsyncRead;

use super::connection::decode_request;
use super::state::{ConnectionCounters, ServerState, take_snapshot};
use super::writer::NOTICE_WINDOW;
use crate::frame::{FrameBuffer, FrameError};
use crate::handles::Handles;
use crate::limits::{Limits, MAX_BATCH};

pub(super) struct Reader {
    pub(super) connection: ConnectionId,
    pub(super) buf: FrameBuffer,
    pub(super) sink: ReplySink,
    /// The backlog and frame limits among them.
    pub(super) limits: Limits,
    /// When the unfinished frame in `buf` began to arrive, if one has.
    pub(super) frame_began: Option<Instant>,
    pub(super) shared: Arc<ServerState>,
    pub(super) counters: Arc<ConnectionCounters>,
    /// Handles of the objects this connection has used.
    pub(super) handles: Handles,
    /// Object requests read but not yet sent, grouped by target in arrival
    /// order.
    pub(super) groups: Vec<(ObjectId, Vec<ObjectCall>)>,
    /// Registry requests read but not yet sent, in arrival order. Only one
    /// of this and `groups` holds anything at a time: each is sent before
    /// the other takes a request, which keeps the connection's order.
    pub(super) registry: Vec<(RequestId, RegistryRequest, bool)>,
    /// The manager thread this connection runs on, where the objects it
    /// creates start.
    pub(super) thread: ThreadIndex,
    /// When the requests being read arrived (the last read from the
    /// socket): where an object's latency starts.
    pub(super) read_at: Instant,
}

impl Reader {
    pub(super) async fn run<R: AsyncRead + Unpin>(&mut self, read: R) -> Result<(), FrameError> {
        let result = self.read_all(read).await;
        // Whatever was read before the end or the error is still applied.
        self.flush().await;
        result
    }

    /// Waits until the connection's backlog of unwritten replies has room;
    /// `false` if the connection is over.
    pub(super) async fn wait_for_room(&self) -> bool {
        self.sink
            .wait_for_room(self.limits.max_in_flight, self.limits.max_backlog_bytes)
            .await
    }

    /// How many requests to hand to the objects before looking at the
    /// backlog again: [`MAX_BATCH`], or one while it is over a quarter full.
    pub(super) fn batch_limit(&self) -> usize {
        let quarter = (
            self.limits.max_in_flight.div_ceil(4),
            self.limits.max_backlog_bytes.div_ceil(4),
        );
        if self.sink.is_full(quarter.0, quarter.1) {
            1
        } else {
            MAX_BATCH
        }
    }

    /// Reads once more from the socket; a frame under way must arrive
    /// whole within `frame_timeout` of its first bytes.
    pub(super) async fn fill<R: AsyncRead + Unpin>(
        &mut self,
        read: &mut R,
    ) -> Result<bool, FrameError> {
        if !self.buf.in_frame() {
            self.frame_began = None;
            return self.buf.fill(read).await;
        }
        let began = *self.frame_began.get_or_insert_with(Instant::now);
        let after = self.limits.frame_timeout;
        let deadline = tokio::time::Instant::from_std(began) + after;
        match tokio::time::timeout_at(deadline, self.buf.fill(read)).await {
            Ok(filled) => filled,
            Err(_) => Err(FrameError::Timeout {
                after,
                buffered: self.buf.buffered(),
            }),
        }
    }

    pub(super) async fn read_all<R: AsyncRead + Unpin>(
        &mut self,
        mut read: R,
    ) -> Result<(), FrameError> {
        loop {
            // A client that does not read its replies stops being read.
            // Parked requests owe no reply yet and do not count, so waiting
            // requests never keep the reader from seeing the client close.
            if !self.wait_for_room().await {
                return Ok(());
            }
            if !self.fill(&mut read).await? {
                return Ok(());
            }
            self.read_at = Instant::now();
            let mut read_now = 0;
            let mut undispatched = 0;
            while let Some(frame) = self.buf.next_frame()? {
                if undispatched >= self.batch_limit() {
                    // The replies of what was handed over are in the backlog
                    // once `dispatch` returns: look at it before going on.
                    self.flush().await;
                    undispatched = 0;
                    if !self.wait_for_room().await {
                        return Ok(());
                    }
                }
                undispatched += 1;
                let RequestFrame { id, request } = decode_request(frame).await?;
                // Counted before anything can await, so its reply is never
                // counted as written before the request as read.
                self.counters.read.fetch_add(1, Ordering::Relaxed);
                read_now += 1;
                let bulk = match &request {
                    Request::Object { op, .. } => op.replies_in_bulk(),
                    Request::Registry(registry) => registry.replies_in_bulk(),
                };
                if bulk {
                    // What came before goes first; then this waits until the
                    // connection's previous bulk reply has been written.
                    self.flush().await;
                    undispatched = 1;
                    if !self.sink.begin_bulk().await {
                        return Ok(());
                    }
                }
                match request {
                    Request::Object { target, op } => {
                        // Registry requests before it are answered first
                        // (it may use an object they create or remove).
                        self.send_registry().await;
                        let call = ObjectCall { id, op, bulk };
                        match self.groups.iter_mut().find(|(t, _)| *t == target) {
                            Some((_, calls)) => calls.push(call),
                            None => self.groups.push((target, vec![call])),
                        }
                    }
                    Request::Registry(RegistryRequest::Inspect) => {
                        // What came before is applied first; the snapshot is
                        // gathered by a task of its own, so a slow object
                        // does not hold up this connection.
                        self.flush().await;
                        self.inspect(id).await;
                    }
                    Request::Registry(request) => {
                        // Keep the connection's order: what came before this
                        // registry request reaches its objects first.
                        self.dispatch().await;
                        // At most a batch of them wait: the loop flushes
                        // every `batch_limit` requests.
                        self.registry.push((id, request, bulk));
                        if bulk {
                            self.send_registry().await;
                        }
                    }
                }
            }
            if read_now > 0 {
                // A frame was completed by this read, so the one under way now
                // (if any) began in it, not when an earlier frame began.
                self.frame_began = self.buf.in_frame().then_some(self.read_at);
            }
            self.shared.requests.fetch_add(read_now, Ordering::Relaxed);
            self.flush().await;
        }
    }

    /// Answers an `Inspect` request `id` from a task of its own (the
    /// reader made sure the connection's previous bulk reply, such as an
    /// earlier inspection, has been written).
    pub(super) async fn inspect(&self, id: RequestId) {
        let shared = self.shared.clone();
        let sink = self.sink.clone();
        let asker = self.connection.0;
        actix_rt::spawn(async move {
            let result = take_snapshot(&shared, asker)
                .await
                .map(|snapshot| Reply::Registry(RegistryReply::Snapshot(Box::new(snapshot))));
            // Inspections are bulk requests: this ends it.
            sink.send_marked(id, result, true);
        });
    }

    /// Sends what has been read and not yet sent: the pending registry
    /// requests, or the pending groups (only one of them holds anything).
    pub(super) async fn flush(&mut self) {
        self.send_registry().await;
        self.dispatch().await;
    }

    /// Sends the pending registry requests in one message and answers each
    /// once the registry has applied them all.
    async fn send_registry(&mut self) {
        if self.registry.is_empty() {
            return;
        }
        let mut ids = Vec::with_capacity(self.registry.len());
        let mut requests = Vec::with_capacity(self.registry.len());
        for (id, request, bulk) in std::mem::take(&mut self.registry) {
            ids.push((id, bulk));
            requests.push(request);
        }
        let calls = RegistryCalls {
            requests,
            from: Some(self.thread),
        };
        match self.shared.registry.send(calls).await {
            Ok(outcomes) => {
                debug_assert_eq!(outcomes.len(), ids.len(), "one outcome per request");
                let mut outcomes = outcomes.into_iter();
                for (id, bulk) in ids {
                    let Some(outcome) = outcomes.next() else {
                        // Cannot happen (the registry answers each request);
                        // if it did, no request is left without an answer.
                        self.sink
                            .send_marked(id, Err(ManagerError::ShuttingDown), bulk);
                        continue;
                    };
                    if let Some(handle) = outcome.handle {
                        self.handles.insert(handle);
                    }
                    if let Some(removed) = outcome.removed {
                        self.handles.remove(&removed);
                    }
                    self.sink
                        .send_marked(id, outcome.reply.map(Reply::Registry), bulk);
                }
            }
            Err(_) => {
                for (id, bulk) in ids {
                    self.sink
                        .send_marked(id, Err(ManagerError::ShuttingDown), bulk);
                }
            }
        }
    }

    /// Sends every pending group to its object and waits until each has been
    /// taken.
    pub(super) async fn dispatch(&mut self) {
        if self.groups.is_empty() {
            return;
        }
        let mut sends = Vec::with_capacity(self.groups.len());
        for (target, calls) in std::mem::take(&mut self.groups) {
            // A handle can be swept out as soon as it is added, if its
            // object has stopped: then too the object is gone.
            let handle = if self.resolve(target).await {
                self.handles.get(&target)
            } else {
                None
            };
            let Some(handle) = handle else {
                for call in calls {
                    self.sink.send_marked(
                        call.id,
                        Err(ManagerError::ObjectGone { id: target }),
                        call.bulk,
                    );
                }
                continue;
            };
            let ids: Vec<_> = calls.iter().map(|c| (c.id, c.bulk)).collect();
            // Counted before it is queued, so the mailbox depth (sent minus
            // handled) never goes below zero.
            handle.stats.add_sent(ids.len() as u64);
            let batch = ObjectBatch {
                connection: self.connection,
                calls,
                replies: self.sink.clone(),
                read_at: self.read_at,
            };
            // The batch is queued now; the future only waits for the actor
            // to take it.
            let request = handle.mailbox.send(batch);
            sends.push(async move { (target, ids, request.await) });
        }
        for (target, ids, sent) in join_all(sends).await {
            if sent.is_err() {
                // The actor stopped (the object was removed) before taking
                // the batch, so none of it was applied.
                if let Some(handle) = self.handles.remove(&target) {
                    handle.stats.sub_sent(ids.len() as u64);
                }
                for (id, bulk) in ids {
                    self.sink
                        .send_marked(id, Err(ManagerError::ObjectGone { id: target }), bulk);
                }
            }
        }
    }

    /// Tells every object this connection used that it has closed, so they
    /// release what it held and drop its parked requests. Sent after the
    /// connection's last batch, so it arrives after them; a window of
    /// [`NOTICE_WINDOW`] objects at a time, with other tasks let run in
    /// between, so a connection that used 100,000 objects does not wake
    /// them all at once ahead of every other client.
    pub(super) async fn notify_closed(self) {
        let handles: Vec<_> = self
            .handles
            .values()
            .map(|handle| handle.closed.clone())
            .collect();
        let connection = self.connection;
        for (i, closed) in handles.into_iter().enumerate() {
            if i > 0 && i % NOTICE_WINDOW == 0 {
                tokio::task::yield_now().await;
            }
            // A release must not be lost to a full mailbox; it is one message
            // per object per connection, so ignoring the bound is safe.
            closed.do_send(ConnectionClosed(connection));
        }
    }

    /// Makes sure the handle of `target` is known; `false` if there is no
    /// such object.
    pub(super) async fn resolve(&mut self, target: ObjectId) -> bool {
        if self.handles.contains(&target) {
            return true;
        }
        let Some(handle) = self
            .shared
            .registry
            .send(ResolveId(target))
            .await
            .ok()
            .flatten()
        else {
            return false;
        };
        self.handles.insert(handle);
        true
    }
}
