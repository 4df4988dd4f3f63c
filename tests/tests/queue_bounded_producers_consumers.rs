//! A bounded queue (maxsize 4) between 2 producer and 3 consumer
//! processes: every item is consumed exactly once, and the queue never
//! holds more than its bound.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::ensure;
use manager::{Error, ManagerError};
use tests::queues::{Consume, Produce};
use tests::{DEADLINE, connect, start_manager, worker_program};

const PRODUCERS: u64 = 2;
const ITEMS_PER_PRODUCER: u64 = 200;
const CONSUMERS: u32 = 3;
const MAXSIZE: usize = 4;

#[test]
fn every_item_is_consumed_exactly_once() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let jobs = client.queue::<Option<u64>>("jobs", Some(MAXSIZE))?;
    let results = client.queue::<(u32, u64)>("results", None)?;
    let launcher = manager.launcher();

    let mut consumers = (0..CONSUMERS)
        .map(|index| {
            let args = Consume {
                queue: "jobs".into(),
                results: "results".into(),
                index,
            };
            launcher.spawn_program(worker_program!(), "consume", &args)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut producers = (0..PRODUCERS)
        .map(|p| {
            let args = Produce {
                queue: "jobs".into(),
                first: p * 1_000,
                count: ITEMS_PER_PRODUCER,
            };
            launcher.spawn_program(worker_program!(), "produce", &args)
        })
        .collect::<Result<Vec<_>, _>>()?;

    // Meanwhile, the bound holds: the queue never reports more than 4.
    let deadline = Instant::now() + DEADLINE;
    let mut largest = 0;
    while producers
        .iter_mut()
        .any(|p| p.try_status().is_ok_and(|s| s.is_none()))
    {
        ensure!(
            Instant::now() < deadline,
            "producers still running after {DEADLINE:?}"
        );
        largest = largest.max(jobs.len()?);
    }
    assert!(largest <= MAXSIZE, "the queue held {largest} items");
    for producer in &mut producers {
        producer.join_timeout(DEADLINE)?;
    }
    // FIFO: the sentinels come after every item.
    for _ in 0..CONSUMERS {
        jobs.put(&None)?;
    }
    for consumer in &mut consumers {
        consumer.join_timeout(DEADLINE)?;
    }

    let mut seen = BTreeMap::<u64, u32>::new();
    let mut per_consumer = BTreeMap::<u32, usize>::new();
    loop {
        match results.get_nowait() {
            Ok((consumer, item)) => {
                *seen.entry(item).or_default() += 1;
                *per_consumer.entry(consumer).or_default() += 1;
            }
            Err(Error::Manager(ManagerError::Empty { .. })) => break,
            Err(e) => return Err(e.into()),
        }
    }
    let expected: Vec<u64> = (0..PRODUCERS)
        .flat_map(|p| p * 1_000..p * 1_000 + ITEMS_PER_PRODUCER)
        .collect();
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        expected,
        "every item, none other"
    );
    let twice: Vec<_> = seen.iter().filter(|&(_, &n)| n != 1).collect();
    assert!(twice.is_empty(), "consumed more than once: {twice:?}");
    assert_eq!(
        per_consumer.values().sum::<usize>(),
        (PRODUCERS * ITEMS_PER_PRODUCER) as usize
    );
    assert!(jobs.is_empty()?);
    Ok(())
}
