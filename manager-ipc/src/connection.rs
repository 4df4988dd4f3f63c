//! [`Connection`]: the client's end of the bridge, one authenticated
//! connection to a manager that a process shares between all its calls.
//!
//! It carries [`Request`]s and their [`Reply`]s, nothing typed: the
//! user-facing client and proxies of the `manager` crate are built on it.
//! Every call gets a fresh request id; a background task reads replies and hands each to the call waiting for
//! its id, so many calls may be in flight at once and their replies may come
//! back in any order.
//!
//! # Timeouts and cancellation
//!
//! A call may carry a deadline ([`Connection::with_timeout`]). A call that times
//! out, or whose future is dropped, forgets its id: a late reply is discarded
//! and the connection stays in step. The manager may still apply the request.
//!
//! # Disconnection
//!
//! When the connection ends (the manager stopped or died, or the runtime its
//! reader task ran on shut down), every waiting call and every later call
//! fails with [`Error::ManagerGone`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use manager_core::reply::{Part, Reply, ReplyFrame, ReplyShape};
use manager_core::request::{ObjectRequest, Request, RequestFrame, RequestId, Wait};
use manager_core::{CodecError, ManagerError, ObjectId};
use tokio::io::AsyncRead;
use tokio::sync::oneshot;

use crate::address::Address;
use crate::auth::AuthKey;
use crate::error::Error;
use crate::frame::{FrameBuffer, FrameError, HANDSHAKE_MAX_FRAME, REPLY_HEADROOM, encode_frame};
use crate::handshake::{self, HandshakeError};
use crate::outbox::Outbox;
use crate::transport::{self, AnyStream, Stream};

/// How long a connecting client waits for the manager to finish the
/// handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes of parts a reply that comes in several frames may carry
/// (see [`manager_core::reply::parts`]); past it the call fails with
/// [`ManagerError::LimitReached`] and the rest of its parts are dropped.
pub const MAX_REPLY_BYTES: usize = 1 << 30;

/// A call waiting for its reply.
struct Waiter {
    reply: oneshot::Sender<Result<Reply, ManagerError>>,
    /// The request itself, kept if it may take something (a lock, a unit,
    /// a queue item) that must be given back should its reply come after
    /// the caller gave up.
    takes: Option<Request>,
    /// The object the request may park in, to take it back from should
    /// its caller give up ([`ObjectRequest::Cancel`]).
    parks: Option<ObjectId>,
    /// The parts of a long reply that came so far, and their frames' bytes.
    parts: Vec<Part>,
    part_bytes: usize,
}

/// Calls waiting for replies, or why there will be no more replies.
enum Pending {
    Open {
        /// Calls whose caller still waits, by id.
        waiting: HashMap<RequestId, Waiter>,
        /// Abandoned calls whose grant must be undone if it comes.
        abandoned: HashMap<RequestId, Request>,
    },
    /// No more replies; with the manager's reason if it gave one.
    Closed(Option<ManagerError>),
}

impl Pending {
    fn open() -> Self {
        Pending::Open {
            waiting: HashMap::new(),
            abandoned: HashMap::new(),
        }
    }
}

/// What gives back what `request` took, judging by its late `result` (see
/// [`ObjectRequest::undo_for`](manager_core::request::ObjectRequest::undo_for)).
fn undo_for(request: Request, result: &Result<Reply, ManagerError>) -> Option<Request> {
    match (request, result) {
        (Request::Object { target, op }, Ok(reply)) => {
            op.undo_for(reply).map(|op| Request::Object { target, op })
        }
        _ => None,
    }
}

struct Inner {
    address: Address,
    connection: u64,
    manager: u64,
    max_frame: usize,
    next_id: AtomicU64,
    pending: Mutex<Pending>,
    outbox: Arc<Outbox>,
    /// The reader and flush tasks, stopped when the last handle goes.
    tasks: std::sync::OnceLock<[tokio::task::AbortHandle; 2]>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self.tasks.get().into_iter().flatten() {
            task.abort();
        }
    }
}

