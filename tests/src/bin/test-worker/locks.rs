//! Worker entries for the tests of locks, re-entrant locks, semaphores and
//! conditions. Their arguments are documented in `tests::locks`.

use std::time::Duration;

use anyhow::{bail, ensure};
use manager::launcher::Entries;
use manager::{Error, ManagerError, blocking};
use tests::locks::{
    BoundedOverRelease, ConditionConsume, ConditionProbe, ConditionProduce, HoldLock, LockKind,
    LockedIncrements, RLockProbe, SemaphoreHold, SemaphoreTake,
};
use tests::{DEADLINE, SHARED};

use crate::client;

/// Adds this family's entries.
pub(crate) fn register(entries: Entries) -> Entries {
    entries
        .entry("locked_increments", locked_increments)
        .entry("hold_lock_and_park", hold_lock_and_park)
        .entry("rlock_probe", rlock_probe)
        .entry("semaphore_hold_and_count", semaphore_hold_and_count)
        .entry("semaphore_take_and_park", semaphore_take_and_park)
        .entry("bounded_over_release", bounded_over_release)
        .entry("condition_produce", condition_produce)
        .entry("condition_consume", condition_consume)
        .entry("condition_probe", condition_probe)
}

/// Either kind of lock, as far as these entries use them.
enum AnyLock {
    Lock(blocking::Lock),
    RLock(blocking::RLock),
}

impl AnyLock {
    fn open(client: &blocking::Client, name: &str, kind: LockKind) -> anyhow::Result<Self> {
        Ok(match kind {
            LockKind::Lock => AnyLock::Lock(client.lock(name)?),
            LockKind::RLock => AnyLock::RLock(client.rlock(name)?),
        })
    }

    fn acquire(&self) -> Result<(), Error> {
        match self {
            AnyLock::Lock(l) => l.acquire(),
            AnyLock::RLock(l) => l.acquire(),
        }
    }

    fn release(&self) -> Result<(), Error> {
        match self {
            AnyLock::Lock(l) => l.release(),
            AnyLock::RLock(l) => l.release(),
        }
    }
}

fn locked_increments(args: LockedIncrements) -> anyhow::Result<()> {
    let client = client()?;
    let ns = client.namespace(SHARED)?;
    let lock = AnyLock::open(&client, &args.lock, args.kind)?;
    let increment = || -> anyhow::Result<()> {
        let n: i64 = ns.get(&args.attribute)?;
        ns.set(&args.attribute, &(n + 1))?;
        Ok(())
    };
    for _ in 0..args.times {
        // A failed increment drops the guard, which releases the lock.
        match (&lock, args.guard) {
            (AnyLock::Lock(lock), true) => {
                let guard = lock.lock()?;
                increment()?;
                guard.release()?;
            }
            (AnyLock::RLock(lock), true) => {
                let guard = lock.lock()?;
                increment()?;
                guard.release()?;
            }
            (lock, false) => {
                lock.acquire()?;
                increment()?;
                lock.release()?;
            }
        }
    }
    Ok(())
}

fn hold_lock_and_park(args: HoldLock) -> anyhow::Result<()> {
    let client = client()?;
    let lock = AnyLock::open(&client, &args.lock, args.kind)?;
    for _ in 0..args.depth {
        lock.acquire()?;
    }
    client
        .namespace(SHARED)?
        .set(&args.announce, &std::process::id())?;
    loop {
        std::thread::park_timeout(Duration::from_secs(3600));
    }
}

fn rlock_probe(args: RLockProbe) -> anyhow::Result<()> {
    let client = client()?;
    let ns = client.namespace(SHARED)?;
    let lock = client.rlock(&args.lock)?;
    ensure!(!lock.try_acquire()?, "took an rlock another process holds");
    match lock.release() {
        Err(Error::Manager(ManagerError::NotHeld { .. })) => {}
        other => bail!("release by a non-holder: expected NotHeld, got {other:?}"),
    }
    ns.set(&args.checked, &true)?;
    ensure!(
        lock.acquire_timeout(DEADLINE)?,
        "the holder never released the rlock"
    );
    ns.set(&args.got, &true)?;
    lock.acquire()?;
    lock.release()?;
    lock.release()?;
    Ok(())
}

fn semaphore_hold_and_count(args: SemaphoreHold) -> anyhow::Result<()> {
    let client = client()?;
    let ns = client.namespace(SHARED)?;
    let semaphore = client.semaphore(&args.semaphore, args.limit)?;
    for _ in 0..args.times {
        let unit = semaphore.guard()?;
        let inside = ns.add("inside", 1)?;
        raise_peak(&ns, inside)?;
        if inside > args.limit as i64 {
            ns.add("violations", 1)?;
        }
        ns.add("inside", -1)?;
        ns.add("rounds", 1)?;
        unit.release()?;
    }
    Ok(())
}

/// Raises the attribute `peak` to `seen` if it is lower, atomically.
fn raise_peak(ns: &blocking::Namespace, seen: i64) -> anyhow::Result<()> {
    let mut expected: Option<i64> = ns.try_get("peak")?;
    loop {
        if expected.is_some_and(|peak| peak >= seen) {
            return Ok(());
        }
        match ns.compare_and_swap("peak", expected.as_ref(), &seen)? {
            Ok(()) => return Ok(()),
            Err(current) => expected = current,
        }
    }
}

