//! When a worker's entry returns an error or panics, or its entry name is
//! unknown, the parent's `join` error says so with the entry's name and the
//! message, not only an exit code.

use manager::WorkerError;
use tests::{DEADLINE, start_manager, worker_program};

#[test]
fn error_panic_and_unknown_entry_reach_join_with_their_message() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let launcher = manager.launcher();

    let err = launcher
        .spawn_program(worker_program!(), "fail", "no luck")?
        .join_timeout(DEADLINE)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("`fail`") && message.contains("no luck"),
        "{message}"
    );
    assert!(matches!(err, WorkerError::EntryFailed { .. }), "{err:?}");

    let err = launcher
        .spawn_program(worker_program!(), "panic", "boom")?
        .join_timeout(DEADLINE)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("`panic`") && message.contains("panicked") && message.contains("boom"),
        "{message}"
    );
    assert!(matches!(err, WorkerError::Panicked { .. }), "{err:?}");

    let err = launcher
        .spawn_program(worker_program!(), "no-such-entry", &())?
        .join_timeout(DEADLINE)
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("no worker entry named `no-such-entry`"),
        "{message}"
    );
    match err {
        WorkerError::UnknownEntry { known, .. } => assert!(known.iter().any(|k| k == "fail")),
        other => panic!("expected UnknownEntry, got {other:?}"),
    }
    Ok(())
}