/// A connection to a manager; clone it freely (clones share the
/// connection).
///
/// Its reader and writer are tasks on the tokio runtime it was opened in,
/// which must keep running for calls to be answered.
///
/// # Examples
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use manager_core::request::{RegistryRequest, Request};
/// use manager_ipc::{Address, AuthKey, Connection};
///
/// let address: Address = "unix:/run/app/manager.sock".parse()?;
/// let key = AuthKey::from_hex(&std::env::var("MANAGER_AUTHKEY")?)?;
/// let connection = Connection::connect(&address, &key).await?;
/// let objects = connection.call(Request::Registry(RegistryRequest::List)).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("address", &self.inner.address)
            .field("connection", &self.inner.connection)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Connection {
    /// Connects to the manager at `address` and authenticates with `key`.
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] if nothing answers at the address, and
    /// [`Error::Handshake`] if authentication fails (for example a wrong key),
    /// the protocol versions differ, or the manager does not finish the
    /// handshake within [`CONNECT_TIMEOUT`].
    pub async fn connect(address: &Address, key: &AuthKey) -> Result<Connection, Error> {
        let connect_err = |cause| Error::Connect {
            address: address.clone(),
            cause,
        };
        match transport::connect(address).await.map_err(connect_err)? {
            AnyStream::Unix(s) => Self::start(s, address, key).await,
            AnyStream::Tcp(s) => Self::start(s, address, key).await,
        }
    }

    async fn start<S: Stream>(
        mut stream: S,
        address: &Address,
        key: &AuthKey,
    ) -> Result<Connection, Error> {
        let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
        // A peer that accepts but never answers (a stopped manager) must not
        // hang the connect.
        let handshake = tokio::time::timeout(
            CONNECT_TIMEOUT,
            handshake::initiate(&mut stream, &mut buf, key),
        );
        let session = match handshake.await {
            Ok(result) => result,
            Err(_) => Err(HandshakeError::Timeout(CONNECT_TIMEOUT)),
        }
        .map_err(|cause| Error::Handshake {
            address: address.clone(),
            cause,
        })?;
        // Replies may carry a little more framing than requests.
        buf.set_max_frame(session.max_frame + REPLY_HEADROOM);
        let (read, write) = stream.into_split();
        let inner = Arc::new(Inner {
            address: address.clone(),
            connection: session.connection,
            manager: session.manager,
            max_frame: session.max_frame,
            next_id: AtomicU64::new(1),
            pending: Mutex::new(Pending::open()),
            outbox: Arc::new(Outbox::new(write.into())),
            tasks: std::sync::OnceLock::new(),
        });
        let reader = tokio::spawn(read_replies(read, buf, Arc::downgrade(&inner)));
        let flusher = tokio::spawn(flush(inner.outbox.clone(), Arc::downgrade(&inner)));
        let _ = inner
            .tasks
            .set([reader.abort_handle(), flusher.abort_handle()]);
        Ok(Connection {
            inner,
            timeout: None,
        })
    }

    /// The manager's address.
    pub fn address(&self) -> &Address {
        &self.inner.address
    }

    /// The manager's number for this connection.
    pub fn connection_id(&self) -> u64 {
        self.inner.connection
    }

    /// The identity of the manager at the other end: a random number it
    /// chose when it started, so that what names an object of one manager
    /// is not taken for one of another.
    pub fn manager_id(&self) -> u64 {
        self.inner.manager
    }

    /// A handle on the same connection whose calls fail with [`Error::Timeout`] after `timeout`.
    pub fn with_timeout(&self, timeout: Duration) -> Connection {
        Connection {
            inner: self.inner.clone(),
            timeout: Some(timeout),
        }
    }

    /// How many calls wait for their replies now; 0 once the connection
    /// is closed.
    pub fn waiting(&self) -> usize {
        match &*self.inner.pending.lock().expect("pending map poisoned") {
            Pending::Open { waiting, .. } => waiting.len(),
            Pending::Closed(_) => 0,
        }
    }

    /// The deadline this handle puts on each call, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// Sends one request without keeping a place for its reply, which is
    /// discarded when it comes. For a guard's release in `drop`, which cannot
    /// wait.
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] if the request cannot be encoded, and
    /// [`Error::ManagerGone`] or [`Error::Disconnected`] if the connection
    /// is closed.
    pub fn send_detached(&self, request: Request) -> Result<(), Error> {
        let id = RequestId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        let mut frame = Vec::new();
        encode_frame(
            &RequestFrame { id, request },
            &mut frame,
            self.inner.max_frame,
        )
        .map_err(Error::Encode)?;
        let alone = match &*self.inner.pending.lock().expect("pending map poisoned") {
            Pending::Open { waiting, .. } => Some(waiting.is_empty()),
            Pending::Closed(_) => None,
        };
        // `gone` takes the lock itself: asked once it is released.
        let Some(alone) = alone else {
            return Err(self.gone());
        };
        self.inner.outbox.submit(&frame, alone).map_err(|_| {
            close(&self.inner, None);
            self.gone()
        })
    }

    /// Sends one request and waits for its reply, within this handle's
    /// timeout if it has one.
    ///
    /// # Errors
    ///
    /// [`Error::Manager`] if the manager refused the request,
    /// [`Error::ManagerGone`] if the connection ended, [`Error::Timeout`] if
    /// the deadline passed, and [`Error::Encode`] if the request cannot be
    /// encoded.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in that dropping the future never corrupts the
    /// connection; the request may or may not have been sent and applied.
    pub async fn call(&self, request: Request) -> Result<Reply, Error> {
        self.call_within(request, self.timeout, None).await
    }

    /// [`Connection::call`], expecting a reply of the shape `S`; a reply of
    /// another shape is [`Error::Protocol`].
    ///
    /// # Errors
    ///
    /// As [`Connection::call`].
    pub async fn call_as<S: ReplyShape>(&self, request: Request) -> Result<S, Error> {
        let reply = self.call(request).await?;
        self.shaped(reply)
    }

    /// `reply` as the shape `S`, or [`Error::Protocol`] naming what came.
    ///
    /// # Errors
    ///
    /// [`Error::Protocol`] if the reply has another shape.
    pub fn shaped<S: ReplyShape>(&self, reply: Reply) -> Result<S, Error> {
        S::from_reply(reply).map_err(|other| Error::Protocol {
            address: self.inner.address.clone(),
            reason: format!(
                "expected a reply of shape `{}`, got {other:?}",
                std::any::type_name::<S>()
            ),
        })
    }

    /// [`Connection::call`] with this deadline instead of the handle's.
    ///
    /// If the caller gives up (deadline, or the future is dropped) on a
    /// request that may take something (`takes`: a copy of the request) and
    /// its reply comes later with what it took, the request that gives it
    /// back is sent, so a lock is not left held and an item not lost by a
    /// caller that believes it failed.
    ///
    /// # Errors
    ///
    /// As [`Connection::call`].
    pub async fn call_within(
        &self,
        request: Request,
        deadline: Option<Duration>,
        takes: Option<Request>,
    ) -> Result<Reply, Error> {
        match deadline {
            None => self.call_inner(request, takes).await,
            Some(after) => {
                match tokio::time::timeout(after, self.call_inner(request, takes)).await {
                    Ok(result) => result,
                    Err(_) => Err(Error::Timeout { after }),
                }
            }
        }
    }

    async fn call_inner(
        &self,
        mut request: Request,
        takes: Option<Request>,
    ) -> Result<Reply, Error> {
        let id = RequestId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        // A request that may park is taken back if its caller gives up.
        let parks = match &mut request {
            Request::Object { target, op } => op
                .wait_mut()
                .is_some_and(|wait| *wait != Wait::No)
                .then_some(*target),
            Request::Registry(_) => None,
        };
        let mut frame = Vec::new();
        encode_frame(
            &RequestFrame { id, request },
            &mut frame,
            self.inner.max_frame,
        )
        .map_err(Error::Encode)?;
        let (tx, rx) = oneshot::channel();
        let alone = match &mut *self.inner.pending.lock().expect("pending map poisoned") {
            Pending::Open { waiting, .. } => {
                let alone = waiting.is_empty();
                waiting.insert(
                    id,
                    Waiter {
                        reply: tx,
                        takes: takes.clone(),
                        parks,
                        parts: Vec::new(),
                        part_bytes: 0,
                    },
                );
                Some(alone)
            }
            Pending::Closed(_) => None,
        };
        // `gone` takes the lock itself: asked once it is released.
        let Some(alone) = alone else {
            return Err(self.gone());
        };
        // Forget the id if this future is dropped or fails, so a late reply
        // is discarded.
        let mut forget = ForgetOnDrop {
            client: self,
            id,
            reply: Some(rx),
            takes,
        };
        if let Err(e) = self.inner.outbox.submit(&frame, alone) {
            tracing::debug!(error = %e, "write to manager failed");
            close(&self.inner, None);
            return Err(self.gone());
        }
        let rx = forget.reply.as_mut().expect("taken only here or on drop");
        let result = rx.await;
        // Received: nothing is left in the channel for the guard to give back.
        forget.reply = None;
        match result {
            Ok(result) => result.map_err(Error::Manager),
            Err(_) => Err(self.gone()),
        }
    }

    fn gone(&self) -> Error {
        let address = self.inner.address.clone();
        match &*self.inner.pending.lock().expect("pending map poisoned") {
            Pending::Closed(Some(reason)) => Error::Disconnected {
                address,
                reason: Box::new(reason.clone()),
            },
            _ => Error::ManagerGone { address },
        }
    }
}

