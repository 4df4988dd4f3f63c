//! A pool input or result that is a number of another width which does
//! not fit is a type mismatch like any other: the input fails its item with
//! `PoolError::WrongArgs` before the task runs, the result with
//! `PoolError::WrongResult`, never a task failure or a codec error.

use manager::pool::{Pool, PoolError};
use tests::{start_manager, worker_program};

#[test]
fn negative_input_for_a_u64_task_is_wrong_args() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let pool = Pool::builder(&manager)
        .workers(1)
        .program(worker_program!())
        .build()?;
    let err = pool.apply::<i64, u64>("square", &-1_i64).unwrap_err();
    eprintln!("input: {err} / {err:?}");
    let err2 = pool.apply::<u64, u8>("square", &100_u64).unwrap_err();
    eprintln!("result: {err2} / {err2:?}");
    pool.terminate()?;
    assert!(matches!(err, PoolError::WrongArgs { .. }), "{err:?}");
    assert!(matches!(err2, PoolError::WrongResult { .. }), "{err2:?}");
    Ok(())
}
