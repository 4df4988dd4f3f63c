//! [`Limits`]: what one manager allows each connection and all of them
//! together, so that no client, authenticated or not, can make it allocate
//! without bound or stall the others.
//!
//! Every limit has a default fit for a manager on one machine, a setting
//! on the `manager` crate's `ManagerBuilder::limits`, a variable that its
//! `ManagerProcessBuilder` passes to its child (`ENV_*`), and a flag of
//! `manager-server`. docs/security.md
//! says what each one protects against and what hitting it looks like.
//!
//! # What hitting a limit does
//!
//! - A request over a count (objects, parked requests) fails alone with
//!   [`ManagerError::LimitReached`](manager_core::ManagerError::LimitReached).
//! - A connection over a byte or time limit of the protocol (a frame too
//!   large or too slow) is told why in a last frame and closed; its client's
//!   calls fail with [`Error::Disconnected`](crate::Error::Disconnected).
//! - A connection whose client does not read its replies stops being read
//!   (`max_in_flight`, `max_backlog_bytes`) until it does: nothing fails.
//! - A connection over `max_connections` is refused in the handshake; one
//!   over `max_handshakes` closes the oldest handshake under way.
//!
//! Each is logged at warn, except failed handshakes, which are summed up
//! every ten seconds.

use std::time::Duration;

use crate::frame::DEFAULT_MAX_FRAME;

/// The smallest frame limit a manager accepts (every error reply fits).
pub const MIN_MAX_FRAME: usize = 1024;

/// The most requests the manager hands to its objects from one connection
/// before it looks at that connection's backlog of unwritten replies
/// again (one at a time while the backlog is over a quarter full). So the
/// backlog exceeds `max_backlog_bytes` by at most this many replies.
pub const MAX_BATCH: usize = 64;

/// The default deadline for a connecting client to finish its handshake.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// The default cap on replies one connection may have waiting to be
/// written before the manager stops reading its requests.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 4096;

/// The limits of one manager; see the [module docs](self).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use manager_ipc::Limits;
///
/// // Given to the `manager` crate's `Manager::builder().limits(..)`.
/// let limits = Limits {
///     max_connections: 64,
///     frame_timeout: Duration::from_secs(5),
///     ..Limits::default()
/// };
/// // How a manager process's child is told them.
/// assert!(limits.to_env().contains(&("MANAGER_MAX_CONNECTIONS", 64)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The largest frame accepted or sent, in bytes (default 16 MiB, at
    /// least [`MIN_MAX_FRAME`]). Replies may exceed it by
    /// [`REPLY_HEADROOM`](crate::frame::REPLY_HEADROOM).
    pub max_frame: usize,
    /// How long a connecting client has to authenticate (default 5 s).
    pub handshake_timeout: Duration,
    /// How long a frame, once its first byte has arrived, may take to
    /// arrive whole (default 30 s).
    pub frame_timeout: Duration,
    /// How many replies one connection may have waiting to be written (its
    /// client is not reading them) before the manager stops reading its
    /// requests (default 4096). Parked requests do not count.
    pub max_in_flight: usize,
    /// How many bytes of replies one connection may have waiting to be
    /// written before the manager stops reading its requests (default
    /// 64 MiB). Counted as encoded; one reply always fits, whatever its
    /// size.
    pub max_backlog_bytes: usize,
    /// How many requests one connection may have parked (waiting for an
    /// item, a lock, a notify) at once, over all objects (default 65,536).
    pub max_parked: usize,
    /// How many authenticated connections the manager keeps at once
    /// (default 1024).
    pub max_connections: usize,
    /// How many connections may be in their handshake at once (default
    /// 128); one more closes the oldest handshake under way.
    pub max_handshakes: usize,
    /// How many objects the manager holds at once (default 100,000).
    pub max_objects: usize,
    /// How many threads the manager runs its objects and connections on
    /// (default: as many as the CPUs this process may use, see
    /// [`default_threads`]; at least 1, at most [`MAX_THREADS`]). Each
    /// new object and each new connection goes to the next thread in
    /// turn; with 1, everything shares one thread.
    pub threads: usize,
    /// The largest shared memory block a client may create, in bytes
    /// (default 4 GiB, [`DEFAULT_MAX_SHARED_MEMORY_BLOCK`]).
    pub max_shared_memory_block: u64,
    /// The most bytes all shared memory blocks may take together, those
    /// removed but still mapped included (default 8 GiB,
    /// [`DEFAULT_MAX_SHARED_MEMORY`]). A block's pages are taken from the
    /// system as its holders touch them, not when it is created.
    pub max_shared_memory: u64,
    /// How many shared memory blocks the manager holds at once, removed
    /// ones still mapped included (default 1024,
    /// [`DEFAULT_MAX_SHARED_MEMORY_BLOCKS`]). Each holds a descriptor in
    /// the manager: keep its open-file limit (`ulimit -n`) above
    /// `max_connections` plus this.
    pub max_shared_memory_blocks: usize,
    /// How many shared memory descriptors one connection may have been
    /// sent and not read yet (default 16,
    /// [`DEFAULT_MAX_DESCRIPTORS_UNREAD`]); one more mapping waits, as a
    /// reply to a client that does not read does, until it reads.
    pub max_descriptors_unread: usize,
    /// How many shared memory descriptors all connections together may
    /// have been sent and not read yet (default 512,
    /// [`DEFAULT_MAX_DESCRIPTORS_IN_FLIGHT`]); a mapping past it fails
    /// alone with `LimitReached`. Linux also caps these at the manager's
    /// open-file limit (`ulimit -n`), so keep this below it; with
    /// `max_connections` times `max_descriptors_unread` at most this, no
    /// client can make another's mapping fail.
    pub max_descriptors_in_flight: usize,
}