/// Forgets a call whose future is dropped before its reply was taken:
/// a late reply is then discarded, and what it takes given back.
struct ForgetOnDrop<'a> {
    client: &'a Connection,
    id: RequestId,
    /// The reply's channel until the caller has taken the reply: a reply
    /// that reached it after the caller stopped polling is still in it.
    reply: Option<oneshot::Receiver<Result<Reply, ManagerError>>>,
    /// The request, if it may take something to give back.
    takes: Option<Request>,
}

impl ForgetOnDrop<'_> {
    /// Gives back what a reply left unread in the channel took.
    fn give_back_unread(&mut self) {
        let Some(mut reply) = self.reply.take() else {
            return;
        };
        let (Ok(result), Some(request)) = (reply.try_recv(), self.takes.take()) else {
            return;
        };
        if let Some(undo) = undo_for(request, &result) {
            tracing::debug!(?undo, "giving back a grant its caller never read");
            if let Err(e) = self.client.send_detached(undo) {
                tracing::debug!(error = %e, "cannot give back an unread grant");
            }
        }
    }
}

impl Drop for ForgetOnDrop<'_> {
    fn drop(&mut self) {
        let parked_at = {
            let mut pending = self
                .client
                .inner
                .pending
                .lock()
                .expect("pending map poisoned");
            let Pending::Open { waiting, abandoned } = &mut *pending else {
                return;
            };
            let Some(waiter) = waiting.remove(&self.id) else {
                // The reply came: if the caller never took it from the
                // channel, what it took goes back.
                drop(pending);
                self.give_back_unread();
                return;
            };
            if let Some(request) = waiter.takes {
                // If a grant comes later, give it back.
                abandoned.insert(self.id, request);
            }
            waiter.parks
        };
        if let Some(target) = parked_at {
            // Taken back if it is still parked, so it neither waits on in
            // the manager nor takes what another caller is waiting for; a
            // grant already on its way is given back as above. Sent once
            // the lock is released: sending takes it.
            let cancel = Request::Object {
                target,
                op: ObjectRequest::Cancel { request: self.id },
            };
            if let Err(e) = self.client.send_detached(cancel) {
                tracing::debug!(error = %e, "cannot take back an abandoned request");
            }
        }
    }
}