/// Either kind of semaphore, as far as these entries use them.
enum AnySemaphore {
    Plain(blocking::Semaphore),
    Bounded(blocking::BoundedSemaphore),
}

impl AnySemaphore {
    fn open(
        client: &blocking::Client,
        name: &str,
        bounded: bool,
        value: u64,
    ) -> anyhow::Result<Self> {
        Ok(if bounded {
            AnySemaphore::Bounded(client.bounded_semaphore(name, value)?)
        } else {
            AnySemaphore::Plain(client.semaphore(name, value)?)
        })
    }

    fn guard(&self) -> Result<blocking::SemaphoreGuard, Error> {
        match self {
            AnySemaphore::Plain(s) => s.guard(),
            AnySemaphore::Bounded(s) => s.guard(),
        }
    }

    fn acquire(&self) -> Result<(), Error> {
        match self {
            AnySemaphore::Plain(s) => s.acquire(),
            AnySemaphore::Bounded(s) => s.acquire(),
        }
    }

    fn acquire_timeout(&self, timeout: Duration) -> Result<bool, Error> {
        match self {
            AnySemaphore::Plain(s) => s.acquire_timeout(timeout),
            AnySemaphore::Bounded(s) => s.acquire_timeout(timeout),
        }
    }
}

fn semaphore_take_and_park(args: SemaphoreTake) -> anyhow::Result<()> {
    let client = client()?;
    let semaphore = AnySemaphore::open(&client, &args.semaphore, args.bounded, args.value)?;
    // Kept until the process is killed.
    let guards = (0..args.guarded)
        .map(|_| semaphore.guard())
        .collect::<Result<Vec<_>, _>>()?;
    for _ in 0..args.plain {
        semaphore.acquire()?;
    }
    client
        .namespace(SHARED)?
        .set(&args.announce, &std::process::id())?;
    if let Some(gate) = &args.gate {
        ensure!(
            client.event(gate)?.wait_timeout(DEADLINE)?,
            "the gate `{gate}` stayed closed for {DEADLINE:?}"
        );
    }
    loop {
        ensure!(
            !semaphore.acquire_timeout(DEADLINE)?,
            "the parked acquire got a unit (holding {} guards)",
            guards.len()
        );
    }
}

fn bounded_over_release(args: BoundedOverRelease) -> anyhow::Result<()> {
    let semaphore = client()?.bounded_semaphore(&args.semaphore, args.bound)?;
    ensure!(semaphore.value()? == args.bound, "starts at its bound");
    semaphore.acquire()?;
    ensure!(semaphore.value()? == args.bound - 1);
    semaphore.release()?;
    let expected = format!("released past its bound of {}", args.bound);
    match semaphore.release() {
        Err(Error::Manager(ManagerError::TooManyReleases { what, detail }))
            if what == format!("bounded semaphore `{}`", args.semaphore) && detail == expected => {}
        other => bail!("release past the bound: expected TooManyReleases, got {other:?}"),
    }
    match semaphore.release_n(args.bound) {
        Err(Error::Manager(ManagerError::TooManyReleases { .. })) => {}
        other => bail!("release_n past the bound: expected TooManyReleases, got {other:?}"),
    }
    ensure!(
        semaphore.value()? == args.bound,
        "a refused release changes nothing"
    );
    Ok(())
}

fn condition_produce(args: ConditionProduce) -> anyhow::Result<()> {
    let client = client()?;
    let ns = client.namespace(SHARED)?;
    let condition = client.condition(&args.condition)?;
    for _ in 0..args.count {
        let guard = condition.guard()?;
        ns.add(&args.available, 1)?;
        condition.notify(1)?;
        guard.release()?;
    }
    Ok(())
}

fn condition_consume(args: ConditionConsume) -> anyhow::Result<()> {
    let client = client()?;
    let ns = client.namespace(SHARED)?;
    let condition = client.condition(&args.condition)?;
    for taken in 0..args.count {
        let guard = condition.guard()?;
        let mut failure = None;
        let ready = condition.wait_for(
            || match ns.get::<i64>(&args.available) {
                Ok(n) => n > 0,
                Err(e) => {
                    failure = Some(e);
                    true
                }
            },
            Some(DEADLINE),
        )?;
        if let Some(e) = failure {
            return Err(e.into());
        }
        ensure!(ready, "no item came for {DEADLINE:?} after {taken} items");
        ns.add(&args.available, -1)?;
        ns.add(&args.consumed, 1)?;
        guard.release()?;
    }
    Ok(())
}

fn condition_probe(args: ConditionProbe) -> anyhow::Result<()> {
    let condition = client()?.condition(&args.condition)?;
    let checks: [(&str, Result<(), Error>); 4] = [
        ("wait", condition.wait_timeout(DEADLINE).map(drop)),
        ("notify", condition.notify(1).map(drop)),
        ("notify_all", condition.notify_all().map(drop)),
        ("release", condition.release()),
    ];
    for (operation, result) in checks {
        match result {
            Err(Error::Manager(ManagerError::NotHeld { what }))
                if what == format!("condition `{}`", args.condition) => {}
            other => bail!("{operation} without the lock: expected NotHeld, got {other:?}"),
        }
    }
    let free = condition.try_acquire()?;
    ensure!(
        free == args.expect_free,
        "try_acquire answered {free}, expected {}",
        args.expect_free
    );
    if free {
        condition.release()?;
    }
    Ok(())
}
