//! [`CallFuture`]: one call of a [`Connection`], from its encoded frame to
//! its reply, as a small hand-written future.
//!
//! A call's future is what a pipelining caller keeps by the dozen (64 gets
//! in a `FuturesUnordered`), and each one is moved at least once into its
//! task. Written as nested `async fn`s it held every layer's copy of the
//! request and the timer inline, about 2 KiB; this one holds the encoded
//! frame, the reply's channel and a boxed timer, if any.
//!
//! It is lazy like any future: making it encodes the request (which has no
//! effect outside it), and nothing is sent until it is first polled.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use manager_core::ObjectId;
use manager_core::reply::Reply;
use manager_core::request::{Request, RequestFrame, RequestId};
use tokio::sync::oneshot;

use super::pending::{ForgetOnDrop, Pending, Takes, Waiter, undo_for};
use super::{Connection, GIVE_UP_WAIT, close};
use crate::error::Error;
use crate::frame::{FrameError, encode_frame};

/// A call under way: its reply, or why there is none
/// ([`Connection::call_within`]).
///
/// # Cancel safety
///
/// Dropping it never corrupts the connection: a late reply is discarded,
/// a request still parked in the manager is taken back, and what a late
/// reply took (a lock, a unit, an item) is given back. The request may or
/// may not have been applied.
#[must_use = "a call does nothing unless polled"]
pub struct CallFuture<'a> {
    client: &'a Connection,
    state: State<'a>,
    /// The deadline, if any: how long, and its timer once started (at the
    /// first poll, as `tokio::time::timeout` starts its own).
    timeout: Option<Duration>,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Whether the deadline passed and the call waits out its cancel
    /// ([`Connection::settle_give_ups`]); `timer` is then that wait's.
    settling: bool,
}

enum State<'a> {
    /// Made, not yet polled: the frame to send.
    Unsent {
        id: RequestId,
        frame: Result<Vec<u8>, FrameError>,
        parks: Option<ObjectId>,
        takes: Option<Box<Takes>>,
    },
    /// Sent: waiting for the reply, forgotten if dropped.
    Waiting(ForgetOnDrop<'a>),
    /// Answered (or failed); polling again is a bug.
    Done,
}

