//! A task's error or panic reaches the caller with its message, and the
//! worker goes on serving.

use manager::pool::{Pool, PoolError};
use tests::{start_manager, worker_program};

#[test]
fn task_error_and_panic_reach_the_caller() -> anyhow::Result<()> {
    let manager = start_manager()?;
    // One worker: the later tasks run in the very process that failed.
    let pool = Pool::builder(&manager)
        .workers(1)
        .program(worker_program!())
        .build()?;
    let before: u32 = pool.apply("pid", &())?;

    let error = pool
        .apply::<_, ()>("fail_with", "disk on fire")
        .unwrap_err();
    assert!(
        matches!(&error, PoolError::Task { task, index: 0, message }
            if task == "fail_with" && message.contains("disk on fire")),
        "{error:?}"
    );

    let error = pool
        .apply::<_, ()>("panic_with", "out of cheese")
        .unwrap_err();
    assert!(
        matches!(&error, PoolError::Task { message, .. } if message.contains("out of cheese")),
        "{error:?}"
    );
    assert!(error.to_string().contains("panicked"), "{error}");

    // Errors fail only their own items.
    let results: Vec<_> = pool.imap::<u64, u64>("fail_if_odd", 0..10_u64)?.collect();
    for (x, result) in (0..10_u64).zip(&results) {
        match result {
            Ok(v) => assert!(x % 2 == 0 && *v == x),
            Err(PoolError::Task { index, message, .. }) => {
                assert_eq!(*index as u64, x);
                assert!(x % 2 == 1 && message.contains("is odd"), "{message}");
            }
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    // `map` gives the first failing item's error.
    let error = pool.map::<u64, u64>("fail_if_odd", 0..10_u64).unwrap_err();
    assert!(
        matches!(error, PoolError::Task { index: 1, .. }),
        "{error:?}"
    );
    // An unknown task is an error of that call too.
    let error = pool.apply::<_, ()>("no_such_task", &()).unwrap_err();
    assert!(error.to_string().contains("no task named"), "{error}");

    assert_eq!(pool.map::<u64, u64>("square", 0..5_u64)?, [0, 1, 4, 9, 16]);
    let after: u32 = pool.apply("pid", &())?;
    assert_eq!(before, after, "the worker was replaced");
    assert_eq!(pool.pids(), [before]);
    Ok(())
}

#[test]
fn failing_initializer_fails_the_pool_with_its_message() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let pool = Pool::builder(&manager)
        .workers(2)
        .initializer("fail_with", "no config")
        .program(worker_program!())
        .build()?;
    let error = pool.map::<u64, u64>("square", 0..10_u64).unwrap_err();
    assert!(
        matches!(&error, PoolError::Initializer { task, message, .. }
            if task == "fail_with" && message.contains("no config")),
        "{error:?}"
    );
    // The pool takes no more work, and says why.
    let error = pool.apply::<u64, u64>("square", &2).unwrap_err();
    assert!(matches!(error, PoolError::Initializer { .. }), "{error:?}");
    Ok(())
}
