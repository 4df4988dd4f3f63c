//! Dropping or closing a pool leaves no worker process and no queue behind.

use manager_ipc::pool::Pool;
use tests::{connect, process_is_dead, start_manager, worker_program};

#[test]
fn drop_and_close_leave_no_worker() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    for close in [false, true] {
        let pool = Pool::builder(&manager)
            .workers(3)
            .program(worker_program!())
            .build()?;
        let squares: Vec<u64> = pool.map("square", 0..20_u64)?;
        assert_eq!(squares.len(), 20);
        // A task still running when the pool goes.
        let _parked = pool.apply_async::<_, ()>("park_until_killed", "dropped-pool")?;
        let pids = pool.pids();
        assert_eq!(pids.len(), 3);
        assert!(pids.iter().all(|&pid| !process_is_dead(pid)));
        if close {
            pool.close()?;
        } else {
            drop(pool);
        }
        for pid in pids {
            assert!(process_is_dead(pid), "worker {pid} is still running");
        }
        let left: Vec<_> = client
            .objects()?
            .into_iter()
            .map(|o| o.name.to_string())
            .filter(|name| name.starts_with("__pool"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }
    Ok(())
}
