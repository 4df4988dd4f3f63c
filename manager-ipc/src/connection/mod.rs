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
//! What a late reply took (a lock, a unit, an item) is given back as it is
//! read. So the reader must run: a connection whose replies are read only
//! while a call runs waits out a given-up call's cancel, and reads on in a
//! thread of its own should the answer come later
//! ([`Connection::settle_give_ups`]).
//!
//! # Disconnection
//!
//! When the connection ends (the manager stopped or died, or the runtime its
//! reader task ran on shut down), every waiting call and every later call
//! fails with [`Error::ManagerGone`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use manager_core::reply::{Reply, ReplyShape};
use manager_core::request::{Request, RequestFrame, RequestId};
use tokio::runtime::Runtime;
use tokio::sync::Notify;

use crate::address::Address;
use crate::auth::AuthKey;
use crate::error::Error;
use crate::frame::{FrameBuffer, HANDSHAKE_MAX_FRAME, REPLY_HEADROOM, encode_frame};
use crate::handshake::{self, HandshakeError};
use crate::outbox::Outbox;
use crate::transport::{self, AnyStream, ReceivedFds, Stream};

mod call;
mod pending;
mod settle;
mod tasks;
#[cfg(test)]
mod tests;

pub use call::CallFuture;
pub use pending::Takes;

use pending::Pending;
use settle::Settler;
use tasks::{close, flush, read_replies};

/// How long a connecting client waits for the manager to finish the
/// handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes of parts a reply that comes in several frames may carry
/// (see [`manager_core::reply::parts`]); past it the call fails with
/// [`ManagerError::LimitReached`](manager_core::ManagerError::LimitReached)
/// and the rest of its parts are dropped.
pub const MAX_REPLY_BYTES: usize = 1 << 30;

/// The longest a call that gave up waits for the manager's answer to its
/// cancel, on a connection that settles its give-ups
/// ([`Connection::settle_give_ups`]); never longer than the call's own
/// deadline.
pub const GIVE_UP_WAIT: Duration = Duration::from_secs(1);

/// What every clone of a [`Connection`] shares.
struct Inner {
    address: Address,
    connection: u64,
    manager: u64,
    max_frame: usize,
    next_id: AtomicU64,
    pending: Mutex<Pending>,
    outbox: Arc<Outbox>,
    /// Descriptors received beside reply frames, not yet given to a reply
    /// (see [`Reply::Mapping`](manager_core::reply::Reply::Mapping)).
    fds: ReceivedFds,
    /// Whether the connection is over a Unix socket (which alone carries
    /// descriptors).
    unix: bool,
    /// The reader and flush tasks, stopped when the last handle goes.
    tasks: OnceLock<[tokio::task::AbortHandle; 2]>,
    /// Set if calls that give up settle their give-ups
    /// ([`Connection::settle_give_ups`]).
    settler: OnceLock<Settler>,
    /// Notified whenever the connection may have become settled: a
    /// given-up call's answer read, the outbox emptied, the connection
    /// closed or dropped (see `settle.rs`).
    settled: Arc<Notify>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in self.tasks.get().into_iter().flatten() {
            task.abort();
        }
        self.settled.notify_waiters();
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
        let fds = ReceivedFds::default();
        let read = S::client_read(read, fds.clone());
        let settled = Arc::new(Notify::new());
        let inner = Arc::new(Inner {
            address: address.clone(),
            connection: session.connection,
            manager: session.manager,
            max_frame: session.max_frame,
            next_id: AtomicU64::new(1),
            pending: Mutex::new(Pending::open()),
            outbox: Arc::new(Outbox::new(write.into(), settled.clone())),
            fds,
            unix: matches!(address, Address::Unix(_)),
            tasks: OnceLock::new(),
            settler: OnceLock::new(),
            settled,
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

    /// Whether this connection can receive descriptors beside its replies
    /// (a Unix socket: the manager is on this machine), as a shared memory
    /// block's mapping needs.
    pub fn carries_descriptors(&self) -> bool {
        self.inner.unix
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

    /// Makes every call on this connection (all its handles) that reaches
    /// its deadline on a request that may take something (a lock, a unit,
    /// an item) take the request back and wait for the manager's answer,
    /// up to [`GIVE_UP_WAIT`] and no longer than its deadline again,
    /// before it fails with [`Error::Timeout`]. A grant that crossed the
    /// cancel is given back then, before the call returns. Should the
    /// manager answer later than that, a thread of its own drives
    /// `runtime` (the one this connection was opened on) until the answer
    /// is read and what it took given back, then ends.
    ///
    /// For a connection whose replies are read only while one of its calls
    /// runs, as a blocking client's are: without it, such a grant would
    /// stay unread, and what it took held by a caller that believes it
    /// failed, until the connection's next call, which may never come.
    /// Where a reader task runs all the time, it gives such a grant back
    /// as it comes, and this only makes a timed-out call return later.
    /// Asked again, it changes nothing: the first runtime stays.
    pub fn settle_give_ups(&self, runtime: &Arc<Runtime>) {
        let _ = self.inner.settler.set(Settler::new(runtime));
    }

    /// Whether [`Connection::settle_give_ups`] was asked for.
    pub(crate) fn settles_give_ups(&self) -> bool {
        self.inner.settler.get().is_some()
    }

    /// Whether a settler thread runs now (see `settle.rs`).
    #[cfg(test)]
    pub(crate) fn settler_runs(&self) -> bool {
        self.inner
            .settler
            .get()
            .is_some_and(|settler| settler.is_running())
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
        })?;
        // Its rest, if the socket took only part of it, must be written
        // even if no call runs after it (see `settle.rs`).
        settle::settle_later(&self.inner);
        Ok(())
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
    pub fn call(&self, request: Request) -> CallFuture<'_> {
        self.call_within(request, self.timeout, None)
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
    pub fn call_within(
        &self,
        request: Request,
        deadline: Option<Duration>,
        takes: Option<Request>,
    ) -> CallFuture<'_> {
        CallFuture::new(self, request, deadline, takes)
    }

    /// A fresh request id.
    fn next_id(&self) -> RequestId {
        RequestId(self.inner.next_id.fetch_add(1, Ordering::Relaxed))
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
