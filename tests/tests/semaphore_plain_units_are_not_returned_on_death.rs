//! Plain semaphore units are only counted, as in Python: another process
//! may release them, so the manager does not give them back when the
//! process that acquired them dies. Otherwise a hand-off would create a
//! unit nobody released:
//!
//! - a semaphore of 0 as a signal: the test releases, a worker acquires and
//!   dies; the signal it consumed must not come back;
//! - a semaphore of 1 as a mutex handed across processes: a worker
//!   acquires, the test releases for it and acquires; when the worker dies
//!   the test still holds the only unit.
//!
//! Each worker parks one more acquire after taking its unit; that acquire
//! leaving `n_waiting` shows the manager has handled the worker's death.

use manager::launcher::Worker;
use manager::{Manager, WorkerError, blocking};
use tests::locks::SemaphoreTake;
use tests::{SHARED, connect, start_manager, wait_until, worker_program};

/// `Semaphore` or `BoundedSemaphore`, for the calls these tests make.
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

    fn acquire(&self) -> anyhow::Result<()> {
        match self {
            AnySemaphore::Plain(s) => s.acquire()?,
            AnySemaphore::Bounded(s) => s.acquire()?,
        }
        Ok(())
    }

    fn try_acquire(&self) -> anyhow::Result<bool> {
        Ok(match self {
            AnySemaphore::Plain(s) => s.try_acquire()?,
            AnySemaphore::Bounded(s) => s.try_acquire()?,
        })
    }

    fn release(&self) -> anyhow::Result<()> {
        match self {
            AnySemaphore::Plain(s) => s.release()?,
            AnySemaphore::Bounded(s) => s.release()?,
        }
        Ok(())
    }

    fn value(&self) -> anyhow::Result<u64> {
        Ok(match self {
            AnySemaphore::Plain(s) => s.value()?,
            AnySemaphore::Bounded(s) => s.value()?,
        })
    }

    fn n_waiting(&self) -> anyhow::Result<usize> {
        Ok(match self {
            AnySemaphore::Plain(s) => s.n_waiting()?,
            AnySemaphore::Bounded(s) => s.n_waiting()?,
        })
    }
}

/// Starts a worker that plain-acquires one unit of `semaphore`, announces
/// it, waits for the event `gate` (if any) and parks one more acquire.
fn spawn_taker(
    manager: &Manager,
    semaphore: &str,
    bounded: bool,
    value: u64,
    gate: Option<&str>,
) -> anyhow::Result<Worker> {
    let args = SemaphoreTake {
        semaphore: semaphore.into(),
        bounded,
        value,
        guarded: 0,
        plain: 1,
        announce: "taker".into(),
        gate: gate.map(Into::into),
    };
    Ok(manager
        .launcher()
        .spawn_program(worker_program!(), "semaphore_take_and_park", &args)?)
}

/// Kills `worker` and waits until the manager has dropped its parked
/// acquire, which it does in the same step as it gives back what the
/// worker's connection owned.
fn kill_and_wait_until_handled(mut worker: Worker, semaphore: &AnySemaphore) -> anyhow::Result<()> {
    worker.kill()?;
    let err = worker.join().unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );
    wait_until("the manager dropped the dead worker's acquire", || {
        Ok(semaphore.n_waiting()? == 0)
    })
}

#[test]
fn a_signal_consumed_by_a_worker_that_dies_does_not_come_back() -> anyhow::Result<()> {
    for bounded in [false, true] {
        let manager = start_manager()?;
        let client = connect(&manager)?;
        let ns = client.namespace(SHARED)?;
        // A bounded semaphore of 0 takes no release; start it at 1 and
        // empty it first.
        let initial = u64::from(bounded);
        let signal = AnySemaphore::open(&client, "signal", bounded, initial)?;
        if bounded {
            signal.acquire()?;
        }
        assert_eq!(signal.value()?, 0);

        signal.release()?;
        let worker = spawn_taker(&manager, "signal", bounded, initial, None)?;
        wait_until("the worker took the signal and waits for another", || {
            Ok(ns.contains("taker")? && signal.n_waiting()? == 1)
        })?;
        assert_eq!(signal.value()?, 0);

        kill_and_wait_until_handled(worker, &signal)?;
        assert_eq!(signal.value()?, 0, "bounded: {bounded}: no unit came back");
        assert!(!signal.try_acquire()?);
    }
    Ok(())
}

#[test]
fn a_unit_handed_off_by_another_process_is_not_given_back_twice() -> anyhow::Result<()> {
    for bounded in [false, true] {
        let manager = start_manager()?;
        let client = connect(&manager)?;
        let ns = client.namespace(SHARED)?;
        let gate = client.event("gate")?;
        let mutex = AnySemaphore::open(&client, "mutex", bounded, 1)?;

        let worker = spawn_taker(&manager, "mutex", bounded, 1, Some("gate"))?;
        wait_until("the worker holds the unit", || Ok(ns.contains("taker")?))?;
        assert_eq!(mutex.value()?, 0);
        // The test ends the worker's hold for it and enters itself.
        mutex.release()?;
        mutex.acquire()?;
        gate.set()?;
        wait_until("the worker waits for another unit", || {
            Ok(mutex.n_waiting()? == 1)
        })?;

        kill_and_wait_until_handled(worker, &mutex)?;
        assert_eq!(
            mutex.value()?,
            0,
            "bounded: {bounded}: the test holds the only unit"
        );
        assert!(!mutex.try_acquire()?);
        mutex.release()?;
        assert_eq!(mutex.value()?, 1);
    }
    Ok(())
}
