//! From async code: `close_async` lets queued work finish without blocking
//! the runtime's thread; `close_async`, `terminate_async` and dropping the
//! pool inside a task leave no worker process and no queue behind; and the
//! pool's blocking calls are refused there, naming their async twins.

use manager::pool::{Pool, PoolError};
use tests::pools::{gate, pool_of};
use tests::{DEADLINE, process_is_dead, start_manager, worker_program};
use tokio::time::timeout;

/// The pool objects still in the manager.
async fn pool_objects(client: &manager::Client) -> anyhow::Result<Vec<String>> {
    Ok(client
        .objects()
        .await?
        .into_iter()
        .map(|o| o.name.to_string())
        .filter(|name| name.starts_with("__pool"))
        .collect())
}

#[derive(Debug, Clone, Copy)]
enum End {
    Drop,
    Terminate,
    Close,
}

#[tokio::test]
async fn close_terminate_and_drop_in_async_code_leave_no_worker() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    for end in [End::Drop, End::Terminate, End::Close] {
        let pool = pool_of(&manager, worker_program!(), 3).await?;
        let squares: Vec<u64> = timeout(DEADLINE, pool.map_async("square", 0..20_u64)?).await??;
        assert_eq!(squares.len(), 20);
        // A task still running when the pool goes (close would wait for it).
        let parked = match end {
            End::Close => None,
            End::Drop | End::Terminate => {
                Some(pool.apply_async::<_, ()>("park_until_killed", "async-dropped-pool")?)
            }
        };
        let pids = pool.pids();
        assert_eq!(pids.len(), 3);
        match end {
            End::Drop => drop(pool),
            End::Terminate => timeout(DEADLINE, pool.terminate_async()).await??,
            End::Close => timeout(DEADLINE, pool.close_async()).await??,
        }
        if let Some(parked) = parked {
            let error = timeout(DEADLINE, parked).await?.unwrap_err();
            assert!(matches!(error, PoolError::Terminated), "{end:?}: {error:?}");
        }
        for pid in pids {
            assert!(
                process_is_dead(pid),
                "{end:?}: worker {pid} is still running"
            );
        }
        let left = pool_objects(&client).await?;
        assert!(left.is_empty(), "{end:?}: {left:?}");
    }
    Ok(())
}

#[tokio::test]
async fn close_async_finishes_queued_work_while_the_runtime_runs() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    let pool = pool_of(&manager, worker_program!(), 1).await?;
    let prefix = "async-close-drains";
    let (started, gate) = gate(&client, prefix).await?;
    let gated = pool.apply_async::<_, u64>("square_after_gate", &(prefix.to_owned(), 100_u64))?;
    let worker = started.get_timeout(DEADLINE).await?;
    // Queued behind the gated task, on the one worker.
    let queued = pool.map_async::<u64, u64>("square", 0..10_u64)?;

    // This test's runtime has one thread: were the close to block it, the
    // gate below could never be set, and the close would time out.
    let closing = tokio::spawn(pool.close_async());
    tokio::task::yield_now().await;
    gate.set().await?;
    timeout(DEADLINE, closing).await???;

    assert_eq!(timeout(DEADLINE, gated).await??, 10_000);
    assert_eq!(
        timeout(DEADLINE, queued).await??,
        (0..10_u64).map(|x| x * x).collect::<Vec<_>>()
    );
    assert!(process_is_dead(worker));
    let left = pool_objects(&client).await?;
    assert!(left.is_empty(), "{left:?}");
    Ok(())
}

#[tokio::test]
async fn blocking_calls_are_refused_inside_the_runtime() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let refused = Pool::builder(&manager)
        .workers(1)
        .program(worker_program!())
        .build()
        .unwrap_err();
    assert!(
        matches!(
            refused,
            PoolError::InsideRuntime {
                call: "PoolBuilder::build",
                instead: "PoolBuilder::build_async"
            }
        ),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("build_async"), "{refused}");

    let pool = pool_of(&manager, worker_program!(), 1).await?;
    let refused = pool.map::<u64, u64>("square", 0..3_u64).unwrap_err();
    assert!(
        matches!(
            refused,
            PoolError::InsideRuntime {
                call: "Pool::map",
                instead: "Pool::map_async"
            }
        ),
        "{refused:?}"
    );
    let refused = pool.apply::<u64, u64>("square", &3).unwrap_err();
    assert!(
        matches!(
            refused,
            PoolError::InsideRuntime {
                call: "Pool::apply",
                ..
            }
        ),
        "{refused:?}"
    );
    // An iterator refuses once, then ends.
    let mut imap = pool.imap::<u64, u64>("square", 0..3_u64)?;
    assert!(matches!(
        imap.next(),
        Some(Err(PoolError::InsideRuntime { .. }))
    ));
    assert!(imap.next().is_none());
    // The handle of a refused wait still gives its result when awaited.
    let handle = pool.apply_async::<u64, u64>("square", &5)?;
    assert!(matches!(
        handle.get_timeout(DEADLINE),
        Err(PoolError::InsideRuntime { .. })
    ));
    assert_eq!(timeout(DEADLINE, handle).await??, 25);
    timeout(DEADLINE, pool.close_async()).await??;
    Ok(())
}
