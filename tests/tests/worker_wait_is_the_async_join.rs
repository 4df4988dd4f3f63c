//! `Worker::wait().await` says how a worker ended exactly as `join` does,
//! without blocking the runtime's thread; `wait_timeout` gives up with
//! `Timeout` and leaves the worker running; a wait dropped half-way (a lost
//! `select!` branch) leaves the handle as it was.

use std::time::Duration;

use manager::WorkerError;
use tests::{Add, DEADLINE, SHARED, start_manager, worker_program};

#[tokio::test]
async fn wait_reports_how_workers_end() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let launcher = manager.launcher();

    let mut adding = launcher.spawn_program(
        worker_program!(),
        "add",
        &Add {
            attribute: "waited".into(),
            times: 10,
        },
    )?;
    adding.wait_timeout(DEADLINE).await?;
    // Waiting again gives the same answer.
    adding.wait().await?;
    let ns = manager.connect_async().await?.namespace(SHARED).await?;
    assert_eq!(ns.get::<i64>("waited").await?, 10);

    let mut failing = launcher.spawn_program(worker_program!(), "fail", "no luck")?;
    let err = failing.wait_timeout(DEADLINE).await.unwrap_err();
    assert!(
        matches!(&err, WorkerError::EntryFailed { message, .. } if message == "no luck"),
        "{err}"
    );

    let mut panicking = launcher.spawn_program(worker_program!(), "panic", "boom")?;
    let err = panicking.wait_timeout(DEADLINE).await.unwrap_err();
    assert!(
        matches!(&err, WorkerError::Panicked { message: Some(m), .. } if m == "boom"),
        "{err}"
    );
    Ok(())
}

#[tokio::test]
async fn wait_timeout_leaves_the_worker_running_and_a_dropped_wait_changes_nothing()
-> anyhow::Result<()> {
    let manager = start_manager()?;
    let mut parked = manager
        .launcher()
        .spawn_program(worker_program!(), "park", &())?;

    let err = parked
        .wait_timeout(Duration::from_millis(50))
        .await
        .unwrap_err();
    assert!(matches!(err, WorkerError::Timeout { .. }), "{err}");
    assert!(parked.try_status()?.is_none(), "still running");

    // A wait that loses a select! is dropped mid-way.
    tokio::select! {
        ended = parked.wait() => panic!("the parked worker ended: {ended:?}"),
        () = tokio::task::yield_now() => {}
    }
    assert!(parked.try_status()?.is_none(), "still running");

    // Killed while a wait is under way: the wait wakes and says so.
    let pid = parked.pid();
    let killer = std::thread::spawn(move || {
        // SIGKILL, by pid: the handle is borrowed by the wait.
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
    });
    let err = parked.wait_timeout(DEADLINE).await.unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );
    assert!(killer.join().expect("kill ran")?.success());
    Ok(())
}
