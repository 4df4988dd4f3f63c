//! `map`, `imap` and `apply` give results in input order, whatever the
//! chunking, and the initializer runs once in each worker.

use manager::pool::Pool;
use tests::{start_manager, worker_program};

#[test]
fn map_imap_and_apply_keep_input_order() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let pool = Pool::builder(&manager)
        .workers(3)
        .program(worker_program!())
        .build()?;
    let inputs: Vec<u64> = (0..300).collect();
    let expected: Vec<u64> = inputs.iter().map(|x| x * x).collect();

    let squares: Vec<u64> = pool.map("square", inputs.iter().copied())?;
    assert_eq!(squares, expected);

    let streamed = pool
        .imap::<u64, u64>("square", inputs.iter().copied())?
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(streamed, expected);

    assert_eq!(pool.apply::<u64, u64>("square", &12)?, 144);
    let handles = (0..10_u64)
        .map(|x| pool.apply_async::<u64, u64>("square", &x))
        .collect::<Result<Vec<_>, _>>()?;
    for (x, handle) in (0..10_u64).zip(&handles) {
        assert_eq!(handle.get_timeout(tests::DEADLINE)?, x * x);
    }
    pool.close()?;
    Ok(())
}

#[test]
fn chunked_map_keeps_input_order() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let pool = Pool::builder(&manager)
        .workers(2)
        .chunksize(7)
        .program(worker_program!())
        .build()?;
    let squares: Vec<u64> = pool.map("square", 0..100_u64)?;
    assert_eq!(squares, (0..100_u64).map(|x| x * x).collect::<Vec<_>>());
    let empty: Vec<u64> = pool.map("square", Vec::<u64>::new())?;
    assert!(empty.is_empty());
    Ok(())
}

#[test]
fn initializer_runs_once_in_each_worker() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let pool = Pool::builder(&manager)
        .workers(2)
        .initializer("remember", &42_u64)
        .program(worker_program!())
        .build()?;
    // Many calls, so both workers answer; each saw the initializer once.
    let seen: Vec<u64> = pool.map("remembered", vec![(); 20])?;
    assert!(seen.iter().all(|&v| v == 42), "{seen:?}");
    Ok(())
}

/// The pool and its handles can be shared with and sent to other threads.
#[test]
fn pool_handles_are_send_sync() {
    fn is_send_sync<T: Send + Sync>() {}
    fn is_send<T: Send>() {}
    is_send_sync::<Pool>();
    is_send_sync::<manager::pool::PoolError>();
    is_send::<manager::pool::AsyncResult<u64>>();
    is_send::<manager::pool::Imap<u64>>();
    is_send::<manager::pool::ImapUnordered<u64>>();
}
