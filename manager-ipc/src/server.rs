//! The server bridge: accepts connections, authenticates them, and carries
//! requests from the socket to the actors' mailboxes and replies back.
//!
//! Each connection is two tasks on the actor system's thread:
//!
//! - the **reader** takes whatever frames one socket read brings, groups the
//!   object requests by target and sends each target one
//!   [`ObjectBatch`] (one mailbox hop per batch,
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
//! `max_in_flight` replies, or `max_backlog_bytes` bytes of them, not yet
//! written (its client is not reading them); either way the client's writes
//! slow down. Nothing is dropped. The reader hands at most
//! [`MAX_BATCH`] requests to the objects before it looks at the backlog
//! again, and only one while the backlog is over a quarter full, so the
//! replies of requests read before it stopped add at most that many to it.
//! Parked requests (a queue `get` waiting for an item) owe no reply yet and
//! do not count, so any number of them never stops the reader from taking
//! the request that would release them, or from seeing the client close.
//!
//! # Bad input
//!
//! A failed handshake, a frame over the limit, a frame begun but not
//! finished within `frame_timeout`, bytes that do not decode or a stream cut
//! mid-frame close that connection only. Where the connection is still
//! writable, the manager first tells the client why in a frame with
//! [`RequestId::CONNECTION`]. Requests the manager had already read are
//! still applied.
//!
//! # Limits on connections
//!
//! At most `max_handshakes` connections may be in their handshake at once:
//! one more closes the oldest handshake under way to make room, so silent
//! peers cannot keep real clients out by filling the slots; and at most `max_connections` authenticated
//! ones are kept (more are refused in the handshake, with the reason).
//! Failed handshakes are counted and logged as a summary at most every
//! `FAILURE_LOG_EVERY` (10 s), not a line each.
//!
//! # Large frames
//!
//! A frame of 256 KiB or more is decoded on a blocking thread while the
//! reader waits, so its decode does not hold up the objects and the other
//! connections, which share the manager's thread.
//!
//! # Inspection
//!
//! The bridge keeps a table of live connections (peer, since when, requests
//! read and replies written) and counts requests manager-wide; a ticker
//! samples that count every second, so the request rate over the last few
//! seconds costs the hot path nothing but relaxed adds (one per request
//! read, one per socket read and one per write of replies).
//! An `Inspect` request is answered by a task of its own (the connection
//! goes on meanwhile) from this table and the registry's
//! [`InspectObjects`]. A connection has one inspection in flight at a time:
//! a second one waits, and the connection's later requests with it, until
//! the first has been answered, so a client that pipelines inspections
//! cannot pile up tasks (each asking every actor for a report) faster than
//! they finish.

use crate::handles::Handles;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::Addr;
use futures_util::future::join_all;
use manager_actors::registry::{InspectObjects, RegistryCall, ResolveId};
use manager_actors::reply::{Outgoing, PeerCheck, ReplyQueue};
use manager_actors::{
    ConnectionClosed, ConnectionId, ObjectBatch, ObjectCall, RegistryActor, ReplySink,
};
use manager_core::inspect::{
    ConnectionReport, HeldObject, ManagerSnapshot, ObjectReport, Peer, Totals, UnixMillis,
};
use manager_core::reply::{RegistryReply, Reply, ReplyFrame};
use manager_core::request::{RegistryRequest, Request, RequestFrame, RequestId};
use manager_core::{ManagerError, ObjectId, PROTOCOL_VERSION, codec};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UnixListener};

use crate::address::Address;
use crate::auth::AuthKey;
use crate::frame::{FrameBuffer, FrameError, HANDSHAKE_MAX_FRAME, REPLY_HEADROOM, encode_frame};
use crate::handshake::{self, Session};
use crate::limits::{Limits, MAX_BATCH};
use crate::platform;
use crate::transport::Stream;

/// What the bridge needs to know besides its listener and key.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The manager's identity, told to every client in the handshake.
    pub manager_id: u64,
    /// What each connection, and all of them, may use.
    pub limits: Limits,
}

/// How often failed handshakes are summed up in the log, at most.
pub(crate) const FAILURE_LOG_EVERY: Duration = Duration::from_secs(10);

/// Frames at least this large are decoded on a blocking thread: decoding
/// one that holds millions of tiny values takes a second, which would hold
/// up every object and connection on the manager's thread.
const DECODE_APART: usize = 256 * 1024;

