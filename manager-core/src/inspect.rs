//! What a running manager reports about itself: [`ManagerSnapshot`].
//!
//! Any authenticated client asks with
//! [`RegistryRequest::Inspect`](crate::request::RegistryRequest::Inspect)
//! and gets [`RegistryReply::Snapshot`](crate::reply::RegistryReply::Snapshot):
//! every object with its counters and a kind-specific detail, every live
//! connection, and totals. The manager goes on serving meanwhile; nothing is
//! stopped or locked to take a snapshot.
//!
//! # How current it is
//!
//! Counters (messages handled, mailbox depth, requests served) are read
//! without asking anyone, at the moment the snapshot is taken. The
//! kind-specific [`ObjectDetail`] comes from each object's actor, which
//! answers after the requests already in its mailbox; an actor too busy to
//! answer within the manager's inspection deadline is reported with
//! `detail: None` rather than stalling the snapshot.
//!
//! # Times
//!
//! Wall-clock times are [`UnixMillis`], milliseconds since the UNIX epoch on
//! the manager's clock; durations are [`Duration`]s.

use std::net::SocketAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{ObjectId, ObjectKind, ObjectName};

/// A wall-clock time: milliseconds since the UNIX epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UnixMillis(pub u64);

impl UnixMillis {
    /// Now, on this machine's clock (0 if the clock is before 1970).
    pub fn now() -> Self {
        UnixMillis::from(SystemTime::now())
    }

    /// As a [`SystemTime`].
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.0)
    }

    /// How long before `later` this was; zero if it was not before.
    pub fn elapsed_until(self, later: UnixMillis) -> Duration {
        Duration::from_millis(later.0.saturating_sub(self.0))
    }
}

impl From<SystemTime> for UnixMillis {
    fn from(time: SystemTime) -> Self {
        let millis = time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        UnixMillis(millis)
    }
}

/// Everything a manager reports at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagerSnapshot {
    /// Manager-wide figures.
    pub totals: Totals,
    /// Every object, sorted by name.
    pub objects: Vec<ObjectReport>,
    /// Every live connection, sorted by id.
    pub connections: Vec<ConnectionReport>,
    /// The connection that asked for this snapshot.
    pub requested_by: u64,
}

/// Manager-wide figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// When the snapshot was taken.
    pub taken_at: UnixMillis,
    /// When the manager started serving.
    pub started_at: UnixMillis,
    /// How long the manager has been serving.
    pub uptime: Duration,
    /// Connections open now (authenticated ones).
    pub connections_now: u64,
    /// Connections accepted since the start, including those that failed
    /// the handshake.
    pub connections_total: u64,
    /// Requests read since the start, from every connection.
    pub requests_total: u64,
    /// Requests read during the last [`rate_window`](Self::rate_window).
    pub recent_requests: u64,
    /// The span `recent_requests` covers: the last few seconds (shorter
    /// just after the start).
    pub rate_window: Duration,
    /// The manager's wire protocol version.
    pub protocol_version: u16,
    /// The manager's build: the version of the crate that serves it.
    pub build_version: String,
    /// The threads the manager runs its objects and connections on
    /// (`Limits::threads`); objects and connections say which is theirs.
    pub threads: u32,
    /// Requests answered with an error since the start, from every
    /// connection: a [`ManagerError`](crate::ManagerError) such as a missing
    /// key, a wrong type or a reply too large for a frame (a custom type's
    /// own error reply is a successful answer).
    pub errors_total: u64,
    /// Handshakes that failed since the start: a wrong key, a protocol
    /// mismatch, a timeout, too many connections, or one closed to make
    /// room for newer handshakes.
    pub handshakes_failed: u64,
    /// The manager process's resident set size, in bytes; `None` where it
    /// is not known (it is read from `/proc/self/status` on Linux).
    pub rss_bytes: Option<u64>,
    /// Bytes of the shared memory blocks alive now, those removed by name
    /// but still mapped included: what the manager's blocks hold of the
    /// `Limits::max_shared_memory` budget.
    pub shared_memory_bytes: u64,
    /// Shared memory descriptors sent to clients and not yet read by them,
    /// over all connections (those of connections closed since included,
    /// until their clients read or close): what the manager holds of the
    /// `Limits::max_descriptors_in_flight` budget.
    pub descriptors_in_flight: u64,
}

