//! A task's error and a worker SIGKILLed mid-task reach an awaiting caller
//! exactly as they reach a blocking one; a replacement worker serves on.

use std::sync::Arc;

use manager::pool::{Pool, PoolError};
use tests::pools::pool_of;
use tests::{DEADLINE, process_is_dead, start_manager, worker_program};
use tokio::time::timeout;

/// `call` on a blocking thread, as a plain-thread caller would make it.
async fn blocking<T: Send + 'static>(
    pool: &Arc<Pool>,
    call: impl FnOnce(&Pool) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let pool = Arc::clone(pool);
    Ok(timeout(DEADLINE, tokio::task::spawn_blocking(move || call(&pool))).await??)
}

#[tokio::test]
async fn task_errors_are_the_same_awaited_or_blocking() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let pool = Arc::new(pool_of(&manager, worker_program!(), 1).await?);

    let awaited = timeout(
        DEADLINE,
        pool.apply_async::<_, ()>("fail_with", "disk on fire")?,
    )
    .await?
    .unwrap_err();
    assert!(
        matches!(&awaited, PoolError::Task { task, index: 0, message }
            if task == "fail_with" && message.contains("disk on fire")),
        "{awaited:?}"
    );
    let blocked = blocking(&pool, |pool| {
        pool.apply::<_, ()>("fail_with", "disk on fire")
    })
    .await?
    .unwrap_err();
    assert_eq!(awaited.to_string(), blocked.to_string());

    let awaited = timeout(
        DEADLINE,
        pool.map_async::<u64, u64>("fail_if_odd", 0..10_u64)?,
    )
    .await?
    .unwrap_err();
    assert!(
        matches!(awaited, PoolError::Task { index: 1, .. }),
        "{awaited:?}"
    );
    let blocked = blocking(&pool, |pool| pool.map::<u64, u64>("fail_if_odd", 0..10_u64))
        .await?
        .unwrap_err();
    assert_eq!(awaited.to_string(), blocked.to_string());

    let awaited = timeout(
        DEADLINE,
        pool.apply_async::<_, ()>("panic_with", "out of cheese")?,
    )
    .await?
    .unwrap_err();
    assert!(
        matches!(&awaited, PoolError::Task { message, .. } if message.contains("out of cheese")),
        "{awaited:?}"
    );

    let pool = Arc::into_inner(pool).expect("the blocking calls have ended");
    timeout(DEADLINE, pool.close_async()).await??;
    Ok(())
}

#[tokio::test]
async fn a_worker_killed_mid_task_is_reported_awaited_as_blocking() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    let pool = Arc::new(pool_of(&manager, worker_program!(), 2).await?);
    let prefix = "async-killed-mid-task";
    let pids = client.queue::<u32>(&format!("{prefix}/pids"), None).await?;
    let kill = |pid: u32| -> anyhow::Result<()> {
        let status = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill {pid}: {status}");
        Ok(())
    };

    // Awaited.
    let parked = pool.apply_async::<_, ()>("park_until_killed", prefix)?;
    let first = pids.get_timeout(DEADLINE).await?;
    assert!(pool.pids().contains(&first));
    kill(first)?;
    let awaited = timeout(DEADLINE, parked).await?.unwrap_err();
    assert!(
        matches!(&awaited, PoolError::WorkerDied { pid, task, index: 0, .. }
            if *pid == first && task == "park_until_killed"),
        "{awaited:?}"
    );

    // Blocking, from a plain thread of the same program.
    let parked = pool.apply_async::<_, ()>("park_until_killed", prefix)?;
    let second = pids.get_timeout(DEADLINE).await?;
    kill(second)?;
    let blocked = blocking(&pool, move |_| parked.get()).await?.unwrap_err();
    assert!(
        matches!(&blocked, PoolError::WorkerDied { pid, task, index: 0, .. }
            if *pid == second && task == "park_until_killed"),
        "{blocked:?}"
    );
    assert_eq!(
        awaited.to_string().replace(&first.to_string(), "PID"),
        blocked.to_string().replace(&second.to_string(), "PID"),
    );

    // Replacements serve on.
    let squares: Vec<u64> = timeout(DEADLINE, pool.map_async("square", 0..20_u64)?).await??;
    assert_eq!(squares, (0..20_u64).map(|x| x * x).collect::<Vec<_>>());
    let now = pool.pids();
    assert_eq!(now.len(), 2, "replacements were started: {now:?}");
    assert!(!now.contains(&first) && !now.contains(&second), "{now:?}");
    assert!(process_is_dead(first) && process_is_dead(second));
    let pool = Arc::into_inner(pool).expect("the blocking calls have ended");
    timeout(DEADLINE, pool.close_async()).await??;
    Ok(())
}
