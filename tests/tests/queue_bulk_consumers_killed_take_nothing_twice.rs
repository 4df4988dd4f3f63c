//! Producers `put_many` into a bounded queue (their puts park) while
//! consumer workers take batches with `get_many` (blocking waits, timed
//! waits, and async takes whose futures are dropped after a moment) and
//! record every batch; consumers are SIGKILLed at random points and
//! replaced. Afterwards no number may have been recorded twice or be both
//! recorded and still queued, and no number may be queued twice.
//!
//! An item handed to a consumer that then dies may be lost by design
//! (docs/semantics.md, *Hand-offs to a worker that has just died*: plain
//! gets); the test counts those and allows at most a batch per kill.

use std::collections::BTreeMap;
use std::time::Duration;

use manager::Manager;
use tests::queues::{BulkConsume, BulkProduce};
use tests::{DEADLINE, connect, wait_until, worker_program};

const PRODUCERS: u64 = 3;
const PER_PRODUCER: u64 = 3_000;
const CONSUMERS: usize = 3;
const BATCH: usize = 16;
const KILLS: usize = 40;

fn consumer(manager: &Manager, abandon: bool) -> anyhow::Result<manager::launcher::Worker> {
    Ok(manager.launcher().spawn_program(
        worker_program!(),
        "bulk_consume",
        &BulkConsume {
            queue: "work".into(),
            results: "results".into(),
            batch: BATCH,
            abandon,
        },
    )?)
}

#[test]
fn killed_bulk_consumers_take_nothing_twice() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let client = connect(&manager)?;
    let work = client.queue::<Option<u64>>("work", Some(32))?;
    let results = client.queue::<u64>("results", None)?;

    let launcher = manager.launcher();
    let mut producers = (0..PRODUCERS)
        .map(|p| {
            launcher.spawn_program(
                worker_program!(),
                "bulk_produce",
                &BulkProduce {
                    queue: "work".into(),
                    first: p * 1_000_000,
                    count: PER_PRODUCER,
                    batch: 50,
                },
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut consumers = (0..CONSUMERS)
        .map(|i| consumer(&manager, i % 2 == 1))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let total = (PRODUCERS * PER_PRODUCER) as usize;
    let mut seed = 0x2545_F491_4F6C_DD1D_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for kill in 0..KILLS {
        // Progress between kills: the recorded count grows a little.
        let target = (kill + 1) * total / (KILLS + 8);
        wait_until(&format!("{target} items recorded"), || {
            Ok(results.len()? >= target)
        })?;
        let victim = (next() % CONSUMERS as u64) as usize;
        // A few microseconds more, so kills land anywhere in a loop.
        let spin = next() % 2_000;
        let start = std::time::Instant::now();
        while start.elapsed() < Duration::from_micros(spin) {
            std::hint::spin_loop();
        }
        consumers[victim].kill()?;
        consumers[victim] = consumer(&manager, next() % 2 == 0)?;
    }
    for producer in &mut producers {
        producer.join_timeout(DEADLINE)?;
    }
    work.put_many(&[None; CONSUMERS])?;
    for consumer in &mut consumers {
        consumer.join_timeout(DEADLINE)?;
    }

    let mut recorded: BTreeMap<u64, usize> = BTreeMap::new();
    loop {
        let batch = results.get_many_timeout(4096, Duration::ZERO)?;
        if batch.is_empty() {
            break;
        }
        for n in batch {
            *recorded.entry(n).or_default() += 1;
        }
    }
    let mut queued: BTreeMap<u64, usize> = BTreeMap::new();
    loop {
        let batch = work.get_many_timeout(4096, Duration::ZERO)?;
        if batch.is_empty() {
            break;
        }
        for n in batch.into_iter().flatten() {
            *queued.entry(n).or_default() += 1;
        }
    }
    let twice: Vec<_> = recorded.iter().filter(|(_, c)| **c > 1).collect();
    let queued_twice: Vec<_> = queued.iter().filter(|(_, c)| **c > 1).collect();
    let both: Vec<_> = queued.keys().filter(|n| recorded.contains_key(n)).collect();
    let mut lost = Vec::new();
    for p in 0..PRODUCERS {
        for n in p * 1_000_000..p * 1_000_000 + PER_PRODUCER {
            if !recorded.contains_key(&n) && !queued.contains_key(&n) {
                lost.push(n);
            }
        }
    }
    eprintln!(
        "recorded {}, still queued {}, lost {} (by design: handed to a killed consumer)",
        recorded.len(),
        queued.len(),
        lost.len()
    );
    assert!(twice.is_empty(), "recorded twice: {twice:?}");
    assert!(queued_twice.is_empty(), "queued twice: {queued_twice:?}");
    assert!(both.is_empty(), "recorded and still queued: {both:?}");
    assert!(
        lost.len() <= KILLS * BATCH,
        "lost {} items, more than a batch per kill: {:?}",
        lost.len(),
        &lost[..lost.len().min(50)]
    );
    Ok(())
}
