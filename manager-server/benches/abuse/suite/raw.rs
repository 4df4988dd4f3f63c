//! [`Raw`]: one authenticated connection driven frame by frame from plain
//! threads, for attackers that must control exactly what is sent and what
//! is (not) read.
//!
//! The handshake is the library's own (`handshake::initiate`, on a
//! throw-away current-thread runtime); after it the socket is a blocking
//! `std` stream, so a writer thread can push bytes the manager may never
//! read while the caller does something else.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use manager::AuthKey;
use manager_core::inspect::ManagerSnapshot;
use manager_core::reply::{RegistryReply, Reply, ReplyFrame};
use manager_core::request::{RegistryRequest, Request, RequestFrame, RequestId};
use manager_core::{ManagerError, ObjectId, ObjectSpec, WireName, codec};
use manager_ipc::frame::{
    FrameBuffer, HANDSHAKE_MAX_FRAME, HEADER_LEN, REPLY_HEADROOM, encode_frame,
};
use manager_ipc::handshake;

/// How long a handshake may take.
pub(crate) const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// How long a registry call made to set an attack up may take.
const SETUP_LIMIT: Duration = Duration::from_secs(60);

/// How much one read of replies takes from the socket at most.
const READ_CHUNK: usize = 256 * 1024;

/// What [`Raw::recv`] found.
#[derive(Debug)]
pub(crate) enum Received {
    /// A reply, and the length of its frame's body in bytes.
    Frame(ReplyFrame, usize),
    /// The manager closed the connection (or reset it).
    Closed,
    /// Nothing whole arrived in time.
    TimedOut,
}

/// One authenticated connection; dropping it closes the socket at once.
#[derive(Debug)]
pub(crate) struct Raw {
    stream: UnixStream,
    /// Bytes read and not yet taken, from `start` on.
    buf: Vec<u8>,
    start: usize,
    next_id: u64,
    max_frame: usize,
    connection: u64,
}

