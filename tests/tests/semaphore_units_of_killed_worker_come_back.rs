//! The units a worker holds when it is killed with SIGKILL come back to the
//! semaphore (never past its bound) and go to whoever waits for them.

use manager_ipc::WorkerError;
use tests::locks::SemaphoreTake;
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

#[test]
fn a_killed_workers_units_come_back() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace(SHARED)?;
    let semaphore = client.bounded_semaphore("slots", 2)?;
    let args = SemaphoreTake {
        semaphore: "slots".into(),
        bound: 2,
        units: 2,
        announce: "holder".into(),
    };
    let mut holder =
        manager
            .launcher()
            .spawn_program(worker_program!(), "semaphore_take_and_park", &args)?;
    wait_until("the worker holds both units", || Ok(ns.contains("holder")?))?;
    assert_eq!(semaphore.value()?, 0);
    assert!(!semaphore.try_acquire()?);

    let waiter = {
        let semaphore = semaphore.clone();
        std::thread::spawn(move || semaphore.acquire_timeout(DEADLINE))
    };

    holder.kill()?;
    let err = holder.join().unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );

    assert!(
        waiter.join().expect("the waiter thread panicked")?,
        "the waiter got a unit of the dead worker"
    );
    assert_eq!(semaphore.value()?, 1, "the other unit is back");
    semaphore.release()?;
    assert_eq!(semaphore.value()?, 2, "back to its bound, not past it");
    Ok(())
}
