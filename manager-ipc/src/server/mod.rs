//! The server bridge: accepts connections, authenticates them, and carries
//! requests from the socket to the actors' mailboxes and replies back.
//!
//! Each connection is two tasks on one of the manager's threads (the one
//! with the fewest live connections, see [`Threads`]; the accept loop
//! stays on the actor system's own thread):
//!
//! - the **reader** takes whatever frames one socket read brings, groups the
//!   object requests by target and sends each target one
//!   [`ObjectBatch`](manager_actors::ObjectBatch) (one mailbox hop per batch,
//!   not per request). Registry requests read in a row go to the registry
//!   as one [`RegistryCalls`](manager_actors::registry::RegistryCalls) (at
//!   most 256), in order with the rest: what came before them has reached
//!   its objects, and what comes after waits for their answers.
//! - the **writer** drains every reply that is ready and writes them with one
//!   write.
//!
//! # Ordering
//!
//! The reader waits until every batch of one read has been taken by its actor
//! before it reads again, so the requests of one connection reach each object
//! in the order they were sent. Replies come back as they are ready, each
//! with its request's id.
//!
//! # Backpressure
//!
//! A full object mailbox makes the reader wait, and so does a connection with
//! `max_in_flight` replies, or `max_backlog_bytes` bytes of them, not yet
//! written (its client is not reading them); either way the client's writes
//! slow down. Nothing is dropped. The reader hands at most
//! [`MAX_BATCH`](crate::limits::MAX_BATCH) requests to the objects before it looks at the backlog
//! again, and only one while the backlog is over a quarter full, so the
//! replies of requests read before it stopped add at most that many to it.
//! Parked requests (a queue `get` waiting for an item) owe no reply yet and
//! do not count, so any number of them never stops the reader from taking
//! the request that would release them, or from seeing the client close.
//!
//! # Bad input
//!
//! A failed handshake, a frame over the limit, a frame begun but not
//! finished within `frame_timeout`, bytes that do not decode or a stream cut
//! mid-frame close that connection only. Where the connection is still
//! writable, the manager first tells the client why in a frame with
//! [`RequestId::CONNECTION`](manager_core::request::RequestId::CONNECTION). Requests the manager had already read are
//! still applied.
//!
//! # Limits on connections
//!
//! At most `max_handshakes` connections may be in their handshake at once:
//! one more closes the oldest handshake under way to make room, so silent
//! peers cannot keep real clients out by filling the slots; and at most `max_connections` authenticated
//! ones are kept (more are refused in the handshake, with the reason).
//! Failed handshakes are counted and logged as a summary at most every
//! `FAILURE_LOG_EVERY` (10 s), not a line each.
//!
//! # Large frames
//!
//! A frame of 256 KiB or more is decoded on a blocking thread while the
//! reader waits, so its decode does not hold up the objects and the other
//! connections that share the connection's thread.
//!
//! # Inspection
//!
//! The bridge keeps a table of live connections (peer, since when, requests
//! read and replies written) and counts requests manager-wide; a ticker
//! samples that count every second, so the request rate over the last few
//! seconds costs the hot path nothing but relaxed adds (one per request
//! read, one per socket read and one per write of replies).
//! An `Inspect` request is answered by a task of its own (the connection
//! goes on meanwhile) from this table and the registry's
//! [`InspectObjects`](manager_actors::registry::InspectObjects). A connection has one bulk reply (a listing, an
//! inspection, a snapshot of a collection) under way at a time: the next
//! bulk request waits, and the connection's later requests with it, until
//! the last part of the first has been written, so a client that pipelines
//! them cannot pile up work or replies faster than they are read.
//!
//! # Where things are
//!
//! This file accepts connections and admits them under the limits;
//! `connection.rs` runs one connection (reader and writer tasks, the last
//! word), `reader.rs` hands its requests on, `writer.rs` writes replies,
//! `state.rs` holds what all connections share and builds inspections;
//! `metrics/` (feature `metrics`) serves them to Prometheus.
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix::Addr;
use futures_util::future::{AbortHandle, Abortable};
use manager_actors::RegistryActor;
use manager_actors::threads::Threads;
use manager_core::inspect::{Peer, UnixMillis};
use tokio::net::{TcpListener, UnixListener};

