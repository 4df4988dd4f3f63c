//! The client's write side: frames from every call of a connection, written
//! in order and in as few writes as possible.
//!
//! A call that is alone on its connection writes its frame at once from its
//! own thread (one `send`, no task switch). When other calls are waiting, the
//! frame joins a queue that a flush task writes in one go once the burst of
//! calls has been queued; 64 pipelined calls then cost one write, not 64.
//!
//! Submitting never awaits, so a call that is cancelled can never leave half
//! a frame behind: bytes are either queued whole or written whole, and a
//! frame the socket took only part of has its rest queued before anything
//! else.

use std::io;
use std::sync::{Arc, Mutex};

use bytes::{Buf, BytesMut};
use tokio::sync::Notify;

use crate::transport::AnyWriteHalf;

#[derive(Debug)]
pub(crate) struct Outbox {
    half: AnyWriteHalf,
    state: Mutex<State>,
    wake: Notify,
    /// Notified each time the flush task has written all it had, or the
    /// outbox failed (a connection's settler waits on it).
    drained: Arc<Notify>,
}

#[derive(Debug, Default)]
struct State {
    /// Bytes queued for the flush task.
    unsent: BytesMut,
    /// Whether the flush task owns the socket now; then every frame must be
    /// queued behind `unsent` to keep the order.
    flushing: bool,
    /// Set once a write failed; the connection is then dead.
    failed: bool,
}

impl Outbox {
    /// An outbox writing to `half`, which notifies `drained` whenever its
    /// queue has been written.
    pub(crate) fn new(half: AnyWriteHalf, drained: Arc<Notify>) -> Self {
        Outbox {
            half,
            state: Mutex::new(State::default()),
            wake: Notify::new(),
            drained,
        }
    }

    /// Whether bytes wait for the flush task.
    pub(crate) fn is_flushing(&self) -> bool {
        let state = self.state.lock().expect("outbox poisoned");
        state.flushing && !state.failed
    }

    /// Sends `frame`, now if `alone` and the socket takes it, otherwise
    /// through the flush task.
    pub(crate) fn submit(&self, frame: &[u8], alone: bool) -> io::Result<()> {
        let mut state = self.state.lock().expect("outbox poisoned");
        if state.failed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if state.flushing {
            state.unsent.extend_from_slice(frame);
            return Ok(());
        }
        let mut written = 0;
        if alone {
            // The lock is held across this non-blocking write so no other
            // frame can slip in between the two parts of this one.
            match self.half.try_write(frame) {
                Ok(n) => written = n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => {
                    state.failed = true;
                    return Err(e);
                }
            }
            if written == frame.len() {
                return Ok(());
            }
        }
        state.unsent.extend_from_slice(&frame[written..]);
        state.flushing = true;
        drop(state);
        self.wake.notify_one();
        Ok(())
    }

    /// The flush task: writes whatever is queued, whenever it is woken,
    /// until a write fails.
    pub(crate) async fn flush_forever(&self) -> io::Error {
        loop {
            self.wake.notified().await;
            loop {
                match self.write_queued() {
                    Ok(true) => {
                        self.drained.notify_waiters();
                        break;
                    }
                    Ok(false) => {
                        if let Err(e) = self.half.writable().await {
                            return self.fail(e);
                        }
                    }
                    Err(e) => return self.fail(e),
                }
            }
        }
    }

    /// Writes queued bytes until the queue is empty (`true`: the flush task
    /// gives the socket back) or the socket is full (`false`).
    fn write_queued(&self) -> io::Result<bool> {
        let mut state = self.state.lock().expect("outbox poisoned");
        while !state.unsent.is_empty() {
            match self.half.try_write(&state.unsent) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => state.unsent.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
        state.flushing = false;
        Ok(true)
    }

    fn fail(&self, error: io::Error) -> io::Error {
        self.state.lock().expect("outbox poisoned").failed = true;
        self.drained.notify_waiters();
        error
    }
}