impl Raw {
    /// Connects to the socket at `socket` and authenticates with `key`.
    ///
    /// # Errors
    ///
    /// If the connect or the handshake fails (a refusal over a limit
    /// included, with the manager's reason) or takes over
    /// [`HANDSHAKE_LIMIT`].
    pub(crate) fn open(socket: &Path, key: &AuthKey) -> anyhow::Result<Raw> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("a runtime for the handshake")?;
        let (stream, session) = rt.block_on(async {
            let mut stream = tokio::net::UnixStream::connect(socket)
                .await
                .with_context(|| format!("connect to {}", socket.display()))?;
            let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
            let session = tokio::time::timeout(
                HANDSHAKE_LIMIT,
                handshake::initiate(&mut stream, &mut buf, key),
            )
            .await
            .with_context(|| format!("no handshake within {HANDSHAKE_LIMIT:?}"))??;
            ensure!(
                buf.buffered() == 0,
                "the manager sent {} bytes before any request",
                buf.buffered()
            );
            anyhow::Ok((stream.into_std()?, session))
        })?;
        stream.set_nonblocking(false)?;
        Ok(Raw {
            stream,
            buf: Vec::new(),
            start: 0,
            next_id: 1,
            max_frame: session.max_frame,
            connection: session.connection,
        })
    }

    /// The manager's number for this connection, as inspection shows it.
    pub(crate) fn connection(&self) -> u64 {
        self.connection
    }

    /// The largest frame either side may send.
    pub(crate) fn max_frame(&self) -> usize {
        self.max_frame
    }

    /// Takes the next request id.
    pub(crate) fn next_id(&mut self) -> RequestId {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        id
    }

    /// Appends `request` to `out` as a frame with the next id.
    pub(crate) fn encode(
        &mut self,
        request: Request,
        out: &mut Vec<u8>,
    ) -> anyhow::Result<RequestId> {
        let id = self.next_id();
        encode_frame(&RequestFrame { id, request }, out, self.max_frame)?;
        Ok(id)
    }

    /// Sends `request` without waiting for its reply.
    pub(crate) fn send(&mut self, request: Request) -> anyhow::Result<RequestId> {
        let mut out = Vec::new();
        let id = self.encode(request, &mut out)?;
        self.send_raw(&out)?;
        Ok(id)
    }

    /// Writes `bytes` as they are, however long that takes.
    pub(crate) fn send_raw(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.stream.set_write_timeout(None)?;
        self.stream.write_all(bytes)?;
        Ok(())
    }

    /// The next reply, whatever its id, if one arrives whole `within`.
    pub(crate) fn recv(&mut self, within: Duration) -> anyhow::Result<Received> {
        let deadline = Instant::now() + within;
        loop {
            if let Some((frame, len)) = self.take_frame()? {
                return Ok(Received::Frame(frame, len));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Received::TimedOut);
            }
            self.stream
                .set_read_timeout(Some((deadline - now).max(Duration::from_millis(1))))?;
            match self.fill() {
                Ok(0) => return Ok(Received::Closed),
                Ok(_) => {}
                Err(e) if is_transient(&e) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Ok(Received::Closed);
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Sends `request` and waits `within` for its reply, which must be the
    /// next one; returns the result (a reply in parts joined) and the
    /// length of its frames.
    pub(crate) fn call(
        &mut self,
        request: Request,
        within: Duration,
    ) -> anyhow::Result<(Result<Reply, ManagerError>, usize)> {
        let id = self.send(request)?;
        let deadline = Instant::now() + within;
        let mut parts = Vec::new();
        let mut total = 0;
        loop {
            match self.recv(deadline.saturating_duration_since(Instant::now()))? {
                Received::Frame(reply, len) if reply.id == id => {
                    total += len;
                    match reply.result {
                        Ok(Reply::More(part)) => parts.push(part),
                        Ok(last) => return Ok((Ok(last.after_parts(parts)?), total)),
                        Err(e) => return Ok((Err(e), total)),
                    }
                }
                Received::Frame(reply, _) => {
                    bail!("expected the reply to {id:?}, got one to {:?}", reply.id)
                }
                Received::Closed => bail!("the manager closed the connection"),
                Received::TimedOut => bail!("no reply within {within:?}"),
            }
        }
    }

    /// Creates (or finds) the object `name`.
    pub(crate) fn create(&mut self, name: &str, spec: ObjectSpec) -> anyhow::Result<ObjectId> {
        let request = Request::Registry(RegistryRequest::CreateOrGet {
            name: WireName::new(name),
            spec,
        });
        match self.call(request, SETUP_LIMIT)?.0 {
            Ok(Reply::Registry(RegistryReply::Object(info))) => Ok(info.id),
            other => bail!("create `{name}`: {other:?}"),
        }
    }

    /// Removes the object `name`.
    pub(crate) fn remove(&mut self, name: &str) -> anyhow::Result<()> {
        let request = Request::Registry(RegistryRequest::Remove {
            name: WireName::new(name),
        });
        match self.call(request, SETUP_LIMIT)?.0 {
            Ok(Reply::Registry(RegistryReply::Removed(_))) => Ok(()),
            other => bail!("remove `{name}`: {other:?}"),
        }
    }

    /// The manager's snapshot.
    pub(crate) fn inspect(&mut self) -> anyhow::Result<ManagerSnapshot> {
        match self
            .call(Request::Registry(RegistryRequest::Inspect), SETUP_LIMIT)?
            .0
        {
            Ok(Reply::Registry(RegistryReply::Snapshot(snapshot))) => Ok(*snapshot),
            other => bail!("inspect: {other:?}"),
        }
    }

    /// Sends every request (from a writer thread) while reading their
    /// replies, in whatever order they come; fails if they do not all
    /// come `within`.
    pub(crate) fn pipeline(
        &mut self,
        requests: impl IntoIterator<Item = Request>,
        within: Duration,
    ) -> anyhow::Result<Vec<ReplyFrame>> {
        let mut bytes = Vec::new();
        let mut count = 0;
        for request in requests {
            self.encode(request, &mut bytes)?;
            count += 1;
        }
        let writer = self.writer(bytes)?;
        let deadline = Instant::now() + within;
        let mut replies = Vec::with_capacity(count);
        while replies.len() < count {
            match self.recv(deadline.saturating_duration_since(Instant::now()))? {
                Received::Frame(reply, _) => replies.push(reply),
                Received::Closed => bail!(
                    "the manager closed the connection after {} of {count} replies",
                    replies.len()
                ),
                Received::TimedOut => {
                    bail!("{} of {count} replies within {within:?}", replies.len())
                }
            }
        }
        writer.finish()?;
        Ok(replies)
    }

    /// Starts writing `bytes` from a thread of its own.
    pub(crate) fn writer(&self, bytes: Vec<u8>) -> anyhow::Result<Writer> {
        Writer::start(self.stream.try_clone()?, bytes)
    }

    /// The next whole frame in the buffer, if there is one.
    fn take_frame(&mut self) -> anyhow::Result<Option<(ReplyFrame, usize)>> {
        let available = &self.buf[self.start..];
        if available.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_le_bytes(available[..HEADER_LEN].try_into()?) as usize;
        ensure!(
            len <= self.max_frame + REPLY_HEADROOM,
            "a reply frame of {len} bytes"
        );
        if available.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let reply = codec::decode::<ReplyFrame>(&available[HEADER_LEN..HEADER_LEN + len])
            .context("decode a reply")?;
        self.start += HEADER_LEN + len;
        Ok(Some((reply, len)))
    }

    /// One read from the socket into the buffer.
    fn fill(&mut self) -> io::Result<usize> {
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start >= READ_CHUNK {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + READ_CHUNK, 0);
        let read = self.stream.read(&mut self.buf[old..]);
        self.buf.truncate(old + *read.as_ref().unwrap_or(&0));
        read
    }
}

/// Whether an I/O error only means "not now".
pub(crate) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Writes bytes to a connection from a thread of its own, for as long as
/// the manager takes them or until stopped.
#[derive(Debug)]
pub(crate) struct Writer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<io::Result<usize>>>,
}

impl Writer {
    fn start(mut stream: UnixStream, bytes: Vec<u8>) -> anyhow::Result<Writer> {
        // Short timeouts, so that a write the manager never takes still
        // looks at `stop` now and then.
        stream.set_write_timeout(Some(Duration::from_millis(50)))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = thread::Builder::new()
            .name("abuse-writer".into())
            .spawn(move || {
                let mut at = 0;
                while at < bytes.len() && !stopped.load(Ordering::Relaxed) {
                    match stream.write(&bytes[at..]) {
                        Ok(n) => at += n,
                        Err(e) if is_transient(&e) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(at)
            })?;
        Ok(Writer {
            stop,
            thread: Some(thread),
        })
    }

    /// Waits until every byte is written; returns how many.
    pub(crate) fn finish(mut self) -> anyhow::Result<usize> {
        let thread = self.thread.take().expect("joined once");
        let written = thread
            .join()
            .map_err(|_| anyhow::anyhow!("the writer panicked"))??;
        Ok(written)
    }

    /// Stops writing; returns how many bytes were written, or the error
    /// that stopped the writes.
    pub(crate) fn abandon(mut self) -> io::Result<usize> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().expect("joined once");
        thread
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the writer panicked")))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