use crate::address::Address;
use crate::auth::AuthKey;
use crate::limits::Limits;
use crate::platform;
use crate::transport::{Socket, StdTcp, StdUnix, Stream};

mod connection;
mod descriptors;
#[cfg(feature = "metrics")]
pub mod metrics;
mod reader;
mod state;
mod writer;

use state::{FailureLog, RateWindow, ServerState, Slot, UnderWay, sample_requests};

/// What the bridge needs to know besides its listener and key.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The manager's identity, told to every client in the handshake.
    pub manager_id: u64,
    /// What each connection, and all of them, may use.
    pub limits: Limits,
    /// The bytes of shared memory blocks, shared with the registry that
    /// makes them (see `RegistryActor::with_shared_memory`); an inspection
    /// reports what they hold.
    pub shared_memory: manager_actors::objects::SharedMemoryBudget,
}

/// How often failed handshakes are summed up in the log, at most.
pub(crate) const FAILURE_LOG_EVERY: Duration = Duration::from_secs(10);

/// A bound listener of either transport.
#[derive(Debug)]
pub enum Listener {
    /// A Unix domain socket.
    Unix(UnixListener),
    /// A TCP socket.
    Tcp(TcpListener),
}

impl Listener {
    /// Binds `address`: a Unix socket is owner-only (0600) from the moment
    /// it exists; a TCP address that other hosts can reach is named in a
    /// warning. Returns the listener and the address it is bound to (with
    /// the port a TCP `:0` got). Must be called inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// The address cannot be bound (in use, no permission, ...).
    pub fn bind(address: &Address) -> std::io::Result<(Listener, Address)> {
        match address {
            Address::Unix(path) => {
                let listener = platform::bind_private_unix_listener(path)?;
                listener.set_nonblocking(true)?;
                let listener = UnixListener::from_std(listener)?;
                Ok((Listener::Unix(listener), address.clone()))
            }
            Address::Tcp(addr) => {
                let listener = std::net::TcpListener::bind(addr)?;
                let local = listener.local_addr()?;
                listener.set_nonblocking(true)?;
                let listener = TcpListener::from_std(listener)?;
                let address = Address::Tcp(local);
                if reachable_from_other_hosts(local) {
                    tracing::warn!(
                        %address,
                        "other hosts can reach this address: the authkey is the only protection, and traffic \
                         is not encrypted (use a loopback address unless other hosts must connect)"
                    );
                }
                Ok((Listener::Tcp(listener), address))
            }
        }
    }
}

/// Whether a listener bound to `addr` can be reached from other hosts:
/// every address but loopback (`127.0.0.0/8`, `::1`, and `127.x` mapped into
/// IPv6); the unspecified addresses (`0.0.0.0`, `::`) listen on every
/// interface.
fn reachable_from_other_hosts(addr: SocketAddr) -> bool {
    !addr.ip().to_canonical().is_loopback()
}

/// Accepts connections on `listener`, authenticates each with `key` and
/// carries its requests to the registry's objects, until the actor system
/// it runs in stops. Must be spawned on that system's arbiter.
///
/// Each connection runs on the one of `threads` with the fewest live
/// connections (see [`Threads`]); the accept loop, like the registry, stays on the actor
/// system's own thread.
pub async fn serve(
    listener: Listener,
    registry: Addr<RegistryActor>,
    threads: Threads,
    key: AuthKey,
    config: ServerConfig,
) {
    let shared = start_state(registry, threads, key, config);
    accept(listener, shared).await;
}

/// [`serve`], and Prometheus metrics on `metrics` (see [`metrics`]), until
/// the actor system stops. Must be spawned on that system's arbiter.
///
/// A scrape takes the snapshot an `Inspect` request takes; the requests
/// of clients are served as by [`serve`], nothing added to their path.
#[cfg(feature = "metrics")]
pub async fn serve_with_metrics(
    listener: Listener,
    metrics: metrics::MetricsListener,
    registry: Addr<RegistryActor>,
    threads: Threads,
    key: AuthKey,
    config: ServerConfig,
) {
    let shared = start_state(registry, threads, key, config);
    actix_rt::spawn(metrics::serve(metrics, shared.clone()));
    accept(listener, shared).await;
}

