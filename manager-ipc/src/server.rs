//! The server bridge: accepts connections, authenticates them, and carries
//! requests from the socket to the actors' mailboxes and replies back.
//!
//! Each connection is two tasks on the actor system's thread:
//!
//! - the **reader** takes whatever frames one socket read brings, groups the
//!   object requests by target and sends each target one
//!   [`ObjectBatch`](manager_actors::ObjectBatch) (one mailbox hop per batch,
//!   not per request). Registry requests go to the registry in order with
//!   the rest.
//! - the **writer** drains every reply that is ready and writes them with one
//!   write.
//!
//! # Ordering
//!
//! The reader waits until every batch of one read has been taken by its actor
//! before it reads again, so the requests of one connection reach each object
//! in the order they were sent. Replies come back as they are ready, each
//! with its request's id.
//!
//! # Backpressure
//!
//! A full object mailbox makes the reader wait, and so does a connection with
//! `max_in_flight` replies not yet written (its client is not reading them);
//! either way the client's writes slow down. Nothing is dropped. Parked
//! requests (a queue `get` waiting for an item) owe no reply yet and do not
//! count, so any number of them never stops the reader from taking the
//! request that would release them, or from seeing the client close.
//!
//! # Bad input
//!
//! A failed handshake, a frame over the limit, bytes that do not decode or a
//! stream cut mid-frame close that connection only. Requests the manager had
//! already read are still applied.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use futures_util::future::join_all;
use manager_actors::object::ReplyQueue;
use manager_actors::registry::{RegistryCall, ResolveId};
use manager_actors::{
    ConnectionClosed, ConnectionId, ObjectBatch, ObjectCall, ObjectHandle, RegistryActor, ReplySink,
};
use manager_core::reply::{Reply, ReplyFrame};
use manager_core::request::{Request, RequestFrame};
use manager_core::{ManagerError, ObjectId, codec};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};

use crate::auth::AuthKey;
use crate::frame::{FrameBuffer, FrameError, HANDSHAKE_MAX_FRAME, encode_frame};
use crate::handshake::{self, Session};
use crate::transport::Stream;

/// Limits the bridge applies to every connection.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    pub(crate) max_frame: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) max_in_flight: usize,
}

/// A bound listener of either transport.
#[derive(Debug)]
pub(crate) enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

struct Shared {
    registry: Addr<RegistryActor>,
    key: AuthKey,
    config: ServerConfig,
}