impl Totals {
    /// Requests per second over the last few seconds.
    pub fn requests_per_second(&self) -> f64 {
        let secs = self.rate_window.as_secs_f64();
        if secs > 0.0 {
            self.recent_requests as f64 / secs
        } else {
            0.0
        }
    }
}

/// One object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectReport {
    /// Its id.
    pub id: ObjectId,
    /// Its name.
    pub name: ObjectName,
    /// Its kind.
    pub kind: ObjectKind,
    /// When it was created.
    pub created_at: UnixMillis,
    /// Requests it has carried out (failed ones included).
    pub messages_handled: u64,
    /// Requests sent to it and not yet taken from its mailbox.
    pub mailbox: u64,
    /// The manager thread its actor runs on, from 0 (the registry's).
    pub thread: u32,
    /// When it last took a batch of requests; `None` if never.
    pub last_operation: Option<UnixMillis>,
    /// What its actor reported; `None` if it did not answer in time (busy).
    pub detail: Option<ObjectDetail>,
    /// How long it has taken to handle requests, reported with `detail`.
    pub latency: Option<Latency>,
}

/// How long an object has taken to handle its requests since it was
/// created: from the manager reading a request off its connection to the
/// object having answered it, or parked it to wait (time a request then
/// spends waiting, for a lock or an item, is not counted: it is the
/// object's semantics, not its speed).
///
/// Kept as a histogram with four buckets per doubling from 1 µs, so each
/// percentile is the upper end of its bucket: at most 19% above the true
/// value, and never below it. `max` is exact.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Latency {
    /// Requests counted.
    pub count: u64,
    /// Half took at most this long.
    pub p50: Duration,
    /// 90% took at most this long.
    pub p90: Duration,
    /// 99% took at most this long.
    pub p99: Duration,
    /// The longest.
    pub max: Duration,
}

/// What an object's actor reports about its state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectDetail {
    /// The kind-specific figures.
    pub size: KindDetail,
    /// Requests parked in it now (queue getters and putters, lock waiters,
    /// ...), including any of a connection that has just closed.
    pub waiters: u64,
    /// Approximate bytes of values it holds (encodings plus type tags).
    pub bytes_held: u64,
    /// Who holds it: a lock's or condition's holder, the owners of
    /// semaphore units taken by guards.
    pub holders: Vec<Holding>,
}

/// One owner holding (part of) an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Holding {
    /// The connection the owner's requests come on.
    pub connection: u64,
    /// The thread or task of that connection, as the client numbered it.
    pub owner: u64,
    /// How many times over: an `RLock`'s depth, a semaphore's units.
    pub count: u64,
}

/// The figures that depend on an object's kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KindDetail {
    /// Not reported (the default for custom types).
    #[default]
    Opaque,
    /// A namespace (attributes), list, dict, set or array: how many items.
    Items {
        /// The number of attributes, items or entries.
        len: u64,
    },
    /// A value.
    Value,
    /// A queue or joinable queue.
    Queue {
        /// Items in it.
        len: u64,
        /// Its bound, if any.
        maxsize: Option<u64>,
        /// For a joinable queue, items put and not yet marked done.
        unfinished: Option<u64>,
        /// Items received with a receipt and not yet acknowledged; not
        /// counted in `len`.
        in_flight: u64,
    },
    /// A lock or re-entrant lock.
    Lock {
        /// How many acquires its holder has not released: 0 when free.
        depth: u64,
    },
    /// A semaphore or bounded semaphore.
    Semaphore {
        /// Units available now.
        value: u64,
        /// A bounded semaphore's bound.
        bound: Option<u64>,
        /// Units held by guards.
        owned: u64,
    },
    /// An event.
    Event {
        /// Whether its flag is set.
        set: bool,
    },
    /// A condition.
    Condition {
        /// Whether its lock is held.
        locked: bool,
        /// Waits parked until a notify.
        sleepers: u64,
    },
    /// A barrier.
    Barrier {
        /// The parties it waits for.
        parties: u64,
        /// Parties waiting now.
        waiting: u64,
        /// Whether it is broken.
        broken: bool,
    },
    /// A shared memory block.
    SharedMemory {
        /// Its size in bytes.
        size: u64,
        /// Mappings its holders have open (each holder is listed in
        /// [`ObjectDetail::holders`], its count the mappings it holds).
        mappings: u64,
    },
}