/// The state all connections share, with its request-rate sampler
/// running.
fn start_state(
    registry: Addr<RegistryActor>,
    threads: Threads,
    key: AuthKey,
    config: ServerConfig,
) -> Arc<ServerState> {
    let started = Instant::now();
    let shared = Arc::new(ServerState {
        registry,
        threads,
        key,
        config,
        started,
        started_at: UnixMillis::now(),
        accepted: AtomicU64::new(0),
        handshaking: Arc::new(AtomicUsize::new(0)),
        under_way: Arc::new(Mutex::new(VecDeque::new())),
        connected: Arc::new(AtomicUsize::new(0)),
        failures: Mutex::new(FailureLog::new()),
        requests: AtomicU64::new(0),
        errors: Arc::new(AtomicU64::new(0)),
        descriptors_in_flight: Arc::new(AtomicUsize::new(0)),
        live: Mutex::new(BTreeMap::new()),
        rate: Mutex::new(RateWindow::new(started)),
    });
    actix_rt::spawn(sample_requests(shared.clone()));
    shared
}

/// Accepts connections on `listener` for ever, admitting each under the
/// limits.
async fn accept(listener: Listener, shared: Arc<ServerState>) {
    loop {
        let accepted = match &listener {
            Listener::Unix(l) => l.accept().await.and_then(|(s, _)| {
                // The kernel's word on who connected; not every system
                // gives a pid.
                let peer = match s.peer_cred() {
                    Ok(cred) => Peer::Unix {
                        pid: cred.pid().and_then(|pid| u32::try_from(pid).ok()),
                        uid: Some(cred.uid()),
                    },
                    Err(_) => Peer::Unix {
                        pid: None,
                        uid: None,
                    },
                };
                admit::<Socket<StdUnix>>(s.into_std()?, peer, &shared);
                Ok(())
            }),
            Listener::Tcp(l) => l.accept().await.and_then(|(s, address)| {
                s.set_nodelay(true)?;
                admit::<Socket<StdTcp>>(s.into_std()?, Peer::Tcp { address }, &shared);
                Ok(())
            }),
        };
        if let Err(e) = accepted {
            // Out of file descriptors and the like: back off briefly rather
            // than spin, and keep serving the connections we have.
            tracing::warn!(error = %e, "accept failed");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Starts serving an accepted socket on the thread it is seated on; if
/// `max_handshakes` are under way, the oldest of them is closed to make
/// room.
fn admit<S: Stream>(socket: S::Std, peer: Peer, shared: &Arc<ServerState>) {
    let max = shared.config.limits.max_handshakes;
    let handshaking = match Slot::take(&shared.handshaking, max) {
        Some(slot) => slot,
        None => {
            // At the limit, the oldest handshake under way makes room: a
            // flood of silent peers must then outpace every real client's
            // handshake (well under a millisecond), not merely fill the
            // slots once and keep everyone out until they time out.
            let oldest = shared.under_way().pop_front();
            let Some((oldest, task)) = oldest else {
                // Dropping the stream closes it.
                return;
            };
            task.abort();
            shared.failures().record(
                Instant::now(),
                format!(
                    "{max} handshakes under way (the limit); the oldest, connection \
                     {oldest}, was closed to make room for {peer}"
                ),
            );
            // Its slot is given back once the aborted task is dropped.
            Slot::force(&shared.handshaking)
        }
    };
    let id = shared.accepted.fetch_add(1, Ordering::Relaxed) + 1;
    // Listed before its task exists, so the task cannot take itself off
    // the list first; the guard takes it off however the task ends, or if
    // it never runs.
    let (abort, registration) = AbortHandle::new_pair();
    shared.under_way().push_back((id, abort));
    let under_way = UnderWay {
        list: shared.under_way.clone(),
        id,
    };
    let seat = shared.threads.seat_connection();
    let at = seat.at();
    let accepted = connection::Accepted {
        id,
        peer,
        handshaking,
        under_way,
        seat,
    };
    // The serving thread's runtime takes the socket over.
    let shared_for_task = shared.clone();
    let spawned = shared.threads.spawn(at, move || async move {
        let stream = match S::from_std(socket) {
            Ok(stream) => stream,
            Err(e) => {
                tracing::warn!(connection = id, error = %e, "cannot take a connection over");
                return;
            }
        };
        let run = connection::run(stream, accepted, shared_for_task);
        let _ = Abortable::new(run, registration).await;
    });
    if !spawned {
        tracing::debug!(
            connection = id,
            "manager thread stopped; connection dropped"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::state::RATE_SAMPLES;
    use super::*;

    #[test]
    fn only_loopback_is_private_to_this_host() {
        for local in [
            "127.0.0.1:5000",
            "127.1.2.3:5000",
            "[::1]:5000",
            "[::ffff:127.0.0.1]:5000",
        ] {
            let addr: SocketAddr = local.parse().unwrap();
            assert!(!reachable_from_other_hosts(addr), "{addr}");
        }
        for exposed in [
            "0.0.0.0:5000",
            "[::]:5000",
            "192.168.1.5:5000",
            "10.0.0.1:5000",
            "[fe80::1]:5000",
            "[::ffff:10.0.0.1]:5000",
        ] {
            let addr: SocketAddr = exposed.parse().unwrap();
            assert!(reachable_from_other_hosts(addr), "{addr}");
        }
    }

    #[test]
    fn failed_handshakes_are_counted_and_summed_up() {
        let start = Instant::now();
        let mut log = FailureLog::new();
        log.record(start, "first".into());
        assert_eq!((log.total, log.unlogged), (1, 0));
        for i in 0..1000 {
            log.record(start + Duration::from_millis(i), format!("peer {i}"));
        }
        // Within the window: counted, not logged.
        assert_eq!((log.total, log.unlogged), (1001, 1000));
        assert_eq!(log.last, "peer 999");
        log.flush(start + Duration::from_secs(1));
        assert_eq!(log.unlogged, 1000, "summed up before the window ended");
        log.flush(start + FAILURE_LOG_EVERY);
        assert_eq!((log.total, log.unlogged), (1001, 0));
        // The next one opens a window of its own.
        log.record(start + FAILURE_LOG_EVERY * 2, "later".into());
        assert_eq!((log.total, log.unlogged), (1002, 0));
    }

    #[test]
    fn a_slot_is_taken_only_under_the_limit_and_given_back() {
        let count = Arc::new(AtomicUsize::new(0));
        let a = Slot::take(&count, 2).expect("first");
        let b = Slot::take(&count, 2).expect("second");
        assert!(Slot::take(&count, 2).is_none());
        drop(a);
        let c = Slot::take(&count, 2).expect("freed");
        drop((b, c));
        assert_eq!(count.load(Ordering::Acquire), 0);
    }

    #[test]
    fn rate_covers_the_last_few_samples() {
        let start = Instant::now();
        let at = |secs| start + Duration::from_secs(secs);
        let mut window = RateWindow::new(start);
        assert_eq!(window.recent(start, 0), (0, Duration::ZERO));
        // Just after the start the window is as long as the uptime.
        assert_eq!(window.recent(at(1), 30), (30, Duration::from_secs(1)));
        for s in 1..=10 {
            window.record(at(s), s * 100);
        }
        // Only the last RATE_SAMPLES samples are kept: the oldest is at 5 s.
        assert_eq!(window.samples.len(), RATE_SAMPLES);
        assert_eq!(window.recent(at(10), 1_000), (500, Duration::from_secs(5)));
        // Between samples the newest count still counts.
        let (count, span) = window.recent(at(10) + Duration::from_millis(500), 1_050);
        assert_eq!((count, span), (550, Duration::from_millis(5_500)));
        // A count never runs backwards, but a stale sample must not wrap.
        assert_eq!(window.recent(at(10), 0).0, 0);
    }
}
