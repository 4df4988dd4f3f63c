//! An entry registered with `Entries::entry_async` runs on a tokio runtime
//! the launcher builds in the worker (a plain `main` dispatches it), and
//! ends as a blocking entry does: its error and its panic reach the
//! parent with their messages.

use manager::WorkerError;
use tests::{Add, DEADLINE, SHARED, connect, start_manager, worker_program};

#[test]
fn async_entries_run_and_report_how_they_end() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let launcher = manager.launcher();
    let add = |times| Add {
        attribute: "async".into(),
        times,
    };
    let mut workers = vec![
        launcher.spawn_program(worker_program!(), "async_add", &add(20))?,
        launcher.spawn_program(worker_program!(), "async_add", &add(30))?,
    ];
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }
    let ns = connect(&manager)?.namespace(SHARED)?;
    assert_eq!(ns.get::<i64>("async")?, 50);

    let mut failing = launcher.spawn_program(worker_program!(), "async_fail", "no luck")?;
    let err = failing.join_timeout(DEADLINE).unwrap_err();
    assert!(
        matches!(&err, WorkerError::EntryFailed { message, .. } if message == "no luck"),
        "{err}"
    );

    let mut panicking = launcher.spawn_program(worker_program!(), "async_panic", "boom")?;
    let err = panicking.join_timeout(DEADLINE).unwrap_err();
    assert!(
        matches!(&err, WorkerError::Panicked { message: Some(m), .. } if m == "boom"),
        "{err}"
    );

    // Typed arguments, checked before the runtime is built.
    let mut refused = launcher.spawn_program(worker_program!(), "async_add", &7_u64)?;
    let err = refused.join_timeout(DEADLINE).unwrap_err();
    assert!(matches!(err, WorkerError::WrongArgs { .. }), "{err}");
    Ok(())
}