/// Accepts connections until the actor system stops.
pub(crate) async fn serve(
    listener: Listener,
    registry: Addr<RegistryActor>,
    key: AuthKey,
    config: ServerConfig,
) {
    let shared = Arc::new(Shared {
        registry,
        key,
        config,
    });
    let mut next_connection = 0_u64;
    loop {
        next_connection += 1;
        let id = next_connection;
        let accepted = match &listener {
            Listener::Unix(l) => l.accept().await.map(|(s, _)| {
                actix_rt::spawn(connection(s, id, shared.clone()));
            }),
            Listener::Tcp(l) => l.accept().await.and_then(|(s, peer)| {
                s.set_nodelay(true)?;
                tracing::debug!(connection = id, %peer, "tcp connection");
                actix_rt::spawn(connection(s, id, shared.clone()));
                Ok(())
            }),
        };
        if let Err(e) = accepted {
            // Out of file descriptors and the like: back off briefly rather
            // than spin, and keep serving the connections we have.
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn connection<S: Stream>(mut stream: S, id: u64, shared: Arc<Shared>) {
    let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
    let timeout = shared.config.handshake_timeout;
    let session = Session {
        connection: id,
        max_frame: shared.config.max_frame,
    };
    match tokio::time::timeout(
        timeout,
        handshake::accept(&mut stream, &mut buf, &shared.key, session),
    )
    .await
    {
        Ok(Ok(())) => tracing::debug!(connection = id, "client authenticated"),
        Ok(Err(e)) => {
            tracing::warn!(connection = id, error = %e, "handshake failed");
            return;
        }
        Err(_) => {
            tracing::warn!(connection = id, ?timeout, "handshake timed out");
            return;
        }
    }
    buf.set_max_frame(shared.config.max_frame);
    let (read, write) = stream.into_split();
    let (sink, replies) = ReplySink::new();
    let writer = actix_rt::spawn(write_replies(write, replies, shared.config.max_frame));
    let mut reader = Reader {
        connection: ConnectionId(id),
        buf,
        sink,
        max_backlog: shared.config.max_in_flight,
        registry: shared.registry.clone(),
        handles: HashMap::new(),
        groups: Vec::new(),
    };
    match reader.run(read).await {
        Ok(()) => tracing::debug!(connection = id, "client disconnected"),
        Err(e) => tracing::warn!(connection = id, error = %e, "closing connection"),
    }
    writer.abort();
    reader.notify_closed();
}

struct Reader {
    connection: ConnectionId,
    buf: FrameBuffer,
    sink: ReplySink,
    /// How many unwritten replies make the reader stop reading.
    max_backlog: usize,
    registry: Addr<RegistryActor>,
    /// Handles of the objects this connection has used.
    handles: HashMap<ObjectId, ObjectHandle>,
    /// Object requests read but not yet sent, grouped by target in arrival
    /// order.
    groups: Vec<(ObjectId, Vec<ObjectCall>)>,
}

impl Reader {
    async fn run<R: AsyncRead + Unpin>(&mut self, read: R) -> Result<(), FrameError> {
        let result = self.read_all(read).await;
        // Whatever was read before the end or the error is still applied.
        self.dispatch().await;
        result
    }

    async fn read_all<R: AsyncRead + Unpin>(&mut self, mut read: R) -> Result<(), FrameError> {
        loop {
            // A client that does not read its replies stops being read.
            // Parked requests owe no reply yet and do not count, so waiting
            // requests never keep the reader from seeing the client close.
            if !self.sink.wait_for_room(self.max_backlog).await {
                return Ok(());
            }
            if !self.buf.fill(&mut read).await? {
                return Ok(());
            }
            while let Some(frame) = self.buf.next_frame()? {
                let RequestFrame { id, request } = codec::decode(&frame)?;
                match request {
                    Request::Object { target, op } => {
                        let call = ObjectCall { id, op };
                        match self.groups.iter_mut().find(|(t, _)| *t == target) {
                            Some((_, calls)) => calls.push(call),
                            None => self.groups.push((target, vec![call])),
                        }
                    }
                    Request::Registry(request) => {
                        // Keep the connection's order: what came before this
                        // registry request reaches its objects first.
                        self.dispatch().await;
                        let result = match self.registry.send(RegistryCall(request)).await {
                            Ok(outcome) => {
                                if let Some(handle) = outcome.handle {
                                    self.handles.insert(handle.id, handle);
                                }
                                outcome.reply.map(Reply::Registry)
                            }
                            Err(_) => Err(ManagerError::ShuttingDown),
                        };
                        self.sink.send(id, result);
                    }
                }
            }
            self.dispatch().await;
        }
    }

    /// Sends every pending group to its object and waits until each has been
    /// taken.
    async fn dispatch(&mut self) {
        if self.groups.is_empty() {
            return;
        }
        let mut sends = Vec::with_capacity(self.groups.len());
        for (target, calls) in std::mem::take(&mut self.groups) {
            let Some(handle) = self.handle(target).await else {
                for call in calls {
                    self.sink
                        .send(call.id, Err(ManagerError::ObjectGone { id: target }));
                }
                continue;
            };
            let ids: Vec<_> = calls.iter().map(|c| c.id).collect();
            let batch = ObjectBatch {
                connection: self.connection,
                calls,
                replies: self.sink.clone(),
            };
            sends.push(async move { (target, ids, handle.mailbox.send(batch).await) });
        }
        for (target, ids, sent) in join_all(sends).await {
            if sent.is_err() {
                // The actor stopped (the object was removed) before taking
                // the batch, so none of it was applied.
                self.handles.remove(&target);
                for id in ids {
                    self.sink
                        .send(id, Err(ManagerError::ObjectGone { id: target }));
                }
            }
        }
    }

    /// Tells every object this connection used that it has closed, so they
    /// release what it held and drop its parked requests. Sent after the
    /// connection's last batch, so it arrives after them.
    fn notify_closed(&self) {
        for handle in self.handles.values() {
            // A release must not be lost to a full mailbox; it is one message
            // per object per connection, so ignoring the bound is safe.
            handle.closed.do_send(ConnectionClosed(self.connection));
        }
    }

    async fn handle(&mut self, target: ObjectId) -> Option<ObjectHandle> {
        if let Some(handle) = self.handles.get(&target) {
            return Some(handle.clone());
        }
        let handle = self.registry.send(ResolveId(target)).await.ok().flatten()?;
        self.handles.insert(target, handle.clone());
        Some(handle)
    }
}

/// Writes replies as they come, every ready one in a single write.
async fn write_replies<W: AsyncWrite + Unpin>(
    mut write: W,
    mut replies: ReplyQueue,
    max_frame: usize,
) {
    const FLUSH_AT: usize = 256 * 1024;
    const KEEP: usize = 64 * 1024;
    let mut out = Vec::with_capacity(KEEP);
    while let Some(first) = replies.recv().await {
        let mut count = 1;
        encode_reply(&first, &mut out, max_frame);
        while out.len() < FLUSH_AT {
            match replies.try_recv() {
                Ok(next) => {
                    encode_reply(&next, &mut out, max_frame);
                    count += 1;
                }
                Err(_) => break,
            }
        }
        if let Err(e) = write.write_all(&out).await {
            // Dropping the queue wakes a reader waiting for room.
            tracing::debug!(error = %e, "write to client failed");
            return;
        }
        replies.written(count);
        out.clear();
        if out.capacity() > 4 * KEEP {
            // Do not keep a huge reply's buffer for the connection's life.
            out = Vec::with_capacity(KEEP);
        }
    }
}

fn encode_reply(reply: &ReplyFrame, out: &mut Vec<u8>, max_frame: usize) {
    match encode_frame(reply, out, max_frame) {
        Ok(()) => {}
        Err(FrameError::TooLarge { len, max }) => {
            let refusal = ReplyFrame {
                id: reply.id,
                result: Err(ManagerError::ReplyTooLarge { size: len, max }),
            };
            encode_frame(&refusal, out, max_frame)
                .expect("a short error reply always fits a frame");
        }
        Err(e) => {
            // Replies are built from decoded data, so this is a bug; answer
            // the request anyway rather than leave the client waiting.
            tracing::error!(error = %e, "cannot encode reply");
            let refusal = ReplyFrame {
                id: reply.id,
                result: Err(ManagerError::BadRequest(format!(
                    "reply could not be encoded: {e}"
                ))),
            };
            encode_frame(&refusal, out, max_frame)
                .expect("a short error reply always fits a frame");
        }
    }
}
