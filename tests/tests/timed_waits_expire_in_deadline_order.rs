//! Timed waits end in the order of their deadlines, whatever order they
//! arrived in, across the kinds of request an object parks (a condition's
//! waits and acquires share one clock); ending them leaves the others
//! parked in arrival order, and thousands ending together leave the object
//! serving.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use manager::inspect::KindDetail;
use manager::{Error, ManagerError};
use tests::{DEADLINE, start_manager, until_detail, until_parked};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn condition_waits_take_the_lock_back_in_deadline_order() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    let observer = manager.connect_async().await?.with_timeout(DEADLINE);
    let condition = client.condition("c").await?;
    // Arrival order 0, 1, 2, 3 (each waits for the lock, which the wait
    // gives up); deadline order 1, 3, 0, 2, far enough apart that the few
    // milliseconds between arrivals do not matter.
    let waits = [ms(900), ms(300), ms(1200), ms(600)];
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for (i, wait) in waits.into_iter().enumerate() {
        let (condition, order) = (condition.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            condition.acquire().await?;
            let notified = condition.wait_timeout(wait).await?;
            // The lock is held again: the next wait in line gets it only
            // after this release.
            order.lock().unwrap().push(i);
            condition.release().await?;
            anyhow::Ok(notified)
        }));
        until_parked(&observer, "c", i as u64 + 1).await?;
    }
    // Held while the waits end, so they queue for it as they end.
    condition.acquire().await?;
    until_detail(&observer, "c", "every wait ended", |d| {
        matches!(d.size, KindDetail::Condition { sleepers: 0, .. })
    })
    .await?;
    condition.release().await?;
    for task in tasks {
        ensure!(!task.await??, "a wait nobody notified returned true");
    }
    assert_eq!(*order.lock().unwrap(), [1, 3, 0, 2]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queue_gets_end_by_deadline_and_the_rest_are_served_in_arrival_order() -> anyhow::Result<()>
{
    let manager = start_manager()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    let observer = manager.connect_async().await?.with_timeout(DEADLINE);
    let queue = client.queue::<u64>("q", None).await?;

    // Parked in this order: a long timed get, a get without a deadline,
    // and three short timed gets whose deadlines come in another order.
    let timeouts = [
        Some(Duration::from_secs(600)),
        None,
        Some(ms(900)),
        Some(ms(300)),
        Some(ms(600)),
    ];
    let mut tasks = Vec::new();
    for (i, timeout) in timeouts.into_iter().enumerate() {
        let queue = queue.clone();
        tasks.push(tokio::spawn(async move {
            let outcome = match timeout {
                Some(timeout) => queue.get_timeout(timeout).await,
                None => queue.get().await,
            };
            (Instant::now(), outcome)
        }));
        until_parked(&observer, "q", i as u64 + 1).await?;
    }
    let mut tasks = tasks.into_iter();
    let (long, forever) = (tasks.next().unwrap(), tasks.next().unwrap());
    let mut ended = Vec::new();
    for (i, task) in tasks.enumerate() {
        let (at, outcome) = task.await?;
        match outcome {
            Err(Error::Manager(ManagerError::Empty { .. })) => ended.push((at, i)),
            other => bail!("a short timed get ended with {other:?}, not Empty"),
        }
    }
    ended.sort();
    let order: Vec<_> = ended.into_iter().map(|(_, i)| i).collect();
    assert_eq!(order, [1, 2, 0], "ended by deadline: 300, 600, 900 ms");

    // The two left are served in the order they came.
    until_parked(&observer, "q", 2).await?;
    queue.put(&1).await?;
    queue.put(&2).await?;
    assert_eq!(long.await?.1?, 1);
    assert_eq!(forever.await?.1?, 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_timed_gets_end_while_the_queue_keeps_serving() -> anyhow::Result<()> {
    const GETS: u64 = 5_000;
    let manager = start_manager()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    let other = manager.connect_async().await?.with_timeout(DEADLINE);
    let queue = client.queue::<u64>("q", None).await?;
    let from_other = other.queue::<u64>("q", None).await?;

    let started = Instant::now();
    let wait = ms(1000);
    let tasks: Vec<_> = (0..GETS)
        .map(|_| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.get_timeout(wait).await })
        })
        .collect();
    // Another connection's requests are answered while they are parked and
    // while they end.
    let mut answered = 0;
    while tasks.iter().any(|t| !t.is_finished()) {
        ensure!(started.elapsed() < DEADLINE, "the gets did not end");
        assert_eq!(from_other.len().await?, 0);
        answered += 1;
    }
    ensure!(answered > 0);
    for task in tasks {
        match task.await? {
            Err(Error::Manager(ManagerError::Empty { .. })) => {}
            other => bail!("a timed get ended with {other:?}, not Empty"),
        }
    }
    until_parked(&other, "q", 0).await?;
    // Nothing of them is left behind: a put stays in the queue.
    from_other.put(&7).await?;
    assert_eq!(queue.get_nowait().await?, 7);
    Ok(())
}