/// The default [`Limits::max_descriptors_unread`].
pub const DEFAULT_MAX_DESCRIPTORS_UNREAD: usize = 16;

/// The default [`Limits::max_descriptors_in_flight`]: half the usual
/// open-file limit of 1024.
pub const DEFAULT_MAX_DESCRIPTORS_IN_FLIGHT: usize = 512;

/// The default [`Limits::max_shared_memory_blocks`].
pub const DEFAULT_MAX_SHARED_MEMORY_BLOCKS: usize = 1024;

/// The default [`Limits::max_shared_memory_block`]: 4 GiB, room for a
/// 1 GiB array and then some.
pub const DEFAULT_MAX_SHARED_MEMORY_BLOCK: u64 = 4 << 30;

/// The default [`Limits::max_shared_memory`]: 8 GiB.
pub const DEFAULT_MAX_SHARED_MEMORY: u64 = 8 << 30;

/// The most threads a manager runs on.
pub const MAX_THREADS: usize = 1024;

/// The default number of manager threads: the CPUs this process may use
/// (its affinity mask and cgroup quota), or 1 if that cannot be told.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_frame: DEFAULT_MAX_FRAME,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            frame_timeout: Duration::from_secs(30),
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            max_backlog_bytes: 64 << 20,
            max_parked: 65_536,
            max_connections: 1024,
            max_handshakes: 128,
            max_objects: 100_000,
            threads: default_threads(),
            max_shared_memory_block: DEFAULT_MAX_SHARED_MEMORY_BLOCK,
            max_shared_memory: DEFAULT_MAX_SHARED_MEMORY,
            max_shared_memory_blocks: DEFAULT_MAX_SHARED_MEMORY_BLOCKS,
            max_descriptors_unread: DEFAULT_MAX_DESCRIPTORS_UNREAD,
            max_descriptors_in_flight: DEFAULT_MAX_DESCRIPTORS_IN_FLIGHT,
        }
    }
}

