//! A worker killed mid-task fails only that task; a replacement finishes
//! the rest.

use manager::pool::{Pool, PoolError};
use tests::{DEADLINE, connect, process_is_dead, start_manager, worker_program};

#[test]
fn killed_worker_fails_only_its_task() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let pool = Pool::builder(&manager)
        .workers(2)
        .program(worker_program!())
        .build()?;
    let original = pool.pids();

    let prefix = "killed-mid-task";
    let pids = client.queue::<u32>(&format!("{prefix}/pids"), None)?;
    let parked = pool.apply_async::<_, ()>("park_until_killed", prefix)?;
    // Other work goes on while one worker is parked.
    let busy = pool.apply_async::<u64, u64>("square", &3)?;
    let pid = pids.get_timeout(DEADLINE)?;
    assert!(original.contains(&pid));
    assert_eq!(busy.get()?, 9);

    let status = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()?;
    assert!(status.success());

    let error = parked.get().unwrap_err();
    assert!(
        matches!(&error, PoolError::WorkerDied { pid: p, task, index: 0, .. }
            if *p == pid && task == "park_until_killed"),
        "{error:?}"
    );
    assert!(error.to_string().contains("died"), "{error}");

    let squares: Vec<u64> = pool.map("square", 0..50_u64)?;
    assert_eq!(squares, (0..50_u64).map(|x| x * x).collect::<Vec<_>>());
    let now = pool.pids();
    assert_eq!(now.len(), 2, "a replacement was started: {now:?}");
    assert!(!now.contains(&pid));
    assert!(process_is_dead(pid));
    Ok(())
}