async fn flush(outbox: Arc<Outbox>, inner: std::sync::Weak<Inner>) {
    let error = outbox.flush_forever().await;
    if let Some(inner) = inner.upgrade() {
        tracing::warn!(address = %inner.address, %error, "write to manager failed");
        close(&inner, None);
    }
}

/// Marks the connection closed, with the manager's `reason` if it gave
/// one, and fails every waiting call.
fn close(inner: &Inner, reason: Option<ManagerError>) {
    let pending = {
        let mut pending = inner.pending.lock().expect("pending map poisoned");
        if let Pending::Closed(known) = &mut *pending {
            // Closed already; a reason that came after is still kept.
            if known.is_none() {
                *known = reason;
            }
            return;
        }
        std::mem::replace(&mut *pending, Pending::Closed(reason))
    };
    // Dropping the senders wakes each waiter with "gone".
    drop(pending);
}

/// Closes the connection when the reader stops for any reason, its end
/// or its runtime shutting down under it: with nobody reading replies, a
/// call must fail, not wait for ever.
struct CloseWhenReaderStops(std::sync::Weak<Inner>);

impl Drop for CloseWhenReaderStops {
    fn drop(&mut self) {
        if let Some(inner) = self.0.upgrade() {
            close(&inner, None);
        }
    }
}

