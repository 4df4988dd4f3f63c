//! Arguments shared by the tests of locks, re-entrant locks, semaphores and
//! conditions and their worker entries (in `src/bin/test-worker/locks.rs`).
//! Every entry uses the namespace [`crate::SHARED`] for what it reports.

use serde::{Deserialize, Serialize};

/// Which kind of lock an entry takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockKind {
    /// A plain `Lock`.
    Lock,
    /// A re-entrant `RLock`.
    RLock,
}

/// Arguments of the `locked_increments` entry: `times` times, under the
/// lock `lock`, reads the `i64` attribute `attribute`, then sets it to one
/// more (a read-modify-write that loses updates without the lock).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockedIncrements {
    /// The lock.
    pub lock: String,
    /// Its kind.
    pub kind: LockKind,
    /// Take it through a guard (`lock()`) rather than `acquire`/`release`.
    pub guard: bool,
    /// The attribute to increment.
    pub attribute: String,
    /// How many increments.
    pub times: u32,
}

/// Arguments of the `hold_lock_and_park` entry: takes the lock `lock`
/// `depth` times (more than once only for an `RLock`), sets the attribute
/// `announce` to its pid, and parks until killed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HoldLock {
    /// The lock.
    pub lock: String,
    /// Its kind.
    pub kind: LockKind,
    /// How many times to take it.
    pub depth: u32,
    /// The attribute that announces it holds the lock.
    pub announce: String,
}

/// Arguments of the `rlock_probe` entry, started while the test holds the
/// re-entrant lock `lock`: checks that it can neither take nor release it,
/// sets `checked`, then takes it (waiting), sets `got`, takes it once more,
/// and releases it twice.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RLockProbe {
    /// The re-entrant lock.
    pub lock: String,
    /// Set once the checks passed.
    pub checked: String,
    /// Set once it holds the lock.
    pub got: String,
}

/// Arguments of the `semaphore_hold_and_count` entry: `times` times, takes a
/// unit of the semaphore `semaphore` through a guard, adds 1 to `inside`,
/// raises `peak` to what that add returned if it is higher, adds 1 to
/// `violations` if that is more than `limit`, then subtracts 1 from `inside`
/// and gives the unit back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SemaphoreHold {
    /// The semaphore.
    pub semaphore: String,
    /// Its units: more holders at once is a violation.
    pub limit: u64,
    /// How many rounds.
    pub times: u32,
}

/// Arguments of the `semaphore_take_and_park` entry: opens the semaphore
/// `semaphore` (bounded or not, created with `value` units if new), takes
/// `guarded` units through guards and then `plain` units with plain
/// acquires, and sets `announce` to its pid. Then it waits for the event
/// `gate`, if there is one, and parks one more plain acquire, which a test
/// sees in `n_waiting` and sees leave when the worker's connection closes.
/// It fails if that acquire is ever granted; otherwise it waits until
/// killed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SemaphoreTake {
    /// The semaphore.
    pub semaphore: String,
    /// A bounded semaphore rather than a plain one.
    pub bounded: bool,
    /// Its initial value (and bound, if bounded).
    pub value: u64,
    /// How many units to take through guards.
    pub guarded: u64,
    /// How many units to take with plain acquires.
    pub plain: u64,
    /// The attribute that announces it holds them.
    pub announce: String,
    /// The event to wait for before parking the last acquire.
    pub gate: Option<String>,
}

/// Arguments of the `bounded_over_release` entry: on the bounded semaphore
/// `semaphore` of `bound` units, takes one, gives it back, and checks that
/// one more release fails with `TooManyReleases` and changes nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BoundedOverRelease {
    /// The bounded semaphore.
    pub semaphore: String,
    /// Its bound (and initial value).
    pub bound: u64,
}

/// Arguments of the `condition_produce` entry: `count` times, under the
/// condition `condition`, adds 1 to the attribute `available` and notifies
/// one waiter.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConditionProduce {
    /// The condition.
    pub condition: String,
    /// The attribute counting items ready to take.
    pub available: String,
    /// How many items.
    pub count: u32,
}

/// Arguments of the `condition_consume` entry: `count` times, under the
/// condition `condition`, waits (with `wait_for`) until the attribute
/// `available` is positive, then subtracts 1 from it and adds 1 to
/// `consumed`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConditionConsume {
    /// The condition.
    pub condition: String,
    /// The attribute counting items ready to take.
    pub available: String,
    /// The attribute counting items taken.
    pub consumed: String,
    /// How many items to take.
    pub count: u32,
}

/// Arguments of the `condition_probe` entry: tries once to take the
/// condition `condition`'s lock without waiting; succeeds only if that
/// answers `expect_free`, then releases it if it took it. Also checks that
/// `wait`, `notify`, `notify_all` and `release` without the lock are
/// `NotHeld`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConditionProbe {
    /// The condition.
    pub condition: String,
    /// Whether the lock should be free.
    pub expect_free: bool,
}
