//! A process killed with SIGKILL while holding a lock does not take the
//! lock with it: the manager releases it (however many times an `RLock`
//! was taken) and hands it to the waiter parked on it. Python's manager
//! keeps such a lock held, and every other process deadlocks on it.

use manager::WorkerError;
use tests::locks::{HoldLock, LockKind};
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

fn killed_holder_releases(kind: LockKind, depth: u32) -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace(SHARED)?;
    let args = HoldLock {
        lock: "resource".into(),
        kind,
        depth,
        announce: "holder".into(),
    };
    let mut holder =
        manager
            .launcher()
            .spawn_program(worker_program!(), "hold_lock_and_park", &args)?;
    wait_until("the worker holds the lock", || Ok(ns.contains("holder")?))?;
    assert_eq!(ns.get::<u32>("holder")?, holder.pid());

    // A waiter in another thread (another owner) parks on the held lock.
    let waiter = {
        let client = client.clone();
        std::thread::spawn(move || -> anyhow::Result<bool> {
            Ok(match kind {
                LockKind::Lock => {
                    let lock = client.lock("resource")?;
                    let got = lock.acquire_timeout(DEADLINE)?;
                    got && lock.release().is_ok()
                }
                LockKind::RLock => {
                    let lock = client.rlock("resource")?;
                    let got = lock.acquire_timeout(DEADLINE)?;
                    got && lock.release().is_ok()
                }
            })
        })
    };
    let (locked, taken) = match kind {
        LockKind::Lock => {
            let lock = client.lock("resource")?;
            (lock.locked()?, lock.try_acquire()?)
        }
        LockKind::RLock => {
            let lock = client.rlock("resource")?;
            (lock.locked()?, lock.try_acquire()?)
        }
    };
    assert!(locked && !taken, "the worker holds the lock");
    // Kill the holder only once the waiter is parked on the manager, so
    // the lock is handed to a parked waiter, not merely found free later.
    let n_waiting = || -> anyhow::Result<usize> {
        Ok(match kind {
            LockKind::Lock => client.lock("resource")?.n_waiting()?,
            LockKind::RLock => client.rlock("resource")?.n_waiting()?,
        })
    };
    wait_until("the waiter is parked on the lock", || Ok(n_waiting()? == 1))?;

    holder.kill()?;
    let err = holder.join().unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );

    let got = waiter.join().expect("the waiter thread panicked")?;
    assert!(got, "the waiter got the dead holder's lock and released it");
    assert_eq!(n_waiting()?, 0);
    // And it is free for anyone now.
    match kind {
        LockKind::Lock => {
            let lock = client.lock("resource")?;
            assert!(lock.acquire_timeout(DEADLINE)?);
            lock.release()?;
        }
        LockKind::RLock => {
            let lock = client.rlock("resource")?;
            assert!(lock.acquire_timeout(DEADLINE)?);
            lock.release()?;
            assert!(!lock.locked()?);
        }
    }
    Ok(())
}

#[test]
fn a_killed_holders_lock_goes_to_the_waiter() -> anyhow::Result<()> {
    killed_holder_releases(LockKind::Lock, 1)
}

#[test]
fn a_killed_holders_rlock_taken_three_times_is_released_whole() -> anyhow::Result<()> {
    killed_holder_releases(LockKind::RLock, 3)
}
