//! A worker killed with SIGKILL in the middle of its work disturbs neither
//! the manager nor the other workers.

use manager::WorkerError;
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

#[test]
fn sigkill_of_one_worker_leaves_the_rest_running() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let ns = connect(&manager)?.namespace(SHARED)?;
    let mut workers = (0..3_u32)
        .map(|i| {
            manager
                .launcher()
                .spawn_program(worker_program!(), "add_until_stopped", &i)
        })
        .collect::<Result<Vec<_>, _>>()?;

    let count = |i: u32| {
        ns.try_get::<i64>(&format!("count-{i}"))
            .map(Option::unwrap_or_default)
    };
    wait_until("every worker has done 100 adds", || {
        Ok((0..3)
            .map(count)
            .collect::<Result<Vec<_>, _>>()?
            .iter()
            .all(|&c| c >= 100))
    })?;

    workers[0].kill()?;
    let err = workers[0].join().unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );
    let frozen = count(0)?;

    // The others keep going after the kill.
    let before: Vec<i64> = (1..3).map(count).collect::<Result<_, _>>()?;
    wait_until("the surviving workers make progress", || {
        Ok((1..3)
            .zip(&before)
            .all(|(i, b)| count(i).is_ok_and(|c| c > b + 100)))
    })?;
    assert_eq!(count(0)?, frozen, "a dead worker's count cannot move");

    ns.set("stop", &true)?;
    for worker in &mut workers[1..] {
        worker.join_timeout(DEADLINE)?;
    }
    // No add was lost or doubled: the total is the sum of the counters.
    let total: i64 = ns.get("total")?;
    let sum: i64 = (0..3).map(count).sum::<Result<i64, _>>()?;
    // The killed worker may have died between its two adds.
    assert!(
        total == sum || total == sum - 1,
        "total {total}, counters {sum}"
    );
    Ok(())
}