impl Limits {
    /// The limits with every value raised to its smallest workable one
    /// (a frame of [`MIN_MAX_FRAME`], at least one of every count).
    pub fn sane(mut self) -> Self {
        self.max_frame = self.max_frame.max(MIN_MAX_FRAME);
        self.max_in_flight = self.max_in_flight.max(1);
        self.max_backlog_bytes = self.max_backlog_bytes.max(1);
        self.max_parked = self.max_parked.max(1);
        self.max_connections = self.max_connections.max(1);
        self.max_handshakes = self.max_handshakes.max(1);
        self.max_objects = self.max_objects.max(1);
        self.max_descriptors_unread = self.max_descriptors_unread.max(1);
        self.threads = self.threads.clamp(1, MAX_THREADS);
        self
    }

    /// Each limit as the environment variable that carries it to a
    /// manager process, and its value (durations in milliseconds).
    pub fn to_env(&self) -> Vec<(&'static str, u64)> {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        vec![
            (ENV_MAX_FRAME, count(self.max_frame)),
            (
                ENV_HANDSHAKE_TIMEOUT_MS,
                ceil_millis(self.handshake_timeout),
            ),
            (ENV_FRAME_TIMEOUT_MS, ceil_millis(self.frame_timeout)),
            (ENV_MAX_IN_FLIGHT, count(self.max_in_flight)),
            (ENV_MAX_BACKLOG_BYTES, count(self.max_backlog_bytes)),
            (ENV_MAX_PARKED, count(self.max_parked)),
            (ENV_MAX_CONNECTIONS, count(self.max_connections)),
            (ENV_MAX_HANDSHAKES, count(self.max_handshakes)),
            (ENV_MAX_OBJECTS, count(self.max_objects)),
            (ENV_THREADS, count(self.threads)),
            (ENV_MAX_SHARED_MEMORY_BLOCK, self.max_shared_memory_block),
            (ENV_MAX_SHARED_MEMORY, self.max_shared_memory),
            (
                ENV_MAX_SHARED_MEMORY_BLOCKS,
                count(self.max_shared_memory_blocks),
            ),
            (
                ENV_MAX_DESCRIPTORS_UNREAD,
                count(self.max_descriptors_unread),
            ),
            (
                ENV_MAX_DESCRIPTORS_IN_FLIGHT,
                count(self.max_descriptors_in_flight),
            ),
        ]
    }

    /// Sets the limit that `name` (one of the `ENV_*` names) carries to
    /// `value`; `false` if `name` is no limit's.
    pub fn set_from_env(&mut self, name: &str, value: u64) -> bool {
        let count = usize::try_from(value).unwrap_or(usize::MAX);
        let millis = Duration::from_millis(value);
        match name {
            ENV_MAX_FRAME => self.max_frame = count,
            ENV_HANDSHAKE_TIMEOUT_MS => self.handshake_timeout = millis,
            ENV_FRAME_TIMEOUT_MS => self.frame_timeout = millis,
            ENV_MAX_IN_FLIGHT => self.max_in_flight = count,
            ENV_MAX_BACKLOG_BYTES => self.max_backlog_bytes = count,
            ENV_MAX_PARKED => self.max_parked = count,
            ENV_MAX_CONNECTIONS => self.max_connections = count,
            ENV_MAX_HANDSHAKES => self.max_handshakes = count,
            ENV_MAX_OBJECTS => self.max_objects = count,
            ENV_THREADS => self.threads = count,
            ENV_MAX_SHARED_MEMORY_BLOCK => self.max_shared_memory_block = value,
            ENV_MAX_SHARED_MEMORY => self.max_shared_memory = value,
            ENV_MAX_SHARED_MEMORY_BLOCKS => self.max_shared_memory_blocks = count,
            ENV_MAX_DESCRIPTORS_UNREAD => self.max_descriptors_unread = count,
            ENV_MAX_DESCRIPTORS_IN_FLIGHT => self.max_descriptors_in_flight = count,
            _ => return false,
        }
        true
    }
}

