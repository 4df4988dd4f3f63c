//! `close` is Python's `close()` and `join()`: it takes no new work, lets
//! every task already submitted finish (queued ones included) and delivers
//! their results, replaces a worker that dies meanwhile, and leaves no
//! worker process and no queue behind. A close that outlasts its timeout
//! kills the workers and fails what is unfinished, saying so.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use manager::blocking;
use manager::pool::{Pool, PoolError};
use tests::{DEADLINE, connect, process_is_dead, start_manager, worker_program};

/// The pool objects still in the manager.
fn pool_objects(client: &blocking::Client) -> anyhow::Result<Vec<String>> {
    Ok(client
        .objects()?
        .into_iter()
        .map(|o| o.name.to_string())
        .filter(|name| name.starts_with("__pool"))
        .collect())
}

/// Closes `pool` on a thread of its own; returns once the thread is about to
/// call `close`, with a receiver for what `close` returns.
fn close_in_background(pool: Pool) -> anyhow::Result<mpsc::Receiver<Result<(), PoolError>>> {
    let (closing_tx, closing) = mpsc::channel();
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = closing_tx.send(());
        let _ = done_tx.send(pool.close());
    });
    closing.recv_timeout(DEADLINE)?;
    Ok(done)
}

#[test]
fn close_finishes_queued_work_and_delivers_every_result() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let pool = Pool::builder(&manager)
        .workers(2)
        .close_timeout(DEADLINE)
        .program(worker_program!())
        .build()?;
    let pids = pool.pids();
    let prefix = "close-finishes";
    let started = client.queue::<u32>(&format!("{prefix}/started"), None)?;
    let gate = client.event(&format!("{prefix}/gate"))?;

    // Both workers wait behind the gate...
    let gated = [100_u64, 101]
        .iter()
        .map(|&x| pool.apply_async::<_, u64>("square_after_gate", &(prefix, x)))
        .collect::<Result<Vec<_>, _>>()?;
    for _ in 0..2 {
        let pid = started.get_timeout(DEADLINE)?;
        assert!(pids.contains(&pid), "{pid} is not one of {pids:?}");
    }
    // ...so all of this is still queued when the close begins.
    let queued = (0..20_u64)
        .map(|x| pool.apply_async::<_, u64>("square", &x))
        .collect::<Result<Vec<_>, _>>()?;
    let streamed = pool.imap::<u64, u64>("square", 0..10_u64)?;
    let unordered = pool.imap_unordered::<u64, u64>("square", 0..10_u64)?;

    let closed = close_in_background(pool)?;
    gate.set()?;
    closed.recv_timeout(DEADLINE)??;

    for (x, handle) in [100_u64, 101].into_iter().zip(&gated) {
        assert_eq!(handle.get_timeout(DEADLINE)?, x * x);
    }
    for (x, handle) in (0..20_u64).zip(&queued) {
        assert_eq!(handle.get_timeout(DEADLINE)?, x * x);
    }
    let streamed = streamed.collect::<Result<Vec<_>, _>>()?;
    assert_eq!(streamed, (0..10_u64).map(|x| x * x).collect::<Vec<_>>());
    let mut unordered = unordered.collect::<Result<Vec<_>, _>>()?;
    unordered.sort_unstable();
    assert_eq!(unordered, streamed);

    for pid in pids {
        assert!(process_is_dead(pid), "worker {pid} is still running");
    }
    let left = pool_objects(&client)?;
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}

#[test]
fn a_worker_that_dies_during_close_is_replaced_for_the_queued_work() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let pool = Pool::builder(&manager)
        .workers(1)
        .close_timeout(DEADLINE)
        .program(worker_program!())
        .build()?;
    let prefix = "dies-during-close";
    let pids = client.queue::<u32>(&format!("{prefix}/pids"), None)?;
    let parked = pool.apply_async::<_, ()>("park_until_killed", prefix)?;
    let killed = pids.get_timeout(DEADLINE)?;
    assert_eq!(pool.pids(), [killed]);
    let queued = (0..5)
        .map(|_| pool.apply_async::<_, u32>("pid", &()))
        .collect::<Result<Vec<_>, _>>()?;

    let closed = close_in_background(pool)?;
    let status = std::process::Command::new("kill")
        .args(["-KILL", &killed.to_string()])
        .status()?;
    assert!(status.success());
    closed.recv_timeout(DEADLINE)??;

    let error = parked.get_timeout(DEADLINE).unwrap_err();
    assert!(
        matches!(error, PoolError::WorkerDied { pid, .. } if pid == killed),
        "{error:?}"
    );
    let ran_on = queued
        .iter()
        .map(|handle| handle.get_timeout(DEADLINE))
        .collect::<Result<Vec<_>, _>>()?;
    let replacement = ran_on[0];
    assert_ne!(replacement, killed);
    assert!(ran_on.iter().all(|&pid| pid == replacement), "{ran_on:?}");
    assert!(process_is_dead(killed));
    assert!(
        process_is_dead(replacement),
        "the replacement {replacement} outlived the close"
    );
    let left = pool_objects(&client)?;
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}

#[test]
fn close_timeout_kills_the_workers_and_fails_unfinished_work() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let timeout = Duration::from_millis(300);
    let pool = Pool::builder(&manager)
        .workers(1)
        .close_timeout(timeout)
        .program(worker_program!())
        .build()?;
    let prefix = "close-times-out";
    let pids = client.queue::<u32>(&format!("{prefix}/pids"), None)?;
    let done = pool.apply_async::<_, u64>("square", &3_u64)?;
    assert_eq!(done.get_timeout(DEADLINE)?, 9);
    let parked = pool.apply_async::<_, ()>("park_until_killed", prefix)?;
    let pid = pids.get_timeout(DEADLINE)?;
    let queued = pool.apply_async::<_, u64>("square", &4_u64)?;

    let started = Instant::now();
    let closed = close_in_background(pool)?;
    let error = closed.recv_timeout(DEADLINE)?.unwrap_err();
    assert!(started.elapsed() >= timeout, "{:?}", started.elapsed());
    assert!(
        matches!(error, PoolError::CloseTimeout(after) if after == timeout),
        "{error:?}"
    );
    assert!(error.to_string().contains("killed its workers"), "{error}");

    for error in [
        parked.get_timeout(DEADLINE).unwrap_err(),
        queued.get_timeout(DEADLINE).unwrap_err(),
    ] {
        assert!(matches!(error, PoolError::CloseTimeout(_)), "{error:?}");
    }
    assert!(process_is_dead(pid), "worker {pid} is still running");
    let left = pool_objects(&client)?;
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}
