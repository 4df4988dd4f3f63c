//! A connection's writer: drains ready replies into one write, long list
//! replies in parts, and counts what it wrote and how many of those were
//! errors.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use manager_actors::reply::{Outgoing, ReplyQueue};
use manager_core::ManagerError;
use manager_core::reply::{AttachedFd, Reply, ReplyFrame};
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::descriptors::InFlight;
use super::state::ConnectionCounters;
use crate::frame::{FrameError, SplicedFrames, encode_frame};
use crate::transport::SendFd;

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
///
/// A reply that hands over a descriptor (a shared memory block's) is
/// written after what came before it, with the descriptor attached to its
/// frame's first byte ([`write_with_fd`]).
///
/// Replies written are added to `counters`, and those that answered with an
/// error to the manager's `errors`: counted in the batch, so a batch adds
/// to `errors` once, and only if it had any.
pub(super) async fn write_replies<W: AsyncWrite + SendFd + Unpin>(
    mut write: W,
    mut replies: ReplyQueue,
    max_frame: usize,
    counters: Arc<ConnectionCounters>,
    errors: Arc<AtomicU64>,
    mut in_flight: InFlight,
) {
    const KEEP: usize = 64 * 1024;
    let part_bytes = part_bytes(max_frame);
    let mut out = SplicedFrames::with_capacity(KEEP);
    // Hand-offs in `out`, each with where its frame ends, until written.
    let mut handoffs: VecDeque<(usize, Outgoing)> = VecDeque::new();
    loop {
        let first = tokio::select! {
            biased;
            reply = replies.recv() => match reply {
                Some(reply) => reply,
                None => break,
            },
            // While idle, notice when the client has read the descriptors
            // sent to it, so that they no longer count.
            () = in_flight.read(&write) => continue,
        };
        let mut count = 0;
        let mut failed = 0_u64;
        let mut bytes = 0;
        let mut bulk = false;
        let mut long = None;
        let mut with_fd = None;
        let mut next = Some(first);
        while let Some(reply) = next.take() {
            if reply.size() > part_bytes && is_list(&reply) {
                // Written after what came before it, in parts.
                long = Some(reply);
                break;
            }
            if hands_over_fd(&reply) {
                // Written after what came before it, with its descriptor.
                with_fd = Some(reply);
                break;
            }
            let whole = encode_reply(reply.frame(), &mut out, max_frame);
            failed += u64::from(!whole || reply.frame().result.is_err());
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
        if let Some(reply) = with_fd {
            count += 1;
            bytes += reply.size();
            bulk |= reply.is_bulk();
            match write_with_fd(&mut write, reply, max_frame, &mut in_flight).await {
                Ok(whole) => failed += u64::from(!whole),
                Err(e) => {
                    tracing::debug!(error = %e, "write to client failed");
                    return;
                }
            }
        }
        if let Some(reply) = long {
            count += 1;
            bytes += reply.size();
            bulk |= reply.is_bulk();
            match write_in_parts(&mut write, reply, &mut out, max_frame, part_bytes).await {
                Ok(whole) => failed += u64::from(!whole),
                Err(e) => {
                    tracing::debug!(error = %e, "write to client failed");
                    return;
                }
            }
        }
        replies.written(count, bytes, bulk);
        counters.written.fetch_add(count as u64, Ordering::Relaxed);
        if failed > 0 {
            errors.fetch_add(failed, Ordering::Relaxed);
        }
        out.clear();
        // Do not keep a huge reply's buffer for the connection's life.
        out.shrink(4 * KEEP);
    }
}

/// How many objects a closed connection tells at a time before it lets
/// other tasks run.
pub(super) const NOTICE_WINDOW: usize = 256;

/// Bytes of encoded replies the writer gathers before it writes them.
pub(super) const FLUSH_AT: usize = 256 * 1024;

/// How many bytes of items a part of a long reply holds (unless one item
/// alone is larger): small enough that encoding one never keeps other
/// connections waiting long, and at most half a frame.
pub(super) fn part_bytes(max_frame: usize) -> usize {
    (max_frame / 2).clamp(1, 1 << 20)
}

/// Whether `reply` is a list, which may be sent in parts.
pub(super) fn is_list(reply: &Outgoing) -> bool {
    !reply.hands_over()
        && reply
            .frame()
            .result
            .as_ref()
            .is_ok_and(Reply::comes_in_parts)
}

/// Whether `reply` hands over a descriptor beside its frame.
fn hands_over_fd(reply: &Outgoing) -> bool {
    reply
        .frame()
        .result
        .as_ref()
        .is_ok_and(|reply| reply.attached_fd().is_some())
}

/// Writes `reply`, which hands over a descriptor, with the descriptor
/// attached to its frame's first byte, then the rest of the frame; it is
/// delivered once all of it is written. Over a transport that cannot carry
/// a descriptor (TCP) the client gets an error in its place, and the
/// reply is dropped undelivered (what it handed over goes back). `false`
/// if the client got an error.
///
/// The descriptor counts as in flight until the client has read it
/// ([`InFlight`]): while this connection has its most unread, this waits
/// for its client to read; past the manager's most over all connections,
/// the client gets `LimitReached` in the reply's place.
pub(super) async fn write_with_fd<W: AsyncWrite + SendFd + Unpin>(
    write: &mut W,
    reply: Outgoing,
    max_frame: usize,
    in_flight: &mut InFlight,
) -> std::io::Result<bool> {
    let id = reply.frame().id;
    let mut frame = Vec::new();
    let fd = reply
        .frame()
        .result
        .as_ref()
        .ok()
        .and_then(Reply::attached_fd)
        .and_then(AttachedFd::get);
    let refusal = match (encode_frame(reply.frame(), &mut frame, max_frame), fd) {
        (Ok(()), Some(fd)) => match in_flight.room(write).await? {
            Err(full) => full,
            Ok(()) => match send_counted(write, &frame, fd, in_flight).await {
            Ok(sent) => {
                write.write_all(&frame[sent..]).await?;
                reply.deliver();
                return Ok(true);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Unsupported => ManagerError::BadRequest(
                "shared memory needs a Unix socket: a block's descriptor cannot travel over TCP"
                    .to_owned(),
            ),
            // The kernel bounds the descriptors this process's user has
            // in flight (sent, not yet received, on any connection) by
            // its descriptor limit: a client that does not read its
            // replies can hold all of them. Only this call fails then;
            // nothing was sent, so this connection is in step.
            Err(e) if e.raw_os_error() == Some(libc::ETOOMANYREFS) => {
                tracing::warn!(error = %e, "too many descriptors in flight to clients");
                ManagerError::LimitReached {
                    what: "descriptors in flight to clients (sent, not yet read; \
                           bounded by the manager's descriptor limit)"
                        .to_owned(),
                    max: crate::platform::descriptor_limit(),
                }
            }
            // The peer is gone: dropping the reply gives back what it
            // handed over.
            Err(e) => return Err(e),
        },
        },
        // Cannot happen (a mapping reply is small, and its object attaches
        // the descriptor); answered anyway rather than leave the client
        // waiting.
        (Err(e), _) => {
            tracing::error!(error = %e, "cannot encode a descriptor reply");
            ManagerError::BadRequest(format!("reply could not be encoded: {e}"))
        }
        (Ok(()), None) => {
            tracing::error!("a descriptor reply without its descriptor");
            ManagerError::BadRequest("the block's descriptor is missing".to_owned())
        }
    };
    // The client gets an error instead; what the reply handed over goes
    // back.
    drop(reply);
    frame.clear();
    let refusal = ReplyFrame {
        id,
        result: Err(refusal),
    };
    encode_frame(&refusal, &mut frame, max_frame).expect("a short error reply always fits a frame");
    write.write_all(&frame).await?;
    Ok(false)
}

/// Sends the first bytes of `frame` with `fd`, for which `in_flight` has
/// made room; if it did not go, the room is given back.
async fn send_counted<W: SendFd>(
    write: &W,
    frame: &[u8],
    fd: std::os::fd::BorrowedFd<'_>,
    in_flight: &mut InFlight,
) -> std::io::Result<usize> {
    let sent = write.send_with_fd(frame, fd).await;
    if sent.is_err() {
        in_flight.unsent();
    }
    sent
}

/// Writes the list `reply` as parts of about `part_bytes` each, then its
/// last frame (see [`manager_core::reply::parts`]); an item too large for
/// a frame ends it with [`ManagerError::ReplyTooLarge`] instead. `false`
/// if the reply was answered with an error.
pub(super) async fn write_in_parts<W: AsyncWrite + Unpin>(
    write: &mut W,
    reply: Outgoing,
    out: &mut SplicedFrames,
    max_frame: usize,
    part_bytes: usize,
) -> std::io::Result<bool> {
    // A list hands nothing over: delivering it gives nothing back.
    let ReplyFrame { id, result } = reply.deliver();
    let mut list = match result {
        Ok(reply) => reply.into_parts(),
        Err(e) => {
            encode_reply(&ReplyFrame { id, result: Err(e) }, out, max_frame);
            return out.write_to(write, |_| {}).await.map(|()| false);
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
            return out.write_to(write, |_| {}).await.map(|()| false);
        }
        if out.len() >= FLUSH_AT {
            out.write_to(write, |_| {}).await?;
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
    let whole = encode_reply(&last, out, max_frame);
    out.write_to(write, |_| {}).await.map(|()| whole)
}

/// Writes all of `out`, marking each hand-off delivered as soon as its
/// whole frame has been written (`handoffs` are in order of where their
/// frames end).
pub(super) async fn write_tracking<W: AsyncWrite + Unpin>(
    write: &mut W,
    out: &SplicedFrames,
    handoffs: &mut VecDeque<(usize, Outgoing)>,
) -> std::io::Result<()> {
    out.write_to(write, |written| {
        while handoffs.front().is_some_and(|(end, _)| *end <= written) {
            if let Some((_, reply)) = handoffs.pop_front() {
                reply.deliver();
            }
        }
    })
    .await
}

/// Appends `reply` to `out` as a frame; `false` if it did not fit (or did
/// not encode) and an error reply went in its place.
pub(super) fn encode_reply(reply: &ReplyFrame, out: &mut SplicedFrames, max_frame: usize) -> bool {
    match out.encode(reply, max_frame) {
        Ok(()) => true,
        Err(FrameError::TooLarge { len, max }) => {
            let refusal = ReplyFrame {
                id: reply.id,
                result: Err(ManagerError::ReplyTooLarge { size: len, max }),
            };
            out.encode(&refusal, max_frame)
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
            out.encode(&refusal, max_frame)
                .expect("a short error reply always fits a frame");
            false
        }
    }
}