async fn read_replies<R: AsyncRead + Unpin>(
    mut read: R,
    mut buf: FrameBuffer,
    inner: std::sync::Weak<Inner>,
) {
    let _close = CloseWhenReaderStops(inner.clone());
    let outcome = read_loop(&mut read, &mut buf, &inner).await;
    if let Some(inner) = inner.upgrade() {
        match outcome {
            Ok(()) => tracing::debug!(address = %inner.address, "manager closed the connection"),
            Err(e) => {
                tracing::warn!(address = %inner.address, error = %e, "connection to manager failed")
            }
        }
        close(&inner, None);
    }
}

async fn read_loop<R: AsyncRead + Unpin>(
    read: &mut R,
    buf: &mut FrameBuffer,
    inner: &std::sync::Weak<Inner>,
) -> Result<(), FrameError> {
    let mut undos = Vec::new();
    while buf.fill(read).await? {
        let Some(inner) = inner.upgrade() else {
            return Ok(());
        };
        {
            let mut pending = inner.pending.lock().expect("pending map poisoned");
            while let Some(frame) = buf.next_frame()? {
                let ReplyFrame { id, mut result } = manager_core::codec::decode(&frame)?;
                if id == RequestId::CONNECTION {
                    // The manager's last word: why it closes the connection.
                    let reason = result.err().unwrap_or_else(|| {
                        ManagerError::BadRequest("the manager closed the connection".into())
                    });
                    tracing::warn!(address = %inner.address, %reason, "manager closed the connection");
                    let Pending::Open { .. } = &*pending else {
                        continue;
                    };
                    drop(std::mem::replace(
                        &mut *pending,
                        Pending::Closed(Some(reason)),
                    ));
                    continue;
                }
                let Pending::Open { waiting, abandoned } = &mut *pending else {
                    continue;
                };
                if let Ok(Reply::More(part)) = result {
                    // A part of a long reply: kept until its last frame.
                    if let Some(waiter) = waiting.get_mut(&id) {
                        waiter.part_bytes += frame.len();
                        if waiter.part_bytes <= MAX_REPLY_BYTES {
                            waiter.parts.push(part);
                        } else if let Some(waiter) = waiting.remove(&id) {
                            // The rest of it is dropped as a reply to a
                            // call nobody waits for.
                            let _ = waiter.reply.send(Err(ManagerError::LimitReached {
                                what: "bytes of one reply (client side)".into(),
                                max: MAX_REPLY_BYTES as u64,
                            }));
                        }
                    }
                    continue;
                }
                if let Some(waiter) = waiting.remove(&id) {
                    if !waiter.parts.is_empty()
                        && let Ok(reply) = result
                    {
                        result = Ok(reply.after_parts(waiter.parts).map_err(|e| {
                            FrameError::Codec(CodecError::Invalid {
                                expected: "a reply in parts".into(),
                                found: e.to_string(),
                            })
                        })?);
                    }
                    // The caller may have given up just now; then its grant
                    // is given back.
                    if let Err(result) = waiter.reply.send(result)
                        && let Some(request) = waiter.takes
                        && let Some(undo) = undo_for(request, &result)
                    {
                        undos.push(undo);
                    }
                } else if let Some(request) = abandoned.remove(&id)
                    && let Some(undo) = undo_for(request, &result)
                {
                    undos.push(undo);
                }
            }
        }
        if !undos.is_empty() {
            let client = Connection {
                inner: inner.clone(),
                timeout: None,
            };
            for undo in undos.drain(..) {
                tracing::debug!(
                    ?undo,
                    "giving back a grant that came after its caller gave up"
                );
                if client.send_detached(undo).is_err() {
                    break;
                }
            }
        }
    }
    Ok(())
}
