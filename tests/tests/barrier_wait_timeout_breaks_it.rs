//! A barrier wait that times out breaks the barrier: the worker process
//! waiting there learns it at once, later waits fail too, and `reset`
//! makes it usable again.

use std::time::Duration;

use manager::{Error, ManagerError};
use tests::queues::{BarrierWait, Expect};
use tests::{DEADLINE, connect, start_manager, wait_until, worker_program};

#[test]
fn a_timed_out_wait_breaks_the_barrier_for_everyone() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let barrier = client.barrier("meet", 3)?;
    let args = BarrierWait {
        barrier: "meet".into(),
        parties: 3,
        results: "unused".into(),
        index: 0,
        expect: Expect::Broken,
    };
    // Its own wait would last far past DEADLINE: only the break ends it.
    let mut worker = manager
        .launcher()
        .spawn_program(worker_program!(), "barrier_wait", &args)?;
    wait_until("the worker waits at the barrier", || {
        Ok(barrier.n_waiting()? == 1)
    })?;

    let broken = barrier.wait_timeout(Duration::from_millis(50)).unwrap_err();
    assert!(
        matches!(&broken, Error::Manager(ManagerError::BrokenBarrier { .. })),
        "{broken:?}"
    );
    assert_eq!(broken.to_string(), "barrier `meet` is broken");
    worker.join_timeout(DEADLINE)?;
    assert!(barrier.broken()?);
    assert_eq!(barrier.n_waiting()?, 0);
    // Broken until reset, even for a wait that would complete nothing.
    assert!(matches!(
        barrier.wait_timeout(Duration::from_secs(1)),
        Err(Error::Manager(ManagerError::BrokenBarrier { .. }))
    ));

    barrier.reset()?;
    assert!(!barrier.broken()?);
    // Usable again: three parties (here threads) meet.
    let others: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            std::thread::spawn(move || barrier.wait())
        })
        .collect();
    let mut indices = vec![barrier.wait()?];
    for other in others {
        indices.push(other.join().expect("thread panicked")?);
    }
    indices.sort_unstable();
    assert_eq!(indices, vec![0, 1, 2]);
    Ok(())
}