/// Decodes a request frame, a large one on a blocking thread (the reader
/// waits for it, so the connection's order holds).
async fn decode_request(frame: bytes::Bytes) -> Result<RequestFrame, FrameError> {
    if frame.len() < DECODE_APART {
        return Ok(codec::decode(&frame)?);
    }
    match tokio::task::spawn_blocking(move || codec::decode::<RequestFrame>(&frame)).await {
        Ok(decoded) => Ok(decoded?),
        Err(e) => Err(FrameError::Io(std::io::Error::other(format!(
            "decoding a large frame failed: {e}"
        )))),
    }
}

/// How long a connection closed for bad input has to take the frame that
/// says why.
const LAST_WORD_GRACE: Duration = Duration::from_secs(1);

/// A bound listener of either transport.
#[derive(Debug)]
pub enum Listener {
    /// A Unix domain socket.
    Unix(UnixListener),
    /// A TCP socket.
    Tcp(TcpListener),
}

impl Listener {
    /// Binds `address`: a Unix socket is owner-only (0600) from the moment
    /// it exists; a TCP address that other hosts can reach is named in a
    /// warning. Returns the listener and the address it is bound to (with
    /// the port a TCP `:0` got). Must be called inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// The address cannot be bound (in use, no permission, ...).
    pub fn bind(address: &Address) -> std::io::Result<(Listener, Address)> {
        match address {
            Address::Unix(path) => {
                let listener = platform::bind_private_unix_listener(path)?;
                listener.set_nonblocking(true)?;
                let listener = UnixListener::from_std(listener)?;
                Ok((Listener::Unix(listener), address.clone()))
            }
            Address::Tcp(addr) => {
                let listener = std::net::TcpListener::bind(addr)?;
                let local = listener.local_addr()?;
                listener.set_nonblocking(true)?;
                let listener = TcpListener::from_std(listener)?;
                let address = Address::Tcp(local);
                if reachable_from_other_hosts(local) {
                    tracing::warn!(
                        %address,
                        "other hosts can reach this address: the authkey is the only protection, and traffic \
                         is not encrypted (use a loopback address unless other hosts must connect)"
                    );
                }
                Ok((Listener::Tcp(listener), address))
            }
        }
    }
}

/// Whether a listener bound to `addr` can be reached from other hosts:
/// every address but loopback (`127.0.0.0/8`, `::1`, and `127.x` mapped into
/// IPv6); the unspecified addresses (`0.0.0.0`, `::`) listen on every
/// interface.
fn reachable_from_other_hosts(addr: SocketAddr) -> bool {
    !addr.ip().to_canonical().is_loopback()
}

struct Shared {
    registry: Addr<RegistryActor>,
    key: AuthKey,
    config: ServerConfig,
    started: Instant,
    started_at: UnixMillis,
    /// Connections accepted so far (each one's id is the count then).
    accepted: AtomicU64,
    /// Connections in their handshake now.
    handshaking: Arc<AtomicUsize>,
    /// Their tasks, oldest first, so a new connection at the limit can
    /// close the oldest.
    under_way: Arc<Mutex<VecDeque<(u64, tokio::task::AbortHandle)>>>,
    /// Authenticated connections now (slots taken under the limit).
    connected: Arc<AtomicUsize>,
    /// Failed handshakes, counted and summed up in the log.
    failures: Mutex<FailureLog>,
    /// Requests read so far, from every connection.
    requests: AtomicU64,
    /// Authenticated connections that are still open, by id.
    live: Mutex<BTreeMap<u64, LiveConnection>>,
    /// Samples of `requests`, one a second.
    rate: Mutex<RateWindow>,
}

/// One row of the table of live connections.
struct LiveConnection {
    peer: Peer,
    since: UnixMillis,
    counters: Arc<ConnectionCounters>,
}

/// What a connection's reader and writer count, one relaxed add per socket
/// read or write.
#[derive(Debug, Default)]
struct ConnectionCounters {
    /// Requests read.
    read: AtomicU64,
    /// Replies written.
    written: AtomicU64,
}

/// Removes a connection from the table when it ends, however it ends.
struct Registered<'a> {
    shared: &'a Shared,
    id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared.live().remove(&self.id);
    }
}

/// A slot under one of the connection limits, given back when dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// Takes a slot of `count` if fewer than `max` are taken.
    fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(count.clone()))
    }

    /// Takes a slot of `count` whatever the limit (one being freed is not
    /// given back yet).
    fn force(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Slot(count.clone())
    }
}

/// Takes a connection off the list of handshakes under way when dropped:
/// once its handshake has ended, however it ended.
struct UnderWay {
    list: Arc<Mutex<VecDeque<(u64, tokio::task::AbortHandle)>>>,
    id: u64,
}

