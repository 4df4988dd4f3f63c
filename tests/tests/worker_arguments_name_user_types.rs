//! A worker's refused arguments name both types as a Rust user writes them
//! (only paths into std, alloc and core are cut), so two user types with
//! one last name are told apart; a number that does not fit is refused as
//! `WrongArgs`, with its value.

use manager::WorkerError;
use tests::{DEADLINE, start_manager, worker_program};

/// Same fields as `tests::Add` (the `add` entry's argument), other module.
mod other {
    #[derive(serde::Serialize)]
    pub(super) struct Add {
        pub(super) attribute: String,
        pub(super) times: u32,
    }
}

#[test]
fn same_named_user_types_are_told_apart() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let args = other::Add {
        attribute: "n".to_owned(),
        times: 1,
    };
    let mut worker = manager
        .launcher()
        .spawn_program(worker_program!(), "add", &args)?;
    let err = worker.join_timeout(DEADLINE).unwrap_err();
    let WorkerError::WrongArgs {
        expected, given, ..
    } = &err
    else {
        panic!("expected WrongArgs, got {err:?}");
    };
    assert_ne!(expected, given, "both types print alike: {err}");
    assert!(expected.contains("tests::Add"), "{err}");
    Ok(())
}

#[test]
fn a_negative_number_for_a_u64_entry_is_wrong_args_as_documented() -> anyhow::Result<()> {
    // launcher.rs module docs: "`-1_i64` given to an entry that takes a
    // `u64`" -> `Worker::join` returns `WorkerError::WrongArgs`.
    let manager = start_manager()?;
    let mut worker = manager
        .launcher()
        .spawn_program(worker_program!(), "takes_u64", &-1_i64)?;
    let err = worker.join_timeout(DEADLINE).unwrap_err();
    eprintln!("{err}");
    assert!(
        err.to_string().contains("u64") && err.to_string().contains("i64"),
        "{err}"
    );
    assert!(matches!(err, WorkerError::WrongArgs { .. }), "{err:?}");
    Ok(())
}
