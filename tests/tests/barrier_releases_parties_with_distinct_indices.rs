//! A barrier of 3 worker processes releases them together, round after
//! round, each round with the arrival indices 0, 1 and 2 once each.

use std::collections::BTreeMap;

use tests::queues::{BarrierWait, Expect};
use tests::{DEADLINE, connect, start_manager, worker_program};

const PARTIES: u32 = 3;
const ROUNDS: u32 = 3;

#[test]
fn each_round_hands_out_every_index_once() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let barrier = client.barrier("meet", PARTIES as usize)?;
    let results = client.queue::<(u32, u64)>("indices", None)?;
    let launcher = manager.launcher();

    let mut workers = (0..PARTIES)
        .map(|index| {
            let args = BarrierWait {
                barrier: "meet".into(),
                parties: PARTIES as usize,
                results: "indices".into(),
                index,
                expect: Expect::Released { rounds: ROUNDS },
            };
            launcher.spawn_program(worker_program!(), "barrier_wait", &args)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }

    // Per worker, its indices in round order; per round, the indices must
    // be 0..3. A worker cannot start round r+1 before round r is released,
    // so its r-th report belongs to round r.
    let mut per_worker = BTreeMap::<u32, Vec<u64>>::new();
    for _ in 0..PARTIES * ROUNDS {
        let (worker, index) = results.get_nowait()?;
        per_worker.entry(worker).or_default().push(index);
    }
    assert!(results.is_empty()?);
    for round in 0..ROUNDS as usize {
        let mut indices: Vec<u64> = per_worker.values().map(|v| v[round]).collect();
        indices.sort_unstable();
        assert_eq!(indices, vec![0, 1, 2], "round {round}: {per_worker:?}");
    }
    assert_eq!(barrier.parties()?, PARTIES as usize);
    assert_eq!(barrier.n_waiting()?, 0);
    assert!(!barrier.broken()?);
    Ok(())
}