/// One live connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionReport {
    /// The manager's number for it (the client's
    /// `connection_id()`).
    pub id: u64,
    /// Who is at the other end.
    pub peer: Peer,
    /// The manager thread its reader and writer run on, from 0.
    pub thread: u32,
    /// When it was accepted.
    pub connected_at: UnixMillis,
    /// Requests answered (replies written).
    pub requests_served: u64,
    /// Requests read and not yet answered, parked ones included.
    pub requests_in_flight: u64,
    /// Shared memory descriptors sent to it that its client may not have
    /// read yet (at most `Limits::max_descriptors_unread`); it errs high
    /// while any reply after them is unread.
    pub descriptors_unread: u64,
    /// Objects it holds: locks, a condition's lock, semaphore units taken by
    /// guards.
    pub holds: Vec<HeldObject>,
}

/// Who is at the other end of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Peer {
    /// A Unix domain socket; the kernel's credentials of the process that
    /// connected, if it gave them.
    Unix {
        /// Its process id.
        pid: Option<u32>,
        /// Its user id.
        uid: Option<u32>,
    },
    /// A TCP connection.
    Tcp {
        /// The remote address.
        address: SocketAddr,
    },
}

/// An object a connection holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldObject {
    /// Its id.
    pub id: ObjectId,
    /// Its name.
    pub name: ObjectName,
    /// Its kind.
    pub kind: ObjectKind,
    /// The owner (thread or task) of the connection holding it.
    pub owner: u64,
    /// How many times over (an `RLock`'s depth, semaphore units).
    pub count: u64,
}

impl ManagerSnapshot {
    /// The object named `name`, if there is one.
    pub fn object(&self, name: &str) -> Option<&ObjectReport> {
        self.objects.iter().find(|o| o.name.as_str() == name)
    }

    /// The connection with this id, if it is live.
    pub fn connection(&self, id: u64) -> Option<&ConnectionReport> {
        self.connections.iter().find(|c| c.id == id)
    }

    /// The connections of the process `pid` (Unix sockets only).
    pub fn connections_of_pid(&self, pid: u32) -> impl Iterator<Item = &ConnectionReport> {
        self.connections
            .iter()
            .filter(move |c| matches!(c.peer, Peer::Unix { pid: Some(p), .. } if p == pid))
    }
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Unix { pid: Some(pid), .. } => write!(f, "pid {pid}"),
            Peer::Unix { pid: None, .. } => f.write_str("unix"),
            Peer::Tcp { address } => write!(f, "{address}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec;

    #[test]
    fn unix_millis_round_trips_and_rate_is_per_second() {
        let t = UnixMillis(1_700_000_000_123);
        assert_eq!(UnixMillis::from(t.to_system_time()), t);
        assert_eq!(
            UnixMillis(1_000).elapsed_until(UnixMillis(3_500)),
            Duration::from_millis(2_500)
        );
        assert_eq!(UnixMillis(5).elapsed_until(UnixMillis(1)), Duration::ZERO);
        let totals = Totals {
            taken_at: t,
            started_at: t,
            uptime: Duration::ZERO,
            connections_now: 0,
            connections_total: 0,
            requests_total: 0,
            recent_requests: 300,
            rate_window: Duration::from_secs(3),
            protocol_version: crate::PROTOCOL_VERSION,
            build_version: "0".into(),
            threads: 1,
            errors_total: 2,
            handshakes_failed: 1,
            rss_bytes: Some(1 << 20),
            shared_memory_bytes: 0,
            descriptors_in_flight: 0,
        };
        assert_eq!(totals.requests_per_second(), 100.0);
        let empty = Totals {
            rate_window: Duration::ZERO,
            ..totals.clone()
        };
        assert_eq!(empty.requests_per_second(), 0.0);
        let snapshot = ManagerSnapshot {
            totals,
            objects: vec![],
            connections: vec![ConnectionReport {
                id: 3,
                peer: Peer::Tcp {
                    address: "127.0.0.1:9".parse().unwrap(),
                },
                thread: 1,
                connected_at: t,
                requests_served: 1,
                requests_in_flight: 0,
                descriptors_unread: 0,
                holds: vec![],
            }],
            requested_by: 3,
        };
        let back: ManagerSnapshot = codec::decode(&codec::encode(&snapshot).unwrap()).unwrap();
        assert_eq!(back, snapshot);
    }
}
