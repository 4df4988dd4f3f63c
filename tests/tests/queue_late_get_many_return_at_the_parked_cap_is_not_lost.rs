//! A `get_many` whose caller gave up (its future dropped) but that the
//! manager granted anyway is given back by the client with `ReturnMany`
//! (docs/semantics.md, *Bulk queue calls* and *Timeouts and
//! cancellation*: "Nothing is lost"). In a full bounded queue that return
//! waits for room like a put, holding one of its connection's parked
//! places (`max_parked`). A connection with none left does not have its
//! return refused (the client sent it without waiting for an answer, so
//! the items would be lost): it goes in at once, past the bound.
//!
//! Here the cap is 1 and the consumer's connection already has one
//! request parked (a `get` on another queue, as any consumer of two
//! queues may have); the default cap (65,536) is reached the same way by
//! a client with that many parked waits.
//!
//! The same holds for a single `get`'s `Return` (second test).

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::{Pin, pin};
use std::time::Duration;

use manager::Manager;
use tests::{DEADLINE, parked, poll_once, wait_until};

/// Sets up a full queue `jobs` (maxsize 2, holding 1 and 2) with a
/// producer's `put(3)` parked on it, and a consumer connection (async,
/// cap 1) that already has one request parked elsewhere. Then runs
/// `give_up` on the consumer (a take from `jobs` whose caller gives up),
/// and checks that 1, 2 and 3 all come out of `jobs`.
fn run(
    give_up: impl for<'a> FnOnce(
        &'a manager::proxy::Queue<u32>,
    ) -> Pin<Box<dyn Future<Output = anyhow::Result<()>> + 'a>>,
) -> anyhow::Result<()> {
    let manager = Manager::builder().max_parked(1).start()?;
    let observer = manager.connect()?.with_timeout(DEADLINE);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let consumer = rt.block_on(manager.connect_async())?;

    let jobs = observer.queue::<u32>("jobs", Some(2))?;
    jobs.put(&1)?;
    jobs.put(&2)?;

    // A producer waits for room with 3.
    let producer = manager.connect()?.with_timeout(DEADLINE);
    let put = std::thread::spawn(move || -> anyhow::Result<()> {
        producer.queue::<u32>("jobs", Some(2))?.put(&3)?;
        Ok(())
    });
    parked(&observer, "jobs", 1)?;

    // The consumer's one parked slot is taken by a get on another queue.
    let other = rt.block_on(consumer.queue::<u32>("other", None))?;
    let other_get = rt.spawn(async move { other.get().await });
    parked(&observer, "other", 1)?;

    // The consumer takes from `jobs` and gives up before reading the
    // answer: the manager hands it 1 and 2, lets 3 in (the queue is full
    // again, with one item: room for one), and the client returns 1 and 2.
    let consumer_jobs = rt.block_on(consumer.queue::<u32>("jobs", Some(2)))?;
    rt.block_on(give_up(&consumer_jobs))?;
    put.join().expect("producer thread")?;

    // 3 has entered (the producer's put returned). The items the consumer
    // gave up on must now be back in the queue, or parked in a return
    // waiting for room (the only request that can wait on `jobs` now).
    let back = wait_until(
        "the consumer's items are back in `jobs` or waiting to go back",
        || {
            let snapshot = observer.inspect()?;
            Ok(snapshot
                .object("jobs")
                .and_then(|o| o.detail.as_ref())
                .is_some_and(|d| {
                    d.waiters >= 1
                        || matches!(
                            d.size,
                            manager_core::inspect::KindDetail::Queue { len: 3, .. }
                        )
                }))
        },
    );
    if let Err(e) = back {
        let snapshot = observer.inspect()?;
        let detail = snapshot.object("jobs").and_then(|o| o.detail.clone());
        panic!(
            "items lost: {e}; `jobs` now: {detail:?} (3 is in it; the items given back are neither in it nor waiting to go in)"
        );
    }

    // Every item must come out: 3, and the two the consumer returned.
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    while seen.len() < 3 {
        match jobs.get_timeout(Duration::from_secs(10)) {
            Ok(item) => {
                order.push(item);
                seen.insert(item);
            }
            Err(e) => {
                let snapshot = observer.inspect()?;
                let detail = snapshot.object("jobs").and_then(|o| o.detail.clone());
                panic!("items lost: took {order:?} of 1, 2, 3, then {e}; `jobs` now: {detail:?}");
            }
        }
    }
    assert_eq!(seen, BTreeSet::from([1, 2, 3]), "took {order:?}");
    other_get.abort();
    Ok(())
}

#[test]
fn a_get_many_returned_into_a_full_queue_at_the_parked_cap_is_not_lost() -> anyhow::Result<()> {
    run(|jobs| {
        Box::pin(async move {
            let mut take = pin!(jobs.get_many(2));
            if let Some(answer) = poll_once(&mut take).await {
                anyhow::bail!("get_many answered before it was sent: {answer:?}");
            }
            // Given up with the request sent and its answer unread.
            Ok(())
        })
    })
}

#[test]
fn a_get_returned_into_a_full_queue_at_the_parked_cap_is_not_lost() -> anyhow::Result<()> {
    run(|jobs| {
        Box::pin(async move {
            let mut take = pin!(jobs.get());
            if let Some(answer) = poll_once(&mut take).await {
                anyhow::bail!("get answered before it was sent: {answer:?}");
            }
            Ok(())
        })
    })
}
