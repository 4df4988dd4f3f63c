//! The units a worker holds through guards when it is killed with SIGKILL
//! come back to the semaphore (never past its bound) and go to the acquire
//! parked for them. The units it took with a plain `acquire` do not: as in
//! Python, only a release brings those back.

use manager::{Error, ManagerError, WorkerError};
use tests::locks::SemaphoreTake;
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

#[test]
fn a_killed_workers_guarded_units_come_back_and_plain_ones_do_not() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace(SHARED)?;
    let semaphore = client.bounded_semaphore("slots", 3)?;
    let args = SemaphoreTake {
        semaphore: "slots".into(),
        bounded: true,
        value: 3,
        guarded: 2,
        plain: 1,
        announce: "holder".into(),
        gate: None,
    };
    let mut holder =
        manager
            .launcher()
            .spawn_program(worker_program!(), "semaphore_take_and_park", &args)?;
    wait_until("the worker holds every unit and waits for one more", || {
        Ok(ns.contains("holder")? && semaphore.n_waiting()? == 1)
    })?;
    assert_eq!(semaphore.value()?, 0);
    assert!(!semaphore.try_acquire()?);

    // Kill the worker only once the waiter is parked behind its acquire, so
    // the units are handed to a parked waiter.
    let waiter = {
        let semaphore = semaphore.clone();
        std::thread::spawn(move || semaphore.acquire_timeout(DEADLINE))
    };
    wait_until("the waiter is parked", || Ok(semaphore.n_waiting()? == 2))?;

    holder.kill()?;
    let err = holder.join().unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );

    assert!(
        waiter.join().expect("the waiter thread panicked")?,
        "the waiter got a guarded unit of the dead worker"
    );
    assert_eq!(semaphore.n_waiting()?, 0, "the worker's acquire is gone");
    assert_eq!(
        semaphore.value()?,
        1,
        "the other guarded unit is back; the plain one is not"
    );

    // The waiter's unit, then the dead worker's plain unit, released by
    // hand, fill the semaphore to its bound and no further.
    semaphore.release()?;
    semaphore.release()?;
    assert_eq!(semaphore.value()?, 3);
    match semaphore.release() {
        Err(Error::Manager(ManagerError::TooManyReleases { .. })) => {}
        other => panic!("release past the bound: expected TooManyReleases, got {other:?}"),
    }
    assert_eq!(semaphore.value()?, 3, "back to its bound, not past it");
    Ok(())
}
