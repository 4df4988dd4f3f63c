//! A pool task's inputs, its initializer's arguments and its results carry
//! their type: a mismatch fails with an error naming the task and both
//! types, never a wrong value.

use manager::pool::{Pool, PoolError};
use tests::{DEADLINE, start_manager, worker_program};

fn assert_names(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "{part} missing from: {message}");
    }
    assert!(!message.contains("alloc::"), "{message}");
}

#[test]
fn inputs_of_another_type_fail_that_item() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let pool = Pool::builder(&manager)
        .workers(1)
        .program(worker_program!())
        .build()?;
    // -1 as an i64 used to arrive as 1 (and square to 1).
    let err = pool.map::<i64, u64>("square", [-1_i64, 2]).unwrap_err();
    assert_names(&err.to_string(), &["`square`", "u64", "i64"]);

    let err = pool
        .apply::<String, u64>("square", &"seven".to_owned())
        .unwrap_err();
    assert_names(&err.to_string(), &["`square`", "`u64`", "`String`"]);
    assert!(
        matches!(err, PoolError::WrongArgs { index: 0, .. }),
        "{err:?}"
    );

    // A result read as another type.
    let err = pool.apply::<u64, String>("square", &3_u64).unwrap_err();
    assert_names(&err.to_string(), &["`square`", "`u64`", "`String`"]);
    assert!(
        matches!(err, PoolError::WrongResult { index: 0, .. }),
        "{err:?}"
    );

    // The right types still work, on the same worker.
    assert_eq!(pool.map::<u64, u64>("square", [2_u64, 3])?, [4, 9]);
    pool.close()?;
    Ok(())
}

#[test]
fn initializer_arguments_of_another_type_fail_the_pool() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let pool = Pool::builder(&manager)
        .workers(1)
        .program(worker_program!())
        .initializer("remember", "not a number")
        .build()?;
    let result = pool.apply_async::<(), u64>("remembered", &())?;
    let err = result.get_timeout(DEADLINE).unwrap_err();
    assert_names(&err.to_string(), &["`remember`", "`u64`", "`String`"]);
    pool.terminate()?;
    Ok(())
}