/// Where a manager process finds [`Limits::max_frame`]: decimal bytes.
pub const ENV_MAX_FRAME: &str = "MANAGER_MAX_FRAME";
/// Where a manager process finds [`Limits::handshake_timeout`]: decimal
/// milliseconds.
pub const ENV_HANDSHAKE_TIMEOUT_MS: &str = "MANAGER_HANDSHAKE_TIMEOUT_MS";
/// Where a manager process finds [`Limits::frame_timeout`]: decimal
/// milliseconds.
pub const ENV_FRAME_TIMEOUT_MS: &str = "MANAGER_FRAME_TIMEOUT_MS";
/// Where a manager process finds [`Limits::max_in_flight`].
pub const ENV_MAX_IN_FLIGHT: &str = "MANAGER_MAX_IN_FLIGHT";
/// Where a manager process finds [`Limits::max_backlog_bytes`].
pub const ENV_MAX_BACKLOG_BYTES: &str = "MANAGER_MAX_BACKLOG_BYTES";
/// Where a manager process finds [`Limits::max_parked`].
pub const ENV_MAX_PARKED: &str = "MANAGER_MAX_PARKED";
/// Where a manager process finds [`Limits::max_connections`].
pub const ENV_MAX_CONNECTIONS: &str = "MANAGER_MAX_CONNECTIONS";
/// Where a manager process finds [`Limits::max_handshakes`].
pub const ENV_MAX_HANDSHAKES: &str = "MANAGER_MAX_HANDSHAKES";
/// Where a manager process finds [`Limits::max_objects`].
pub const ENV_MAX_OBJECTS: &str = "MANAGER_MAX_OBJECTS";
/// Where a manager process finds [`Limits::threads`].
pub const ENV_THREADS: &str = "MANAGER_THREADS";
/// Where a manager process finds [`Limits::max_shared_memory_block`]:
/// decimal bytes.
pub const ENV_MAX_SHARED_MEMORY_BLOCK: &str = "MANAGER_MAX_SHARED_MEMORY_BLOCK";
/// Where a manager process finds [`Limits::max_shared_memory`]: decimal
/// bytes.
pub const ENV_MAX_SHARED_MEMORY: &str = "MANAGER_MAX_SHARED_MEMORY";
/// Where a manager process finds [`Limits::max_shared_memory_blocks`].
pub const ENV_MAX_SHARED_MEMORY_BLOCKS: &str = "MANAGER_MAX_SHARED_MEMORY_BLOCKS";
/// Where a manager process finds [`Limits::max_descriptors_unread`].
pub const ENV_MAX_DESCRIPTORS_UNREAD: &str = "MANAGER_MAX_DESCRIPTORS_UNREAD";
/// Where a manager process finds [`Limits::max_descriptors_in_flight`].
pub const ENV_MAX_DESCRIPTORS_IN_FLIGHT: &str = "MANAGER_MAX_DESCRIPTORS_IN_FLIGHT";

/// `timeout` in whole milliseconds, rounded up so that a non-zero timeout
/// stays non-zero; saturates at `u64::MAX`.
pub(crate) fn ceil_millis(timeout: Duration) -> u64 {
    let millis = timeout.as_nanos().div_ceil(1_000_000);
    u64::try_from(millis).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_limit_goes_through_the_environment() {
        let limits = Limits {
            max_frame: 5000,
            handshake_timeout: Duration::from_millis(1),
            frame_timeout: Duration::from_millis(2),
            max_in_flight: 3,
            max_backlog_bytes: 4,
            max_parked: 5,
            max_connections: 6,
            max_handshakes: 7,
            max_objects: 8,
            threads: 9,
            max_shared_memory_block: 10,
            max_shared_memory: 11,
            max_shared_memory_blocks: 12,
            max_descriptors_unread: 13,
            max_descriptors_in_flight: 14,
        };
        let mut read = Limits::default();
        for (name, value) in limits.to_env() {
            assert!(read.set_from_env(name, value), "{name}");
        }
        assert_eq!(read, limits);
        assert!(!read.set_from_env("MANAGER_ADDRESS", 1));
    }

    #[test]
    fn a_sub_millisecond_timeout_stays_non_zero() {
        assert_eq!(ceil_millis(Duration::from_micros(10)), 1);
        assert_eq!(ceil_millis(Duration::ZERO), 0);
        assert_eq!(ceil_millis(Duration::MAX), u64::MAX);
    }
}
