//! `JoinableQueue::join` returns only once every item put has been marked
//! done by the worker processes, and a join that may not wait says `false`
//! before then.

use std::time::Duration;

use manager::{Error, ManagerError};
use tests::queues::WorkJoinable;
use tests::{DEADLINE, SHARED, connect, start_manager, worker_program};

const ITEMS: u64 = 20;
const WORKERS: usize = 2;

#[test]
fn join_returns_after_the_last_task_done() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let tasks = client.joinable_queue::<Option<u64>>("tasks", None)?;
    let gate = client.event("gate")?;
    let ns = client.namespace(SHARED)?;

    assert!(tasks.join_timeout(Duration::ZERO)?, "nothing put: joined");
    for n in 0..ITEMS {
        tasks.put(&Some(n))?;
    }
    for _ in 0..WORKERS {
        tasks.put(&None)?;
    }
    let args = WorkJoinable {
        queue: "tasks".into(),
        gate: "gate".into(),
    };
    let launcher = manager.launcher();
    let mut workers = (0..WORKERS)
        .map(|_| launcher.spawn_program(worker_program!(), "work_joinable", &args))
        .collect::<Result<Vec<_>, _>>()?;

    // The workers wait for the gate before their first task_done, so
    // nothing is done yet: a join that may not wait, or waits briefly,
    // gives up.
    assert!(!tasks.join_timeout(Duration::ZERO)?);
    assert!(!tasks.join_timeout(Duration::from_millis(50))?);

    gate.set()?;
    assert!(tasks.join()?, "join ended before the workers were done");
    // Each worker counted an item before marking it done, so by the time
    // join returns, every count is in.
    assert_eq!(ns.get::<i64>("done")?, ITEMS as i64);
    assert!(tasks.is_empty()?);
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }

    // One task_done too many is a typed error.
    match tasks.task_done() {
        Err(Error::Manager(ManagerError::TooManyReleases { what, detail })) => {
            assert_eq!(what, "joinable queue `tasks`");
            assert!(detail.contains("task_done"), "{detail}");
        }
        other => panic!("expected TooManyReleases, got {other:?}"),
    }
    assert!(tasks.join_timeout(Duration::ZERO)?);
    Ok(())
}
