//! What the bridge knows across connections: [`ServerState`] (the
//! registry, the key, limits and counters), the table of live connections,
//! the slots under the handshake and connection limits, failed handshakes
//! summed up, the request rate, and the snapshot an inspection answers.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::Addr;
use futures_util::future::AbortHandle;
use manager_actors::RegistryActor;
use manager_actors::registry::InspectObjects;
use manager_actors::threads::Threads;
use manager_core::inspect::{
    ConnectionReport, HeldObject, ManagerSnapshot, ObjectReport, Peer, Totals, UnixMillis,
};
use manager_core::{ManagerError, PROTOCOL_VERSION};

use super::{FAILURE_LOG_EVERY, ServerConfig};
use crate::auth::AuthKey;
use crate::platform;

pub(super) struct ServerState {
    pub(super) registry: Addr<RegistryActor>,
    /// The threads connections are placed on.
    pub(super) threads: Threads,
    pub(super) key: AuthKey,
    pub(super) config: ServerConfig,
    pub(super) started: Instant,
    pub(super) started_at: UnixMillis,
    /// Connections accepted so far (each one's id is the count then).
    pub(super) accepted: AtomicU64,
    /// Connections in their handshake now.
    pub(super) handshaking: Arc<AtomicUsize>,
    /// Their tasks, oldest first, so a new connection at the limit can
    /// close the oldest.
    pub(super) under_way: Arc<Mutex<VecDeque<(u64, AbortHandle)>>>,
    /// Authenticated connections now (slots taken under the limit).
    pub(super) connected: Arc<AtomicUsize>,
    /// Failed handshakes, counted and summed up in the log.
    pub(super) failures: Mutex<FailureLog>,
    /// Requests read so far, from every connection.
    pub(super) requests: AtomicU64,
    /// Requests answered with an error so far, from every connection
    /// (shared with each connection's writer, which counts them).
    pub(super) errors: Arc<AtomicU64>,
    /// Shared memory descriptors sent to clients and perhaps not read
    /// yet, over all connections (see `descriptors`).
    pub(super) descriptors_in_flight: Arc<AtomicUsize>,
    /// Authenticated connections that are still open, by id.
    pub(super) live: Mutex<BTreeMap<u64, LiveConnection>>,
    /// Samples of `requests`, one a second.
    pub(super) rate: Mutex<RateWindow>,
}

/// One row of the table of live connections.
pub(super) struct LiveConnection {
    pub(super) peer: Peer,
    /// The manager thread it runs on.
    pub(super) thread: u32,
    pub(super) since: UnixMillis,
    pub(super) counters: Arc<ConnectionCounters>,
}

/// What a connection's reader and writer count, one relaxed add per socket
/// read or write.
#[derive(Debug, Default)]
pub(super) struct ConnectionCounters {
    /// Requests read.
    pub(super) read: AtomicU64,
    /// Replies written.
    pub(super) written: AtomicU64,
    /// Descriptors sent and perhaps not read yet (the writer's
    /// [`InFlight`](super::descriptors::InFlight) count, as it changes).
    pub(super) descriptors_unread: AtomicU64,
}

/// Removes a connection from the table when it ends, however it ends.
pub(super) struct Registered<'a> {
    pub(super) shared: &'a ServerState,
    pub(super) id: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.shared.live().remove(&self.id);
    }
}

/// A slot under one of the connection limits, given back when dropped.
pub(super) struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// Takes a slot of `count` if fewer than `max` are taken.
    pub(super) fn take(count: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(count.clone()))
    }

    /// Takes a slot of `count` whatever the limit (one being freed is not
    /// given back yet).
    pub(super) fn force(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Slot(count.clone())
    }
}

/// Takes a connection off the list of handshakes under way when dropped:
/// once its handshake has ended, however it ended.
pub(super) struct UnderWay {
    pub(super) list: Arc<Mutex<VecDeque<(u64, AbortHandle)>>>,
    pub(super) id: u64,
}

