//! A worker process SIGKILLed while waiting at a barrier breaks it: the
//! other waiting process learns at once that a party is gone, instead of
//! waiting for it forever.

use manager::{Error, ManagerError, WorkerError};
use tests::queues::{BarrierWait, Expect};
use tests::{DEADLINE, connect, start_manager, wait_until, worker_program};

#[test]
fn the_survivor_gets_broken_barrier() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let barrier = client.barrier("meet", 3)?;
    let launcher = manager.launcher();
    let args = |index, expect| BarrierWait {
        barrier: "meet".into(),
        parties: 3,
        results: "indices".into(),
        index,
        expect,
    };

    // The survivor's own wait would last far past DEADLINE: only the
    // break can end it in time.
    let mut survivor =
        launcher.spawn_program(worker_program!(), "barrier_wait", &args(0, Expect::Broken))?;
    let mut doomed = launcher.spawn_program(
        worker_program!(),
        "barrier_wait",
        &args(1, Expect::Released { rounds: 1 }),
    )?;
    wait_until("both workers wait at the barrier", || {
        Ok(barrier.n_waiting()? == 2)
    })?;

    doomed.kill()?;
    let err = doomed.join().unwrap_err();
    assert!(
        matches!(err, WorkerError::Killed { signal: 9, .. }),
        "{err}"
    );
    survivor.join_timeout(DEADLINE)?;
    assert!(barrier.broken()?);
    assert_eq!(barrier.n_waiting()?, 0);
    assert!(matches!(
        barrier.wait(),
        Err(Error::Manager(ManagerError::BrokenBarrier { .. }))
    ));
    Ok(())
}
