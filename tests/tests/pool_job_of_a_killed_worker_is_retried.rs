//! With `retries(n)`, a job whose worker dies while running it runs again
//! on another worker, up to `n` times; then its items fail with
//! `WorkerDied`. Without retries it fails at once (see
//! `pool_worker_killed_mid_task.rs`).

use manager::pool::{Pool, PoolError};
use tests::{SHARED, connect, start_manager, worker_program};

#[test]
fn a_job_runs_again_after_its_worker_dies() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let pool = Pool::builder(&manager)
        .workers(2)
        .retries(2)
        .program(worker_program!())
        .build()?;
    // Two workers die running it; the third run returns.
    let runs: i64 = pool.apply("die_first_times", &("twice".to_owned(), 2_i64))?;
    assert_eq!(runs, 3);
    assert_eq!(client.namespace(SHARED)?.get::<i64>("twice/runs")?, 3);
    // The pool goes on with replacements.
    let squares: Vec<u64> = pool.map("square", 0..10_u64)?;
    assert_eq!(squares, (0..10_u64).map(|x| x * x).collect::<Vec<_>>());
    assert_eq!(pool.pids().len(), 2);
    pool.close()?;
    Ok(())
}

#[test]
fn retries_are_bounded() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let pool = Pool::builder(&manager)
        .workers(2)
        .retries(1)
        .program(worker_program!())
        .build()?;
    let error = pool
        .apply::<_, i64>("die_first_times", &("always".to_owned(), i64::MAX))
        .unwrap_err();
    assert!(
        matches!(&error, PoolError::WorkerDied { task, .. } if task == "die_first_times"),
        "{error:?}"
    );
    // Run once, retried once: two deaths, no third run.
    assert_eq!(client.namespace(SHARED)?.get::<i64>("always/runs")?, 2);
    pool.close()?;
    Ok(())
}
