//! The two background tasks of a [`Connection`]: the reader, which hands
//! each reply to the call waiting for it, and the flusher, which writes
//! the outbox; and [`close`], which fails every waiting call once either
//! stops.

use std::sync::Arc;

use manager_core::reply::{AttachedFd, Reply, ReplyFrame};
use manager_core::request::RequestId;
use manager_core::{CodecError, ManagerError};
use tokio::io::AsyncRead;

use super::pending::{Pending, undo_for};
use super::{Connection, Inner, MAX_REPLY_BYTES};
use crate::frame::{FrameBuffer, FrameError};
use crate::outbox::Outbox;

pub(super) async fn flush(outbox: Arc<Outbox>, inner: std::sync::Weak<Inner>) {
    let error = outbox.flush_forever().await;
    if let Some(inner) = inner.upgrade() {
        tracing::warn!(address = %inner.address, %error, "write to manager failed");
        close(&inner, None);
    }
}

/// Marks the connection closed, with the manager's `reason` if it gave
/// one, and fails every waiting call.
pub(super) fn close(inner: &Inner, reason: Option<ManagerError>) {
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
    inner.settled.notify_waiters();
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

pub(super) fn read_replies<R: AsyncRead + Unpin>(
    read: R,
    buf: FrameBuffer,
    inner: std::sync::Weak<Inner>,
) -> impl std::future::Future<Output = ()> {
    // Made now, not at the task's first poll: a reader dropped before it
    // ever ran (its runtime gone right after `connect`) closes too.
    let close = CloseWhenReaderStops(inner.clone());
    read_replies_with(read, buf, inner, close)
}

async fn read_replies_with<R: AsyncRead + Unpin>(
    mut read: R,
    mut buf: FrameBuffer,
    inner: std::sync::Weak<Inner>,
    close_when_stopped: CloseWhenReaderStops,
) {
    let _close = close_when_stopped;
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
    let mut answered_given_up = false;
    while buf.fill(read).await? {
        let Some(inner) = inner.upgrade() else {
            return Ok(());
        };
        {
            let mut pending = inner.pending.lock().expect("pending map poisoned");
            while let Some(frame) = buf.next_frame()? {
                let ReplyFrame { id, mut result } = manager_core::codec::decode_shared(&frame)?;
                if let Ok(reply) = &mut result
                    && let Some(slot) = reply.attached_fd_mut()
                {
                    attach_next_fd(&inner, slot);
                }
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
                    // Closed: a settler may end (`close` is not called
                    // for this, and finds it closed when the reader ends).
                    inner.settled.notify_waiters();
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
                } else if let Some(request) = abandoned.remove(&id) {
                    answered_given_up = true;
                    if let Some(undo) = undo_for(request, &result) {
                        undos.push(undo);
                    }
                }
            }
        }
        close_stray_fds(&inner, buf.in_frame());
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
        if std::mem::take(&mut answered_given_up) {
            // Its give-back is written or queued: a settler may end.
            inner.settled.notify_waiters();
        }
    }
    Ok(())
}

/// Gives the reply that announces a descriptor the next one received. The
/// manager attaches a reply's descriptor to its frame's first byte, so it
/// has arrived by the time the frame is whole; if none is there, `slot`
/// stays empty and that one call fails with
/// [`Error::Protocol`](crate::Error::Protocol) (from its proxy).
fn attach_next_fd(inner: &Inner, slot: &mut AttachedFd) {
    let next = inner
        .fds
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop_front();
    match next {
        Some(fd) => *slot = AttachedFd::from(fd),
        None => {
            tracing::warn!(address = %inner.address, "a reply announced a descriptor that did not come")
        }
    }
}

/// Closes descriptors no reply can claim: once every whole frame is
/// decoded, only the frame still arriving (if one is) may own one, the
/// last received.
fn close_stray_fds(inner: &Inner, frame_under_way: bool) {
    let keep = usize::from(frame_under_way);
    let mut fds = inner.fds.lock().unwrap_or_else(|e| e.into_inner());
    if fds.len() > keep {
        let stray = fds.len() - keep;
        tracing::warn!(address = %inner.address, stray, "closing descriptors no reply announced");
        drop(fds.drain(..stray));
    }
}
