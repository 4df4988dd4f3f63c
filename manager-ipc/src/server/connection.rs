//! One connection's life after its handshake: its reader and writer tasks,
//! how a closed peer is noticed, and why it was closed told to it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use manager_actors::reply::PeerCheck;
use manager_actors::threads::Seat;
use manager_actors::{ConnectionId, ReplySink};
use manager_core::inspect::{Peer, UnixMillis};
use manager_core::request::{RequestFrame, RequestId};
use manager_core::{ManagerError, codec};

use super::descriptors::InFlight;
use super::reader::Reader;
use super::state::{ConnectionCounters, LiveConnection, Registered, ServerState, Slot, UnderWay};
use super::writer::write_replies;
use crate::frame::{FrameBuffer, FrameError, HANDSHAKE_MAX_FRAME, REPLY_HEADROOM};
use crate::handles::Handles;
use crate::handshake::{self, Session};
use crate::platform;
use crate::transport::Stream;

/// Frames at least this large are decoded on a blocking thread: decoding
/// one that holds millions of tiny values takes a second, which would hold
/// up every object and connection on the connection's thread.
pub(super) const DECODE_APART: usize = 256 * 1024;

/// Decodes a request frame, a large one on a blocking thread (the reader
/// waits for it, so the connection's order holds). A large value in it
/// keeps the frame's bytes rather than a copy ([`codec::decode_shared`]).
pub(super) async fn decode_request(frame: bytes::Bytes) -> Result<RequestFrame, FrameError> {
    if frame.len() < DECODE_APART {
        return Ok(codec::decode_shared(&frame)?);
    }
    match tokio::task::spawn_blocking(move || codec::decode_shared::<RequestFrame>(&frame)).await {
        Ok(decoded) => Ok(decoded?),
        Err(e) => Err(FrameError::Io(std::io::Error::other(format!(
            "decoding a large frame failed: {e}"
        )))),
    }
}

/// How long a connection closed for bad input has to take the frame that
/// says why.
pub(super) const LAST_WORD_GRACE: Duration = Duration::from_secs(1);

/// What the accept loop hands a connection's task along with its stream.
pub(super) struct Accepted {
    /// The connection's number.
    pub(super) id: u64,
    /// Who connected.
    pub(super) peer: Peer,
    /// Its place among the handshakes allowed at once.
    pub(super) handshaking: Slot,
    /// Its entry on the list of handshakes under way.
    pub(super) under_way: UnderWay,
    /// Its place on its thread.
    pub(super) seat: Seat,
}

pub(super) async fn run<S: Stream>(mut stream: S, accepted: Accepted, shared: Arc<ServerState>) {
    let Accepted {
        id,
        peer,
        handshaking,
        under_way,
        seat,
    } = accepted;
    // The seat counts this connection on its thread until it ends.
    let thread = seat.at();
    tracing::debug!(connection = id, %peer, "connection accepted");
    let limits = shared.config.limits.clone();
    let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
    let timeout = limits.handshake_timeout;
    let session = Session {
        connection: id,
        manager: shared.config.manager_id,
        max_frame: limits.max_frame,
    };
    let admit = || {
        let slot = Slot::take(&shared.connected, limits.max_connections).ok_or_else(|| {
            format!(
                "too many connections: the limit is {}",
                limits.max_connections
            )
        })?;
        // Off the list of handshakes under way before the welcome is sent,
        // so a newer handshake can no longer close this connection to make
        // room; if one already has, this one fails here (its task is being
        // aborted), and the client is told so rather than welcomed.
        if !under_way.leave() {
            return Err("closed to make room for newer handshakes".to_owned());
        }
        // Listed before the welcome, so a client that has been welcomed is
        // in every inspection taken after (the guard delists it if the
        // welcome cannot be sent).
        let counters = Arc::new(ConnectionCounters::default());
        shared.live().insert(
            id,
            LiveConnection {
                peer: peer.clone(),
                thread: u32::try_from(thread.0).unwrap_or(u32::MAX),
                since: UnixMillis::now(),
                counters: counters.clone(),
            },
        );
        let registered = Registered {
            shared: &shared,
            id,
        };
        Ok((slot, registered, counters))
    };
    let handshake = handshake::accept(&mut stream, &mut buf, &shared.key, session, admit);
    let (_connected, _registered, counters) = match tokio::time::timeout(timeout, handshake).await {
        Ok(Ok(admitted)) => {
            tracing::debug!(connection = id, %peer, "client connected");
            admitted
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
    // Declared after the registration, so dropped before it: once
    // inspection no longer lists this connection, its thread no longer
    // counts it.
    let _seat = seat;
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
        shared.errors.clone(),
        InFlight::new(
            shared.descriptors_in_flight.clone(),
            limits.max_descriptors_unread,
            limits.max_descriptors_in_flight,
        )
        .shown_in(counters.clone()),
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
        registry: Vec::new(),
        thread,
        read_at: Instant::now(),
    };
    match reader.run(read).await {
        Ok(()) => tracing::debug!(connection = id, %peer, "client disconnected"),
        Err(e) if peer_vanished(&e) => {
            // A worker that dies (killed, crashed) leaves this way: expected
            // in a manager's life, so not a warning.
            tracing::debug!(connection = id, %peer, error = %e, "client gone");
        }
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

/// Whether `e` only says the peer went away (its process ended, perhaps
/// mid-frame), rather than that it sent something wrong.
fn peer_vanished(e: &FrameError) -> bool {
    match e {
        FrameError::Truncated { .. } => true,
        FrameError::Io(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
                | std::io::ErrorKind::ConnectionAborted
                | std::io::ErrorKind::UnexpectedEof
        ),
        _ => false,
    }
}

/// Asks a connection's socket whether its peer has hung up, through a
/// duplicate of its descriptor that the connection closes when it ends.
#[derive(Debug)]
pub(super) struct SocketPeer {
    pub(super) fd: Mutex<Option<std::os::fd::OwnedFd>>,
}

impl SocketPeer {
    /// A check of `stream`'s peer; `None` if the descriptor cannot be
    /// duplicated (out of descriptors): then hand-offs rely on failed
    /// writes alone.
    pub(super) fn of<S: Stream>(stream: &S) -> Option<Arc<SocketPeer>> {
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

    pub(super) fn fd(&self) -> std::sync::MutexGuard<'_, Option<std::os::fd::OwnedFd>> {
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
pub(super) struct ClosesPeer(Option<Arc<SocketPeer>>);

impl Drop for ClosesPeer {
    fn drop(&mut self) {
        if let Some(peer) = &self.0 {
            peer.fd().take();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_that_went_away_is_told_from_one_that_sent_garbage() {
        let io = |kind| FrameError::Io(std::io::Error::from(kind));
        assert!(peer_vanished(&io(std::io::ErrorKind::ConnectionReset)));
        assert!(peer_vanished(&io(std::io::ErrorKind::BrokenPipe)));
        assert!(peer_vanished(&FrameError::Truncated { buffered: 3 }));
        assert!(!peer_vanished(&io(std::io::ErrorKind::PermissionDenied)));
        assert!(!peer_vanished(&FrameError::TooLarge { len: 9, max: 1 }));
        assert!(!peer_vanished(&FrameError::Timeout {
            after: Duration::from_secs(1),
            buffered: 1
        }));
    }
}