impl UnderWay {
    /// Takes the connection off the list now, as its handshake succeeds
    /// and before the client is told so: from then on no newer handshake
    /// can close it to make room. `false` if one already has (it was taken
    /// off and aborted), so the handshake must fail.
    pub(super) fn leave(&self) -> bool {
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        let before = list.len();
        list.retain(|(id, _)| *id != self.id);
        list.len() < before
    }
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
pub(super) struct FailureLog {
    pub(super) total: u64,
    /// When a line was last logged; `None` before the first.
    pub(super) logged_at: Option<Instant>,
    /// Failures since then that were not logged, and the last of them.
    pub(super) unlogged: u64,
    pub(super) last: String,
}

impl FailureLog {
    pub(super) fn new() -> Self {
        FailureLog {
            total: 0,
            logged_at: None,
            unlogged: 0,
            last: String::new(),
        }
    }

    /// Counts a failure described by `what`; logs it if no line was logged
    /// in the last [`FAILURE_LOG_EVERY`].
    pub(super) fn record(&mut self, now: Instant, what: String) {
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
    pub(super) fn flush(&mut self, now: Instant) {
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

impl ServerState {
    pub(super) fn under_way(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, AbortHandle)>> {
        self.under_way.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn failures(&self) -> std::sync::MutexGuard<'_, FailureLog> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn live(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, LiveConnection>> {
        // The table is only ever changed whole under the lock; a panic
        // elsewhere cannot leave it half-updated.
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn rate(&self) -> std::sync::MutexGuard<'_, RateWindow> {
        self.rate.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How many one-second samples of the request count are kept: the rate
/// covers the last `RATE_SAMPLES - 1` seconds or so.
pub(super) const RATE_SAMPLES: usize = 6;

/// The last few samples of a running count, oldest first, to tell its rate
/// over the last few seconds.
#[derive(Debug)]
pub(super) struct RateWindow {
    pub(super) samples: VecDeque<(Instant, u64)>,
}

impl RateWindow {
    /// A window whose count was 0 at `start`.
    pub(super) fn new(start: Instant) -> Self {
        let mut samples = VecDeque::with_capacity(RATE_SAMPLES + 1);
        samples.push_back((start, 0));
        RateWindow { samples }
    }

    /// Records that the count was `total` at `at`, forgetting the oldest
    /// sample past [`RATE_SAMPLES`].
    pub(super) fn record(&mut self, at: Instant, total: u64) {
        self.samples.push_back((at, total));
        while self.samples.len() > RATE_SAMPLES {
            self.samples.pop_front();
        }
    }

    /// How much the count grew from the oldest sample to `total` at `now`,
    /// and over how long.
    pub(super) fn recent(&self, now: Instant, total: u64) -> (u64, Duration) {
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
pub(super) async fn sample_requests(shared: Arc<ServerState>) {
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

/// Takes a snapshot: asks the registry for its report of every object
/// ([`InspectObjects`]) and adds the table of live connections and the
/// totals; `asker` is the connection that asked (0: none, as for a metrics
/// scrape). What an `Inspect` request answers and what a scrape renders.
///
/// # Errors
///
/// [`ManagerError::ShuttingDown`] if the registry has stopped.
pub(super) async fn take_snapshot(
    shared: &ServerState,
    asker: u64,
) -> Result<ManagerSnapshot, ManagerError> {
    match shared.registry.send(InspectObjects::default()).await {
        Ok(objects) => Ok(snapshot(shared, objects, asker)),
        Err(_) => Err(ManagerError::ShuttingDown),
    }
}

/// Builds a snapshot from the registry's `objects` and the table of live
/// connections; `asker` is the connection that asked.
fn snapshot(shared: &ServerState, objects: Vec<ObjectReport>, asker: u64) -> ManagerSnapshot {
    let now = Instant::now();
    let taken_at = UnixMillis::now();
    let requests_total = shared.requests.load(Ordering::Relaxed);
    let handshakes_failed = shared.failures().total;
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
                thread: live.thread,
                connected_at: live.since,
                requests_served: written,
                requests_in_flight: read.saturating_sub(written),
                descriptors_unread: live.counters.descriptors_unread.load(Ordering::Relaxed),
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
            threads: u32::try_from(shared.threads.len()).unwrap_or(u32::MAX),
            errors_total: shared.errors.load(Ordering::Relaxed),
            handshakes_failed,
            rss_bytes: platform::resident_set_bytes(),
            shared_memory_bytes: shared.config.shared_memory.used(),
            descriptors_in_flight: shared.descriptors_in_flight.load(Ordering::Relaxed) as u64,
        },
        objects,
        connections,
        requested_by: asker,
    }
}
