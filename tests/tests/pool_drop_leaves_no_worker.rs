//! Dropping, terminating or closing a pool leaves no worker process and no
//! queue behind.

use manager::pool::{Pool, PoolError};
use tests::{DEADLINE, connect, process_is_dead, start_manager, worker_program};

#[derive(Debug, Clone, Copy)]
enum End {
    Drop,
    Terminate,
    Close,
}

#[test]
fn drop_terminate_and_close_leave_no_worker() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    for end in [End::Drop, End::Terminate, End::Close] {
        let pool = Pool::builder(&manager)
            .workers(3)
            .program(worker_program!())
            .build()?;
        let squares: Vec<u64> = pool.map("square", 0..20_u64)?;
        assert_eq!(squares.len(), 20);
        // A task still running when the pool goes (close would wait for it).
        let parked = match end {
            End::Close => None,
            End::Drop | End::Terminate => {
                Some(pool.apply_async::<_, ()>("park_until_killed", "dropped-pool")?)
            }
        };
        let pids = pool.pids();
        assert_eq!(pids.len(), 3);
        assert!(pids.iter().all(|&pid| !process_is_dead(pid)));
        match end {
            End::Drop => drop(pool),
            End::Terminate => pool.terminate()?,
            End::Close => pool.close()?,
        }
        if let Some(parked) = parked {
            let error = parked.get_timeout(DEADLINE).unwrap_err();
            assert!(matches!(error, PoolError::Terminated), "{end:?}: {error:?}");
        }
        for pid in pids {
            assert!(
                process_is_dead(pid),
                "{end:?}: worker {pid} is still running"
            );
        }
        let left: Vec<_> = client
            .objects()?
            .into_iter()
            .map(|o| o.name.to_string())
            .filter(|name| name.starts_with("__pool"))
            .collect();
        assert!(left.is_empty(), "{end:?}: {left:?}");
    }
    Ok(())
}
