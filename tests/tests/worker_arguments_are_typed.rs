//! A worker's arguments carry their type: arguments of another type than
//! the entry takes are refused before the entry runs, and the parent's
//! `join` says so, naming the entry and both types (never a wrong number).

use manager::WorkerError;
use tests::{DEADLINE, SHARED, connect, start_manager, worker_program};

#[test]
fn arguments_of_another_type_are_refused_before_the_entry_runs() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let ns = connect(&manager)?.namespace(SHARED)?;
    let launcher = manager.launcher();

    // -1 as an i64 used to arrive as 1.
    let mut negative = launcher.spawn_program(worker_program!(), "takes_u64", &-1_i64)?;
    let err = negative.join_timeout(DEADLINE).unwrap_err();
    let message = err.to_string();
    for part in ["`takes_u64`", "u64", "i64"] {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
    assert!(!ns.contains("ran-takes_u64")?, "the entry ran: {message}");

    let mut text = launcher.spawn_program(worker_program!(), "takes_u32", "five")?;
    let err = text.join_timeout(DEADLINE).unwrap_err();
    let message = err.to_string();
    match &err {
        WorkerError::WrongArgs {
            entry,
            expected,
            given,
            ..
        } => assert_eq!(
            (entry.as_str(), expected.as_str(), given.as_str()),
            ("takes_u32", "u32", "String")
        ),
        other => panic!("expected WrongArgs, got {other:?}"),
    }
    assert!(
        message.contains("`takes_u32`")
            && message.contains("`u32`")
            && message.contains("`String`"),
        "{message}"
    );
    assert!(!message.contains("alloc::"), "{message}");
    assert!(!ns.contains("ran-takes_u32")?, "the entry ran: {message}");

    // The right type still runs.
    launcher
        .spawn_program(worker_program!(), "takes_u64", &7_u64)?
        .join_timeout(DEADLINE)?;
    assert_eq!(ns.get::<u64>("ran-takes_u64")?, 7);
    Ok(())
}
