//! `terminate` stops a pool at once, as dropping it does: running and
//! queued work fail with `PoolError::Terminated`, no worker process and no
//! queue is left.

use std::sync::mpsc;

use manager::pool::{Pool, PoolError};
use tests::{DEADLINE, connect, process_is_dead, start_manager, worker_program};

#[test]
fn terminate_fails_running_and_queued_work() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let pool = Pool::builder(&manager)
        .workers(2)
        .program(worker_program!())
        .build()?;
    let workers = pool.pids();
    let prefix = "terminated";
    let pids = client.queue::<u32>(&format!("{prefix}/pids"), None)?;

    // Both workers run a task that never ends...
    let running = (0..2)
        .map(|_| pool.apply_async::<_, ()>("park_until_killed", prefix))
        .collect::<Result<Vec<_>, _>>()?;
    for _ in 0..2 {
        let pid = pids.get_timeout(DEADLINE)?;
        assert!(workers.contains(&pid), "{pid} is not one of {workers:?}");
    }
    // ...and this waits behind them.
    let queued = (0..5_u64)
        .map(|x| pool.apply_async::<_, u64>("square", &x))
        .collect::<Result<Vec<_>, _>>()?;
    let streamed = pool.imap::<u64, u64>("square", 0..3_u64)?;

    // On a thread, so that a terminate that waited for the work would fail
    // the test instead of hanging it.
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(pool.terminate());
    });
    done.recv_timeout(DEADLINE)??;

    let errors = running
        .iter()
        .map(|handle| handle.get_timeout(DEADLINE).map(|()| 0))
        .chain(queued.iter().map(|handle| handle.get_timeout(DEADLINE)))
        .chain(streamed);
    let mut count = 0;
    for result in errors {
        let error = result.unwrap_err();
        assert!(matches!(error, PoolError::Terminated), "{error:?}");
        assert_eq!(
            error.to_string(),
            "the pool was terminated before the task finished"
        );
        count += 1;
    }
    assert_eq!(count, 2 + 5 + 3);

    for pid in workers {
        assert!(process_is_dead(pid), "worker {pid} is still running");
    }
    let left: Vec<_> = client
        .objects()?
        .into_iter()
        .map(|o| o.name.to_string())
        .filter(|name| name.starts_with("__pool"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}
