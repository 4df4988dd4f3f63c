//! A worker SIGKILLed while parked in `get` (or `get_many`) does not take
//! the next items: they go to the live consumer parked behind it.
//!
//! The doomed worker also waits in a two-party "witness" barrier. Its death
//! breaks that barrier, and the manager tells every object a connection
//! used in one go, so once the test sees the barrier broken, the queue has
//! dropped the dead getter too: the put that follows cannot race the
//! manager's noticing the death.

use manager::WorkerError;
use tests::queues::{Announce, GetWhenParked};
use tests::{DEADLINE, connect, start_manager, wait_until, worker_program};

#[test]
fn the_live_consumer_gets_the_item() -> anyhow::Result<()> {
    dead_getter_then_live_one(None)
}

#[test]
fn the_live_bulk_consumer_gets_every_item() -> anyhow::Result<()> {
    dead_getter_then_live_one(Some(16))
}

/// Parks a doomed getter, then a live one, both with `get` (`many: None`)
/// or `get_many(max)`; kills the doomed one and puts three items.
fn dead_getter_then_live_one(many: Option<usize>) -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let jobs = client.queue::<u64>("jobs", None)?;
    let results = client.queue::<u64>("results", None)?;
    let witness = client.barrier("witness", 2)?;
    let live_ready = client.event("live-ready")?;
    let launcher = manager.launcher();

    // First in line: the worker that will die.
    let mut doomed = launcher.spawn_program(
        worker_program!(),
        "get_when_parked",
        &GetWhenParked {
            queue: "jobs".into(),
            announce: Announce::WaitInBarrier("witness".into()),
            results: "results".into(),
            many,
        },
    )?;
    wait_until("the doomed worker's get is parked", || {
        Ok(witness.n_waiting()? == 1)
    })?;
    // Second in line: the live consumer.
    let mut live = launcher.spawn_program(
        worker_program!(),
        "get_when_parked",
        &GetWhenParked {
            queue: "jobs".into(),
            announce: Announce::SetEvent("live-ready".into()),
            results: "results".into(),
            many,
        },
    )?;
    assert!(live_ready.wait()?, "the live consumer did not park in time");

    doomed.kill()?;
    let err = doomed.join().unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );
    wait_until(
        "the manager has seen the doomed worker's connection close",
        || Ok(witness.broken()?),
    )?;

    let items: &[u64] = if many.is_some() { &[42, 43, 44] } else { &[42] };
    assert_eq!(jobs.put_many(items)?, items.len());
    live.join_timeout(DEADLINE)?;
    assert_eq!(results.get_many(items.len())?, items);
    assert!(results.is_empty()?, "only the live consumer reported");
    assert!(jobs.is_empty()?);
    Ok(())
}
