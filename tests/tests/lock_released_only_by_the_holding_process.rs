//! A plain lock may be released by another thread of the process that holds
//! it, as Python's `threading.Lock` may, but not by another process: once a
//! dead holder's lock has gone to the next waiter, a release sent by a
//! process that meant to free it for the dead holder must not free it for
//! the new one.

use manager::{Error, ManagerError, WorkerError};
use tests::locks::{HoldLock, LockKind};
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

fn is_not_held(result: &Result<(), Error>) -> bool {
    matches!(
        result,
        Err(Error::Manager(ManagerError::NotHeld { what })) if what == "lock `resource`"
    )
}

#[test]
fn another_process_cannot_release_the_lock_of_the_next_holder() -> anyhow::Result<()> {
    let manager = start_manager()?;
    // b and c are two processes as far as the manager is concerned: two
    // connections.
    let b = connect(&manager)?;
    let c = connect(&manager)?;
    let ns = b.namespace(SHARED)?;
    let args = HoldLock {
        lock: "resource".into(),
        kind: LockKind::Lock,
        depth: 1,
        announce: "holder".into(),
    };
    let mut a = manager
        .launcher()
        .spawn_program(worker_program!(), "hold_lock_and_park", &args)?;
    wait_until("the worker holds the lock", || Ok(ns.contains("holder")?))?;

    let b_lock = b.lock("resource")?;
    let released = b_lock.release();
    assert!(is_not_held(&released), "{released:?}");
    assert!(b_lock.locked()?, "the worker still holds it");

    // A thread of c parks on the lock; the worker dies and c gets it.
    let c_lock = c.lock("resource")?;
    let waiter = {
        let c_lock = c_lock.clone();
        std::thread::spawn(move || c_lock.acquire_timeout(DEADLINE))
    };
    wait_until("c's thread is parked on the lock", || {
        Ok(b_lock.n_waiting()? == 1)
    })?;
    a.kill()?;
    let err = a.join().unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );
    assert!(
        waiter.join().expect("the waiter thread panicked")?,
        "c got the dead worker's lock"
    );

    // b's release, meant for the dead worker, does not free c's lock.
    let released = b_lock.release();
    assert!(is_not_held(&released), "{released:?}");
    assert!(b_lock.locked()?, "c still holds it");
    assert!(!b_lock.try_acquire()?);

    // Another thread of c (this one) may release what c's waiter took.
    c_lock.release()?;
    assert!(!b_lock.locked()?);
    assert!(is_not_held(&c_lock.release()), "nobody holds it now");
    Ok(())
}
