//! An `RLock` is re-entrant for its one owner only: the holder takes it
//! twice and must release it twice before another process (or another
//! thread of its own) can take it, and nobody else may release it.

use manager::{Error, ManagerError, blocking};
use tests::locks::RLockProbe;
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

/// Runs `f` on another thread (another owner) and returns its result.
fn on_other_thread<T: Send + 'static>(
    lock: &blocking::RLock,
    f: impl FnOnce(&blocking::RLock) -> T + Send + 'static,
) -> T {
    let lock = lock.clone();
    std::thread::spawn(move || f(&lock))
        .join()
        .expect("the other thread panicked")
}

#[test]
fn only_the_second_release_lets_another_owner_in() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace(SHARED)?;
    let lock = client.rlock("tree")?;

    lock.acquire()?;
    assert!(lock.try_acquire()?, "the holder takes it again at once");

    let args = RLockProbe {
        lock: "tree".into(),
        checked: "checked".into(),
        got: "got".into(),
    };
    let mut probe = manager
        .launcher()
        .spawn_program(worker_program!(), "rlock_probe", &args)?;
    wait_until("the other process found the rlock held", || {
        Ok(ns.contains("checked")?)
    })?;

    // Another thread of this process is another owner.
    let (taken, released) = on_other_thread(&lock, |lock| (lock.try_acquire(), lock.release()));
    assert!(!taken?, "another thread took a held rlock");
    assert!(
        matches!(
            released,
            Err(Error::Manager(ManagerError::NotHeld { ref what })) if what == "rlock `tree`"
        ),
        "{released:?}"
    );

    lock.release()?;
    assert!(lock.locked()?, "held once more after the first release");
    assert!(!on_other_thread(&lock, |lock| lock.try_acquire())?);
    assert!(!ns.contains("got")?, "the other process got it too early");

    lock.release()?;
    probe.join_timeout(DEADLINE)?;
    assert!(ns.get::<bool>("got")?);
    assert!(!lock.locked()?, "the other process released it twice");
    match lock.release() {
        Err(Error::Manager(ManagerError::NotHeld { .. })) => {}
        other => panic!("release of a free rlock: expected NotHeld, got {other:?}"),
    }
    Ok(())
}