impl Drop for UnderWay {
    fn drop(&mut self) {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|(id, _)| *id != self.id);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Failed handshakes: all counted, the first of each
/// [`FAILURE_LOG_EVERY`] logged, the rest summed up when it has passed.
#[derive(Debug)]
struct FailureLog {
    total: u64,
    /// When a line was last logged; `None` before the first.
    logged_at: Option<Instant>,
    /// Failures since then that were not logged, and the last of them.
    unlogged: u64,
    last: String,
}

impl FailureLog {
    fn new() -> Self {
        FailureLog {
            total: 0,
            logged_at: None,
            unlogged: 0,
            last: String::new(),
        }
    }

    /// Counts a failure described by `what`; logs it if no line was logged
    /// in the last [`FAILURE_LOG_EVERY`].
    fn record(&mut self, now: Instant, what: String) {
        self.total += 1;
        if self
            .logged_at
            .is_some_and(|at| now.saturating_duration_since(at) < FAILURE_LOG_EVERY)
        {
            self.unlogged += 1;
            self.last = what;
            return;
        }
        self.flush(now);
        tracing::warn!(total = self.total, "handshake failed: {what}");
        self.logged_at = Some(now);
    }

    /// Logs a summary of the failures not logged, if any, once
    /// [`FAILURE_LOG_EVERY`] has passed since the last line.
    fn flush(&mut self, now: Instant) {
        if self.unlogged == 0
            || self
                .logged_at
                .is_some_and(|at| now.saturating_duration_since(at) < FAILURE_LOG_EVERY)
        {
            return;
        }
        tracing::warn!(
            total = self.total,
            "{} more handshakes failed in the last {:?} (the last: {})",
            self.unlogged,
            FAILURE_LOG_EVERY,
            self.last
        );
        self.unlogged = 0;
        self.logged_at = Some(now);
    }
}

impl Shared {
    fn under_way(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, tokio::task::AbortHandle)>> {
        self.under_way.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn failures(&self) -> std::sync::MutexGuard<'_, FailureLog> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn live(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, LiveConnection>> {
        // The table is only ever changed whole under the lock; a panic
        // elsewhere cannot leave it half-updated.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn rate(&self) -> std::sync::MutexGuard<'_, RateWindow> {
        self.rate.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How many one-second samples of the request count are kept: the rate
/// covers the last `RATE_SAMPLES - 1` seconds or so.
const RATE_SAMPLES: usize = 6;

/// The last few samples of a running count, oldest first, to tell its rate
/// over the last few seconds.
#[derive(Debug)]
struct RateWindow {
    samples: VecDeque<(Instant, u64)>,
}

impl RateWindow {
    /// A window whose count was 0 at `start`.
    fn new(start: Instant) -> Self {
        let mut samples = VecDeque::with_capacity(RATE_SAMPLES + 1);
        samples.push_back((start, 0));
        RateWindow { samples }
    }

    /// Records that the count was `total` at `at`, forgetting the oldest
    /// sample past [`RATE_SAMPLES`].
    fn record(&mut self, at: Instant, total: u64) {
        self.samples.push_back((at, total));
        while self.samples.len() > RATE_SAMPLES {
            self.samples.pop_front();
        }
    }

    /// How much the count grew from the oldest sample to `total` at `now`,
    /// and over how long.
    fn recent(&self, now: Instant, total: u64) -> (u64, Duration) {
        match self.samples.front() {
            Some(&(at, count)) => (
                total.saturating_sub(count),
                now.saturating_duration_since(at),
            ),
            None => (0, Duration::ZERO),
        }
    }
}

/// Samples the request count every second, for the rate.
async fn sample_requests(shared: Arc<Shared>) {
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let total = shared.requests.load(Ordering::Relaxed);
        let now = Instant::now();
        shared.rate().record(now, total);
        shared.failures().flush(now);
    }
}

/// Accepts connections on `listener`, authenticates each with `key` and
/// carries its requests to the registry's objects, until the actor system
/// it runs in stops. Must be spawned on that system's arbiter.
pub async fn serve(
    listener: Listener,
    registry: Addr<RegistryActor>,
    key: AuthKey,
    config: ServerConfig,
) {
    let started = Instant::now();
    let shared = Arc::new(Shared {
        registry,
        key,
        config,
        started,
        started_at: UnixMillis::now(),
        accepted: AtomicU64::new(0),
        handshaking: Arc::new(AtomicUsize::new(0)),
        under_way: Arc::new(Mutex::new(VecDeque::new())),
        connected: Arc::new(AtomicUsize::new(0)),
        failures: Mutex::new(FailureLog::new()),
        requests: AtomicU64::new(0),
        live: Mutex::new(BTreeMap::new()),
        rate: Mutex::new(RateWindow::new(started)),
    });
    actix_rt::spawn(sample_requests(shared.clone()));
    loop {
        let accepted = match &listener {
            Listener::Unix(l) => l.accept().await.map(|(s, _)| {
                // The kernel's word on who connected; not every system
                // gives a pid.
                let peer = match s.peer_cred() {
                    Ok(cred) => Peer::Unix {
                        pid: cred.pid().and_then(|pid| u32::try_from(pid).ok()),
                        uid: Some(cred.uid()),
                    },
                    Err(_) => Peer::Unix {
                        pid: None,
                        uid: None,
                    },
                };
                admit(s, peer, &shared);
            }),
            Listener::Tcp(l) => l.accept().await.and_then(|(s, address)| {
                s.set_nodelay(true)?;
                admit(s, Peer::Tcp { address }, &shared);
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

/// Starts serving an accepted stream; if `max_handshakes` are under way,
/// the oldest of them is closed to make room.
fn admit<S: Stream>(stream: S, peer: Peer, shared: &Arc<Shared>) {
    let max = shared.config.limits.max_handshakes;
    let handshaking = match Slot::take(&shared.handshaking, max) {
        Some(slot) => slot,
        None => {
            // At the limit, the oldest handshake under way makes room: a
            // flood of silent peers must then outpace every real client's
            // handshake (well under a millisecond), not merely fill the
            // slots once and keep everyone out until they time out.
            let oldest = shared.under_way().pop_front();
            let Some((oldest, task)) = oldest else {
                // Dropping the stream closes it.
                return;
            };
            task.abort();
            shared.failures().record(
                Instant::now(),
                format!(
                    "{max} handshakes under way (the limit); the oldest, connection \
                     {oldest}, was closed to make room for {peer}"
                ),
            );
            // Its slot is given back once the aborted task is dropped.
            Slot::force(&shared.handshaking)
        }
    };
    let id = shared.accepted.fetch_add(1, Ordering::Relaxed) + 1;
    let task = actix_rt::spawn(connection(stream, id, peer, handshaking, shared.clone()));
    // Nothing runs between the spawn and this push: the task is listed
    // before it can take itself off the list.
    shared.under_way().push_back((id, task.abort_handle()));
}

async fn connection<S: Stream>(
    mut stream: S,
    id: u64,
    peer: Peer,
    handshaking: Slot,
    shared: Arc<Shared>,
) {
    tracing::debug!(connection = id, %peer, "connection accepted");
    let under_way = UnderWay {
        list: shared.under_way.clone(),
        id,
    };
    let limits = shared.config.limits.clone();
    let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
    let timeout = limits.handshake_timeout;
    let session = Session {
        connection: id,
        manager: shared.config.manager_id,
        max_frame: limits.max_frame,
    };
    let admit = || {
        Slot::take(&shared.connected, limits.max_connections).ok_or_else(|| {
            format!(
                "too many connections: the limit is {}",
                limits.max_connections
            )
        })
    };
    let handshake = handshake::accept(&mut stream, &mut buf, &shared.key, session, admit);
    let _connected = match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(slot)) => {
            tracing::info!(connection = id, %peer, "client connected");
            slot
        }
        Ok(Err(e)) => {
            shared
                .failures()
                .record(Instant::now(), format!("{peer}: {e}"));
            return;
        }
        Err(_) => {
            shared.failures().record(
                Instant::now(),
                format!("{peer}: timed out after {timeout:?}"),
            );
            return;
        }
    };
    drop((handshaking, under_way));
    let counters = Arc::new(ConnectionCounters::default());
    shared.live().insert(
        id,
        LiveConnection {
            peer: peer.clone(),
            since: UnixMillis::now(),
            counters: counters.clone(),
        },
    );
    let _registered = Registered {
        shared: &shared,
        id,
    };
    buf.set_max_frame(limits.max_frame);
    let socket_peer = SocketPeer::of(&stream);
    let _closes_peer = ClosesPeer(socket_peer.clone());
    let (read, write) = stream.into_split();
    let (sink, replies) = match &socket_peer {
        Some(check) => ReplySink::with_peer_check(check.clone()),
        None => ReplySink::new(),
    };
    let sink = sink
        .with_max_reply(limits.max_frame + REPLY_HEADROOM)
        .with_max_parked(limits.max_parked);
    let writer = actix_rt::spawn(write_replies(
        write,
        replies,
        limits.max_frame + REPLY_HEADROOM,
        counters.clone(),
    ));
    let mut reader = Reader {
        connection: ConnectionId(id),
        buf,
        sink,
        limits: limits.clone(),
        frame_began: None,
        shared: shared.clone(),
        counters,
        handles: Handles::new(),
        groups: Vec::new(),
    };
    match reader.run(read).await {
        Ok(()) => tracing::info!(connection = id, %peer, "client disconnected"),
        Err(e) => {
            tracing::warn!(connection = id, %peer, error = %e, "closing connection");
            if !matches!(e, FrameError::Io(_) | FrameError::Truncated { .. }) {
                // Tell the client why, if it still reads.
                reader.sink.send(
                    RequestId::CONNECTION,
                    Err(ManagerError::BadRequest(e.to_string())),
                );
                let _ =
                    tokio::time::timeout(LAST_WORD_GRACE, reader.sink.wait_until_written()).await;
            }
        }
    }
    writer.abort();
    // Once the aborted writer has dropped its queue, what the replies
    // still in it handed over is on its way back to the objects, ahead of
    // the notices below in each mailbox.
    let _ = writer.await;
    reader.notify_closed().await;
}

/// Asks a connection's socket whether its peer has hung up, through a
/// duplicate of its descriptor that the connection closes when it ends.
#[derive(Debug)]
struct SocketPeer {
    fd: Mutex<Option<std::os::fd::OwnedFd>>,
}

impl SocketPeer {
    /// A check of `stream`'s peer; `None` if the descriptor cannot be
    /// duplicated (out of descriptors): then hand-offs rely on failed
    /// writes alone.
    fn of<S: Stream>(stream: &S) -> Option<Arc<SocketPeer>> {
        match stream.as_fd().try_clone_to_owned() {
            Ok(fd) => Some(Arc::new(SocketPeer {
                fd: Mutex::new(Some(fd)),
            })),
            Err(e) => {
                tracing::warn!(error = %e, "cannot duplicate a connection's descriptor; no peer checks");
                None
            }
        }
    }

    fn fd(&self) -> std::sync::MutexGuard<'_, Option<std::os::fd::OwnedFd>> {
        self.fd.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl PeerCheck for SocketPeer {
    fn hung_up(&self) -> bool {
        match &*self.fd() {
            Some(fd) => platform::peer_hung_up(fd),
            // The connection is over.
            None => true,
        }
    }
}

/// Closes a connection's [`SocketPeer`] when the connection ends, so the
/// socket closes with it.
struct ClosesPeer(Option<Arc<SocketPeer>>);

impl Drop for ClosesPeer {
    fn drop(&mut self) {
        if let Some(peer) = &self.0 {
            peer.fd().take();
        }
    }
}

struct Reader {
    connection: ConnectionId,
    buf: FrameBuffer,
    sink: ReplySink,
    /// The backlog and frame limits among them.
    limits: Limits,
    /// When the unfinished frame in `buf` began to arrive, if one has.
    frame_began: Option<Instant>,
    shared: Arc<Shared>,
    counters: Arc<ConnectionCounters>,
    /// Handles of the objects this connection has used.
    handles: Handles,
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

    /// Waits until the connection's backlog of unwritten replies has room;
    /// `false` if the connection is over.
    async fn wait_for_room(&self) -> bool {
        self.sink
            .wait_for_room(self.limits.max_in_flight, self.limits.max_backlog_bytes)
            .await
    }

    /// How many requests to hand to the objects before looking at the
    /// backlog again: [`MAX_BATCH`], or one while it is over a quarter full.
    fn batch_limit(&self) -> usize {
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
    async fn fill<R: AsyncRead + Unpin>(&mut self, read: &mut R) -> Result<bool, FrameError> {
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

    async fn read_all<R: AsyncRead + Unpin>(&mut self, mut read: R) -> Result<(), FrameError> {
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
            let mut read_now = 0;
            let mut undispatched = 0;
            while let Some(frame) = self.buf.next_frame()? {
                if undispatched >= self.batch_limit() {
                    // The replies of what was handed over are in the backlog
                    // once `dispatch` returns: look at it before going on.
                    self.dispatch().await;
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
                    self.dispatch().await;
                    undispatched = 1;
                    if !self.sink.begin_bulk().await {
                        return Ok(());
                    }
                }
                match request {
                    Request::Object { target, op } => {
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
                        self.dispatch().await;
                        self.inspect(id).await;
                    }
                    Request::Registry(request) => {
                        // Keep the connection's order: what came before this
                        // registry request reaches its objects first.
                        self.dispatch().await;
                        let result = match self.shared.registry.send(RegistryCall(request)).await {
                            Ok(outcome) => {
                                if let Some(handle) = outcome.handle {
                                    self.handles.insert(handle);
                                }
                                if let Some(removed) = outcome.removed {
                                    self.handles.remove(&removed);
                                }
                                outcome.reply.map(Reply::Registry)
                            }
                            Err(_) => Err(ManagerError::ShuttingDown),
                        };
                        self.sink.send_marked(id, result, bulk);
                    }
                }
            }
            self.shared.requests.fetch_add(read_now, Ordering::Relaxed);
            self.dispatch().await;
        }
    }

    /// Answers an `Inspect` request `id` from a task of its own (the
    /// reader made sure the connection's previous bulk reply, such as an
    /// earlier inspection, has been written).
    async fn inspect(&self, id: RequestId) {
        let shared = self.shared.clone();
        let sink = self.sink.clone();
        let asker = self.connection.0;
        actix_rt::spawn(async move {
            let result = match shared.registry.send(InspectObjects::default()).await {
                Ok(objects) => Ok(Reply::Registry(RegistryReply::Snapshot(snapshot(
                    &shared, objects, asker,
                )))),
                Err(_) => Err(ManagerError::ShuttingDown),
            };
            // Inspections are bulk requests: this ends it.
            sink.send_marked(id, result, true);
        });
    }

    /// Sends every pending group to its object and waits until each has been
    /// taken.
    async fn dispatch(&mut self) {
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
    async fn notify_closed(self) {
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
    async fn resolve(&mut self, target: ObjectId) -> bool {
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

/// Builds a snapshot from the registry's `objects` and the table of live
/// connections; `asker` is the connection that asked.
fn snapshot(shared: &Shared, objects: Vec<ObjectReport>, asker: u64) -> ManagerSnapshot {
    let now = Instant::now();
    let taken_at = UnixMillis::now();
    let requests_total = shared.requests.load(Ordering::Relaxed);
    let (recent_requests, rate_window) = shared.rate().recent(now, requests_total);
    let mut connections: Vec<ConnectionReport> = shared
        .live()
        .iter()
        .map(|(&id, live)| {
            // Written is loaded first: a request is counted as read before
            // its reply can be written, so in flight never looks negative.
            let written = live.counters.written.load(Ordering::Relaxed);
            let read = live.counters.read.load(Ordering::Relaxed);
            ConnectionReport {
                id,
                peer: live.peer.clone(),
                connected_at: live.since,
                requests_served: written,
                requests_in_flight: read.saturating_sub(written),
                holds: Vec::new(),
            }
        })
        .collect();
    // Who holds what, as each object reported it.
    for object in &objects {
        let Some(detail) = &object.detail else {
            continue;
        };
        for holding in &detail.holders {
            if let Ok(i) = connections.binary_search_by_key(&holding.connection, |c| c.id) {
                connections[i].holds.push(HeldObject {
                    id: object.id,
                    name: object.name.clone(),
                    kind: object.kind.clone(),
                    owner: holding.owner,
                    count: holding.count,
                });
            }
        }
    }
    ManagerSnapshot {
        totals: Totals {
            taken_at,
            started_at: shared.started_at,
            uptime: now.saturating_duration_since(shared.started),
            connections_now: connections.len() as u64,
            connections_total: shared.accepted.load(Ordering::Relaxed),
            requests_total,
            recent_requests,
            rate_window,
            protocol_version: PROTOCOL_VERSION,
            build_version: env!("CARGO_PKG_VERSION").to_owned(),
        },
        objects,
        connections,
        requested_by: asker,
    }
}

/// Writes replies as they come, every ready one in a single write.
///
/// A reply that hands something over counts as delivered once every byte
/// of its frame has been written; until then it is held here, and if the
/// write fails, the peer is found to have hung up or this task is aborted,
/// it is dropped undelivered and its object takes back what it handed over
/// (see [`manager_actors::reply`]). Replies still queued when this task
/// ends are given back the same way when the queue drops.
///
/// A list longer than [`part_bytes`] is written in parts, yielding to
/// other tasks after each part and writing every [`FLUSH_AT`] bytes
/// ([`manager_core::reply::parts`]).
async fn write_replies<W: AsyncWrite + Unpin>(
    mut write: W,
    mut replies: ReplyQueue,
    max_frame: usize,
    counters: Arc<ConnectionCounters>,
) {
    const KEEP: usize = 64 * 1024;
    let part_bytes = part_bytes(max_frame);
    let mut out = Vec::with_capacity(KEEP);
    // Hand-offs in `out`, each with where its frame ends, until written.
    let mut handoffs: VecDeque<(usize, Outgoing)> = VecDeque::new();
    while let Some(first) = replies.recv().await {
        let mut count = 0;
        let mut bytes = 0;
        let mut bulk = false;
        let mut long = None;
        let mut next = Some(first);
        while let Some(reply) = next.take() {
            if reply.size() > part_bytes && is_list(&reply) {
                // Written after what came before it, in parts.
                long = Some(reply);
                break;
            }
            let whole = encode_reply(reply.frame(), &mut out, max_frame);
            count += 1;
            bytes += reply.size();
            bulk |= reply.is_bulk();
            if reply.hands_over() {
                if whole {
                    handoffs.push_back((out.len(), reply));
                } else {
                    // The client gets an error instead of the reply, so
                    // what it would have handed over goes back now.
                    drop(reply);
                }
            }
            if out.len() < FLUSH_AT {
                next = replies.try_recv().ok();
            }
        }
        if !handoffs.is_empty() && replies.peer_hung_up() {
            // Checked before a hand-off because a write into a closed TCP
            // peer can still succeed. Dropping the hand-offs and the queue
            // gives back what they hand over.
            tracing::debug!("peer hung up; replies that hand something over go back");
            return;
        }
        if let Err(e) = write_tracking(&mut write, &out, &mut handoffs).await {
            // Dropping the queue wakes a reader waiting for room, and the
            // hand-offs not written go back.
            tracing::debug!(error = %e, "write to client failed");
            return;
        }
        out.clear();
        if let Some(reply) = long {
            count += 1;
            bytes += reply.size();
            bulk |= reply.is_bulk();
            if let Err(e) = write_in_parts(&mut write, reply, &mut out, max_frame, part_bytes).await
            {
                tracing::debug!(error = %e, "write to client failed");
                return;
            }
        }
        replies.written(count, bytes, bulk);
        counters.written.fetch_add(count as u64, Ordering::Relaxed);
        out.clear();
        if out.capacity() > 4 * KEEP {
            // Do not keep a huge reply's buffer for the connection's life.
            out = Vec::with_capacity(KEEP);
        }
    }
}

/// How many objects a closed connection tells at a time before it lets
/// other tasks run.
const NOTICE_WINDOW: usize = 256;

/// Bytes of encoded replies the writer gathers before it writes them.
const FLUSH_AT: usize = 256 * 1024;

/// How many bytes of items a part of a long reply holds (unless one item
/// alone is larger): small enough that encoding one never keeps other
/// connections waiting long, and at most half a frame.
fn part_bytes(max_frame: usize) -> usize {
    (max_frame / 2).clamp(1, 1 << 20)
}

/// Whether `reply` is a list, which may be sent in parts.
fn is_list(reply: &Outgoing) -> bool {
    !reply.hands_over()
        && reply
            .frame()
            .result
            .as_ref()
            .is_ok_and(Reply::comes_in_parts)
}

/// Writes the list `reply` as parts of about `part_bytes` each, then its
/// last frame (see [`manager_core::reply::parts`]); an item too large for
/// a frame ends it with [`ManagerError::ReplyTooLarge`] instead.
async fn write_in_parts<W: AsyncWrite + Unpin>(
    write: &mut W,
    reply: Outgoing,
    out: &mut Vec<u8>,
    max_frame: usize,
    part_bytes: usize,
) -> std::io::Result<()> {
    // A list hands nothing over: delivering it gives nothing back.
    let ReplyFrame { id, result } = reply.deliver();
    let mut list = match result {
        Ok(reply) => reply.into_parts(),
        Err(e) => {
            encode_reply(&ReplyFrame { id, result: Err(e) }, out, max_frame);
            return write.write_all(out).await;
        }
    };
    while let Some(part) = list.next_part(part_bytes) {
        let frame = ReplyFrame {
            id,
            result: Ok(Reply::More(part)),
        };
        if !encode_reply(&frame, out, max_frame) {
            // The error went in the part's place and ends the reply; the
            // client drops the parts before it.
            return write.write_all(out).await;
        }
        if out.len() >= FLUSH_AT {
            write.write_all(out).await?;
            out.clear();
        }
        // A write into a socket with room does not yield: let the other
        // connections and objects have the thread between parts.
        tokio::task::yield_now().await;
    }
    let last = ReplyFrame {
        id,
        result: Ok(list.into_last()),
    };
    encode_reply(&last, out, max_frame);
    write.write_all(out).await
}

/// Writes all of `out`, marking each hand-off delivered as soon as its
/// whole frame has been written (`handoffs` are in order of where their
/// frames end).
async fn write_tracking<W: AsyncWrite + Unpin>(
    write: &mut W,
    out: &[u8],
    handoffs: &mut VecDeque<(usize, Outgoing)>,
) -> std::io::Result<()> {
    let mut written = 0;
    while written < out.len() {
        let n = write.write(&out[written..]).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        written += n;
        while handoffs.front().is_some_and(|(end, _)| *end <= written) {
            if let Some((_, reply)) = handoffs.pop_front() {
                reply.deliver();
            }
        }
    }
    Ok(())
}

/// Appends `reply` to `out` as a frame; `false` if it did not fit (or did
/// not encode) and an error reply went in its place.
fn encode_reply(reply: &ReplyFrame, out: &mut Vec<u8>, max_frame: usize) -> bool {
    match encode_frame(reply, out, max_frame) {
        Ok(()) => true,
        Err(FrameError::TooLarge { len, max }) => {
            let refusal = ReplyFrame {
                id: reply.id,
                result: Err(ManagerError::ReplyTooLarge { size: len, max }),
            };
            encode_frame(&refusal, out, max_frame)
                .expect("a short error reply always fits a frame");
            false
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
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_private_to_this_host() {
        for local in [
            "127.0.0.1:5000",
            "127.1.2.3:5000",
            "[::1]:5000",
            "[::ffff:127.0.0.1]:5000",
        ] {
            let addr: SocketAddr = local.parse().unwrap();
            assert!(!reachable_from_other_hosts(addr), "{addr}");
        }
        for exposed in [
            "0.0.0.0:5000",
            "[::]:5000",
            "192.168.1.5:5000",
            "10.0.0.1:5000",
            "[fe80::1]:5000",
            "[::ffff:10.0.0.1]:5000",
        ] {
            let addr: SocketAddr = exposed.parse().unwrap();
            assert!(reachable_from_other_hosts(addr), "{addr}");
        }
    }

    #[test]
    fn failed_handshakes_are_counted_and_summed_up() {
        let start = Instant::now();
        let mut log = FailureLog::new();
        log.record(start, "first".into());
        assert_eq!((log.total, log.unlogged), (1, 0));
        for i in 0..1000 {
            log.record(start + Duration::from_millis(i), format!("peer {i}"));
        }
        // Within the window: counted, not logged.
        assert_eq!((log.total, log.unlogged), (1001, 1000));
        assert_eq!(log.last, "peer 999");
        log.flush(start + Duration::from_secs(1));
        assert_eq!(log.unlogged, 1000, "summed up before the window ended");
        log.flush(start + FAILURE_LOG_EVERY);
        assert_eq!((log.total, log.unlogged), (1001, 0));
        // The next one opens a window of its own.
        log.record(start + FAILURE_LOG_EVERY * 2, "later".into());
        assert_eq!((log.total, log.unlogged), (1002, 0));
    }

    #[test]
    fn a_slot_is_taken_only_under_the_limit_and_given_back() {
        let count = Arc::new(AtomicUsize::new(0));
        let a = Slot::take(&count, 2).expect("first");
        let b = Slot::take(&count, 2).expect("second");
        assert!(Slot::take(&count, 2).is_none());
        drop(a);
        let c = Slot::take(&count, 2).expect("freed");
        drop((b, c));
        assert_eq!(count.load(Ordering::Acquire), 0);
    }

    #[test]
    fn rate_covers_the_last_few_samples() {
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        let mut window = RateWindow::new(start);
        assert_eq!(window.recent(start, 0), (0, Duration::ZERO));
        // Just after the start the window is as long as the uptime.
        assert_eq!(window.recent(at(1), 30), (30, Duration::from_secs(1)));
        for s in 1..=10 {
            window.record(at(s), s * 100);
        }
        // Only the last RATE_SAMPLES samples are kept: the oldest is at 5 s.
        assert_eq!(window.samples.len(), RATE_SAMPLES);
        assert_eq!(window.recent(at(10), 1_000), (500, Duration::from_secs(5)));
        // Between samples the newest count still counts.
        let (count, span) = window.recent(at(10) + Duration::from_millis(500), 1_050);
        assert_eq!((count, span), (550, Duration::from_millis(5_500)));
        // A count never runs backwards, but a stale sample must not wrap.
        assert_eq!(window.recent(at(10), 0).0, 0);
    }
}
