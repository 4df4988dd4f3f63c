//! An event set by the main process releases the 3 worker processes
//! waiting for it, and none passes before it is set.

use std::collections::BTreeSet;
use std::time::Duration;

use manager::{Error, ManagerError};
use tests::queues::WaitForEvent;
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

const WAITERS: u32 = 3;

#[test]
fn set_releases_every_waiting_process() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let go = client.event("go")?;
    let released = client.queue::<u32>("released", None)?;
    let ns = client.namespace(SHARED)?;
    let launcher = manager.launcher();

    let mut workers = (0..WAITERS)
        .map(|index| {
            let args = WaitForEvent {
                event: "go".into(),
                results: "released".into(),
                index,
            };
            launcher.spawn_program(worker_program!(), "wait_for_event", &args)
        })
        .collect::<Result<Vec<_>, _>>()?;
    wait_until("every worker has arrived", || {
        Ok(ns.try_get::<i64>("arrived")? == Some(i64::from(WAITERS)))
    })?;
    // Not set: nobody passes.
    assert!(!go.is_set()?);
    assert!(matches!(
        released.get_timeout(Duration::from_millis(100)),
        Err(Error::Manager(ManagerError::Empty { .. }))
    ));

    go.set()?;
    let mut seen = BTreeSet::new();
    for _ in 0..WAITERS {
        seen.insert(released.get_timeout(DEADLINE)?);
    }
    assert_eq!(seen, (0..WAITERS).collect());
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }
    // Set stays set until cleared: a late wait passes at once.
    assert!(go.wait_timeout(Duration::ZERO)?);
    go.clear()?;
    assert!(!go.wait_timeout(Duration::from_millis(20))?);
    Ok(())
}
