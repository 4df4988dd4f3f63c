//! The calls of a [`Connection`] in flight: who waits for which reply,
//! the calls given up whose late grant must be given back, and
//! [`ForgetOnDrop`], which forgets a call whose future is dropped.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use manager_core::reply::{Part, Reply};
use manager_core::request::{ObjectRequest, Request, RequestId};
use manager_core::{Encoded, ManagerError, ObjectId};
use tokio::sync::oneshot;

use super::Connection;
use super::settle::settle_later;

/// A call waiting for its reply.
pub(super) struct Waiter {
    pub(super) reply: oneshot::Sender<Result<Reply, ManagerError>>,
    /// The request itself, kept if it may take something (a lock, a unit,
    /// a queue item) that must be given back should its reply come after
    /// the caller gave up.
    pub(super) takes: Option<Takes>,
    /// The object the request may park in, to take it back from should
    /// its caller give up ([`ObjectRequest::Cancel`]).
    pub(super) parks: Option<ObjectId>,
    /// The parts of a long reply that came so far, and their frames' bytes.
    pub(super) parts: Vec<Part>,
    pub(super) part_bytes: usize,
}

/// A map by request id. The ids are this client's own, counted up from 1,
/// never a peer's choice, so they need no hash that resists collisions
/// chosen by an attacker: one multiplication spreads them ([`IdHasher`]).
pub(super) type ById<V> = HashMap<RequestId, V, BuildHasherDefault<IdHasher>>;

/// Hashes a request id with one multiplication by a constant of 64 odd
/// bits (Fibonacci hashing): consecutive ids land far apart, in the high
/// bits the table looks at first too.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        // Not used by `RequestId` (a `u64`), but correct for anything.
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Calls waiting for replies, or why there will be no more replies.
pub(super) enum Pending {
    Open {
        /// Calls whose caller still waits, by id.
        waiting: ById<Waiter>,
        /// Abandoned calls whose grant must be undone if it comes.
        abandoned: ById<Takes>,
    },
    /// No more replies; with the manager's reason if it gave one.
    Closed(Option<ManagerError>),
}

impl Pending {
    pub(super) fn open() -> Self {
        Pending::Open {
            waiting: ById::default(),
            abandoned: ById::default(),
        }
    }
}

/// What a call may take (a lock, a unit, an item) that must be given back
/// should its reply come after its caller gave up, and how to tell from
/// that reply.
#[derive(Debug, Clone)]
pub enum Takes {
    /// A copy of the request: its
    /// [`ObjectRequest::undo_for`](manager_core::request::ObjectRequest::undo_for)
    /// says what gives back what its reply took.
    Request(Request),
    /// A custom type's request to the object `target`, whose type alone
    /// knows what its reply took: `undo` decodes the request and the
    /// reply's value and returns the encoded request that gives it back
    /// (`CustomType::undo_for`), if any.
    Custom {
        /// The object.
        target: ObjectId,
        /// The encoded request.
        request: Encoded,
        /// Judges the reply.
        undo: fn(&Encoded, &Reply) -> Option<Encoded>,
    },
}

/// What gives back what a call that `takes` took, judging by its late
/// `result`.
pub(super) fn undo_for(takes: Takes, result: &Result<Reply, ManagerError>) -> Option<Request> {
    let Ok(reply) = result else {
        return None;
    };
    match takes {
        Takes::Request(Request::Object { target, op }) => {
            op.undo_for(reply).map(|op| Request::Object { target, op })
        }
        Takes::Request(Request::Registry(_)) => None,
        Takes::Custom {
            target,
            request,
            undo,
        } => undo(&request, reply).map(|undo| Request::Object {
            target,
            op: ObjectRequest::Custom(undo),
        }),
    }
}

/// Forgets a call whose future is dropped before its reply was taken:
/// a late reply is then discarded, and what it takes given back.
pub(super) struct ForgetOnDrop<'a> {
    pub(super) client: &'a Connection,
    pub(super) id: RequestId,
    /// The reply's channel until the caller has taken the reply: a reply
    /// that reached it after the caller stopped polling is still in it.
    pub(super) reply: Option<oneshot::Receiver<Result<Reply, ManagerError>>>,
    /// The request, if it may take something to give back.
    pub(super) takes: Option<Box<Takes>>,
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
        if let Some(undo) = undo_for(*request, &result) {
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
            self.send_cancel(target);
        }
        // Where replies are read and bytes written only inside calls,
        // something must read this one's answer, or write the rest of its
        // request (see `settle.rs`).
        settle_later(&self.client.inner);
    }
}

impl ForgetOnDrop<'_> {
    /// Takes the call back from the object it may be parked in, now, and
    /// goes on waiting for its reply: `Cancelled`, or a grant that crossed
    /// the cancel. The cancel is sent once: dropping the guard later does
    /// not send it again.
    pub(super) fn cancel_now(&mut self) {
        let parked_at = match &mut *self
            .client
            .inner
            .pending
            .lock()
            .expect("pending map poisoned")
        {
            Pending::Open { waiting, .. } => waiting
                .get_mut(&self.id)
                .and_then(|waiter| waiter.parks.take()),
            Pending::Closed(_) => None,
        };
        if let Some(target) = parked_at {
            self.send_cancel(target);
        }
    }

    /// Sends the cancel of this call to the object `target`.
    fn send_cancel(&self, target: ObjectId) {
        let cancel = Request::Object {
            target,
            op: ObjectRequest::Cancel { request: self.id },
        };
        if let Err(e) = self.client.send_detached(cancel) {
            tracing::debug!(error = %e, "cannot take back an abandoned request");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, BuildHasherDefault};

    use super::*;

    /// Consecutive ids, wherever they start, fill a table of their number
    /// with no two in one bucket, and differ in the top bits the table
    /// compares first.
    #[test]
    fn consecutive_ids_spread_over_the_table() {
        let hasher = BuildHasherDefault::<IdHasher>::default();
        for start in [1_u64, 1 << 20, u64::MAX - 2048] {
            let hashes: Vec<u64> = (0..1024)
                .map(|n| hasher.hash_one(RequestId(start.wrapping_add(n))))
                .collect();
            let buckets: std::collections::HashSet<u64> = hashes.iter().map(|h| h & 1023).collect();
            assert_eq!(buckets.len(), 1024, "from {start}");
            let tops: std::collections::HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
            assert!(
                tops.len() > 64,
                "from {start}: {} of 128 top values",
                tops.len()
            );
        }
    }
}
