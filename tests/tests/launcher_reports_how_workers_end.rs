//! The launcher reports how each worker ended, kills on request, and no
//! worker outlives the process that launched it.

use std::time::Duration;

use manager::WorkerError;
use tests::{
    DEADLINE, SHARED, connect, process_is_dead, start_manager, wait_until, worker_program,
};

#[test]
fn error_panic_unknown_entry_and_kill_are_reported() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let launcher = manager.launcher();

    let mut failing = launcher.spawn_program(worker_program!(), "fail", "no luck")?;
    let err = failing.join_timeout(DEADLINE).unwrap_err();
    assert!(matches!(err, WorkerError::EntryFailed { .. }), "{err}");
    assert!(err.to_string().starts_with("worker `fail` (pid "), "{err}");

    let mut panicking = launcher.spawn_program(worker_program!(), "panic", "boom")?;
    let err = panicking.join_timeout(DEADLINE).unwrap_err();
    assert!(matches!(err, WorkerError::Panicked { .. }), "{err}");

    let mut unknown = launcher.spawn_program(worker_program!(), "no-such-entry", &())?;
    let err = unknown.join_timeout(DEADLINE).unwrap_err();
    assert!(matches!(err, WorkerError::UnknownEntry { .. }), "{err}");

    let mut parked = launcher.spawn_program(worker_program!(), "park", &())?;
    let err = parked.join_timeout(Duration::from_millis(50)).unwrap_err();
    assert!(matches!(err, WorkerError::Timeout { .. }), "{err}");
    parked.kill()?;
    let err = parked.join().unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );
    Ok(())
}

#[test]
fn dropping_a_worker_handle_kills_it() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let ns = connect(&manager)?.namespace(SHARED)?;
    let worker = manager
        .launcher()
        .spawn_program(worker_program!(), "park", &())?;
    let pid = worker.pid();
    wait_until("the worker is connected", || {
        Ok(ns.contains(&format!("parked-{pid}"))?)
    })?;
    drop(worker);
    assert!(process_is_dead(pid));
    Ok(())
}

#[test]
fn grandchild_dies_with_the_worker_that_launched_it() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let ns = connect(&manager)?.namespace(SHARED)?;
    // The worker re-executes its own program to launch a grandchild.
    let mut worker = manager
        .launcher()
        .spawn_program(worker_program!(), "spawn_and_park", &())?;
    wait_until("the grandchild is launched", || {
        Ok(ns.contains("grandchild")?)
    })?;
    let grandchild: u32 = ns.get("grandchild")?;
    wait_until("the grandchild is connected", || {
        Ok(ns.contains(&format!("parked-{grandchild}"))?)
    })?;

    worker.kill()?;
    wait_until("the grandchild dies with its parent", || {
        Ok(process_is_dead(grandchild))
    })?;
    Ok(())
}