impl std::fmt::Debug for CallFuture<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = match &self.state {
            State::Unsent { id, .. } => format!("unsent {id:?}"),
            State::Waiting(guard) => format!("waiting {:?}", guard.id),
            State::Done => "done".to_owned(),
        };
        f.debug_struct("CallFuture")
            .field("state", &state)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl<'a> CallFuture<'a> {
    /// A call of `request` on `client`, failing with [`Error::Timeout`]
    /// after `timeout`; `takes` is a copy of the request if it may take
    /// something to give back.
    pub(super) fn new(
        client: &'a Connection,
        mut request: Request,
        timeout: Option<Duration>,
        takes: Option<Request>,
    ) -> Self {
        let id = client.next_id();
        // A request that may park is taken back if its caller gives up;
        // even one that does not wait (`Wait::No`) may have parked (a
        // condition's wait ends by the object's timer) or have taken
        // something the object gives back when the cancel arrives.
        let parks = match &mut request {
            Request::Object { target, op } => op.wait_mut().is_some().then_some(*target),
            Request::Registry(_) => None,
        };
        let mut frame = Vec::new();
        let frame = encode_frame(
            &RequestFrame { id, request },
            &mut frame,
            client.inner.max_frame,
        )
        .map(|_| frame);
        CallFuture {
            client,
            state: State::Unsent {
                id,
                frame,
                parks,
                takes: takes.map(|request| Box::new(Takes::Request(request))),
            },
            timeout,
            timer: None,
            settling: false,
        }
    }

    /// This call, taken back from the object `target`
    /// ([`ObjectRequest::Cancel`](manager_core::request::ObjectRequest::Cancel))
    /// should its caller give up: for a request that may park there though
    /// its [`ObjectRequest::wait_mut`](manager_core::request::ObjectRequest::wait_mut)
    /// cannot tell (a custom type's, whose wait is inside its encoded
    /// value). Changes nothing once the call is sent.
    pub fn parking_in(mut self, target: ObjectId) -> Self {
        if let State::Unsent { parks, .. } = &mut self.state {
            *parks = Some(target);
        }
        self
    }

    /// This call, giving back what its reply took, judged by `takes`,
    /// should that reply come after its caller gave up: for a request
    /// whose [`ObjectRequest::undo_for`](manager_core::request::ObjectRequest::undo_for)
    /// cannot tell (a custom type's, [`Takes::Custom`]). Changes nothing
    /// once the call is sent.
    pub fn giving_back(mut self, what: Takes) -> Self {
        if let State::Unsent { takes, .. } = &mut self.state {
            *takes = Some(Box::new(what));
        }
        self
    }

    /// Registers the call and sends its frame; the guard that forgets it.
    fn send(
        client: &'a Connection,
        id: RequestId,
        frame: Result<Vec<u8>, FrameError>,
        parks: Option<ObjectId>,
        takes: Option<Box<Takes>>,
    ) -> Result<ForgetOnDrop<'a>, Error> {
        let frame = frame.map_err(Error::Encode)?;
        let (tx, rx) = oneshot::channel();
        let alone = match &mut *client.inner.pending.lock().expect("pending map poisoned") {
            Pending::Open { waiting, .. } => {
                let alone = waiting.is_empty();
                waiting.insert(
                    id,
                    Waiter {
                        reply: tx,
                        takes: takes.as_deref().cloned(),
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
            return Err(client.gone());
        };
        // Forget the id if this call is dropped or fails, so a late reply
        // is discarded.
        let guard = ForgetOnDrop {
            client,
            id,
            reply: Some(rx),
            takes,
        };
        if let Err(e) = client.inner.outbox.submit(&frame, alone) {
            tracing::debug!(error = %e, "write to manager failed");
            close(&client.inner, None);
            return Err(client.gone());
        }
        Ok(guard)
    }
}

impl Future for CallFuture<'_> {
    type Output = Result<Reply, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if matches!(this.state, State::Unsent { .. }) {
            if let Some(after) = this.timeout {
                this.timer = Some(Box::pin(tokio::time::sleep(after)));
            }
            let State::Unsent {
                id,
                frame,
                parks,
                takes,
            } = std::mem::replace(&mut this.state, State::Done)
            else {
                unreachable!("matched above");
            };
            match Self::send(this.client, id, frame, parks, takes) {
                Ok(guard) => this.state = State::Waiting(guard),
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
        let State::Waiting(guard) = &mut this.state else {
            panic!("a call polled after it completed");
        };
        let reply = guard.reply.as_mut().expect("taken only here or on drop");
        if let Poll::Ready(result) = Pin::new(reply).poll(cx) {
            // Received: nothing is left in the channel for the guard to
            // give back.
            guard.reply = None;
            if this.settling {
                // It came after the deadline: the call has failed, and
                // what the reply took goes back now.
                if let (Ok(result), Some(takes)) = (&result, guard.takes.take())
                    && let Some(undo) = undo_for(*takes, result)
                {
                    tracing::debug!(?undo, "giving back a grant that crossed its cancel");
                    if let Err(e) = this.client.send_detached(undo) {
                        tracing::debug!(error = %e, "cannot give back a late grant");
                    }
                }
                this.state = State::Done;
                return Poll::Ready(Err(this.timed_out()));
            }
            this.state = State::Done;
            return Poll::Ready(match result {
                Ok(result) => result.map_err(Error::Manager),
                Err(_) => Err(this.client.gone()),
            });
        }
        let Some(timer) = &mut this.timer else {
            return Poll::Pending;
        };
        if timer.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        if !this.settling && this.client.settles_give_ups() && guard.takes.is_some() {
            // The deadline: take the request back now and wait, a little,
            // for what the manager answers, the cancel or a grant that
            // crossed it (see `Connection::settle_give_ups`).
            this.settling = true;
            guard.cancel_now();
            let after = this.timeout.unwrap_or(GIVE_UP_WAIT);
            let mut wait = Box::pin(tokio::time::sleep(after.min(GIVE_UP_WAIT)));
            let over = wait.as_mut().poll(cx).is_ready();
            this.timer = Some(wait);
            if !over {
                return Poll::Pending;
            }
        }
        // Dropping the guard forgets the call (and takes it back, unless
        // that was done above).
        this.state = State::Done;
        Poll::Ready(Err(this.timed_out()))
    }
}

impl CallFuture<'_> {
    /// The error of a call whose deadline passed.
    fn timed_out(&self) -> Error {
        Error::Timeout {
            after: self.timeout.unwrap_or_default(),
        }
    }
}
