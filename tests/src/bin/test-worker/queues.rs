//! Worker entries for the tests of queues, joinable queues, events and barriers.

use std::pin::pin;
use std::time::Duration;

use anyhow::{Context, bail, ensure};
use manager::launcher::Entries;
use manager::{Error, ManagerError, blocking};
use tests::queues::{
    Announce, BarrierWait, BulkConsume, BulkProduce, Consume, Expect, GetWhenParked, Holding,
    Produce, ReceiveAndHold, WaitForEvent, WorkJoinable,
};
use tests::{DEADLINE, SHARED, poll_once};

/// A call timeout far past any test's deadline: for waits whose ending
/// early is what a test checks, so that their own timeout cannot pass for
/// the behaviour under test.
const PATIENT: Duration = Duration::from_secs(4 * DEADLINE.as_secs());

/// Adds this family's entries.
pub(crate) fn register(entries: Entries) -> Entries {
    entries
        .entry("produce", produce)
        .entry("consume", consume)
        .entry("work_joinable", work_joinable)
        .entry("get_when_parked", get_when_parked)
        .entry("queue_errors", queue_errors)
        .entry("wait_for_event", wait_for_event)
        .entry("barrier_wait", barrier_wait)
        .entry("receive_and_hold", receive_and_hold)
        .entry("bulk_consume", bulk_consume)
        .entry("bulk_produce", bulk_produce)
}

/// Puts its numbers with `put_many`, waiting for room.
fn bulk_produce(args: BulkProduce) -> anyhow::Result<()> {
    let client = blocking::Client::from_env()
        .context("connect")?
        .with_timeout(PATIENT);
    let queue = client.queue::<Option<u64>>(&args.queue, None)?;
    let items: Vec<Option<u64>> = (args.first..args.first + args.count).map(Some).collect();
    for chunk in items.chunks(args.batch) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let n = queue.put_many(rest)?;
            rest = &rest[n..];
        }
    }
    Ok(())
}

/// Takes batches until the sentinel, recording each batch.
fn bulk_consume(args: BulkConsume) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = crate::async_client(PATIENT).await?;
        let queue = client.queue::<Option<u64>>(&args.queue, None).await?;
        let results = client.queue::<u64>(&args.results, None).await?;
        let mut turn = 0_u64;
        loop {
            turn += 1;
            let items = if args.abandon && turn.is_multiple_of(2) {
                // Given up after a moment: a grant that comes later goes
                // back to the queue.
                match tokio::time::timeout(
                    Duration::from_micros(50 + (turn * 37) % 500),
                    queue.get_many(args.batch),
                )
                .await
                {
                    Ok(items) => items?,
                    Err(_) => continue,
                }
            } else if turn.is_multiple_of(3) {
                queue
                    .get_many_timeout(args.batch, Duration::from_millis(5))
                    .await?
            } else {
                queue.get_many(args.batch).await?
            };
            let sentinels = items.iter().filter(|i| i.is_none()).count();
            let done = sentinels > 0;
            if sentinels > 1 {
                // One is this consumer's; the others go back for the rest.
                queue.put_many(&vec![None; sentinels - 1]).await?;
            }
            let numbers: Vec<u64> = items.into_iter().flatten().collect();
            if !numbers.is_empty() {
                let n = results.put_many(&numbers).await?;
                ensure!(n == numbers.len(), "results is unbounded");
            }
            if done {
                return Ok(());
            }
        }
    })
}

/// Receives an item with a receipt, gets as far as `holding` says with
/// it, announces, then waits for ever (the test kills it).
fn receive_and_hold(args: ReceiveAndHold) -> anyhow::Result<()> {
    let client = super::client()?;
    let queue = client.joinable_queue::<u64>(&args.queue, None)?;
    let delivery = queue.receive()?;
    match args.holding {
        Holding::JustRead => {}
        Holding::Working => {
            client.namespace(SHARED)?.add("partial", *delivery as i64)?;
        }
        Holding::Acknowledged => {
            delivery.task_done()?;
        }
    }
    client.event(&args.announce)?.set()?;
    // Killed while waiting here; a delivery still held is never settled.
    let never = client.event("never")?.with_timeout(PATIENT);
    let _ = never.wait();
    bail!("receive_and_hold outlived its test")
}

/// Puts `count` numbers in order; waits for room in a bounded queue.
fn produce(args: Produce) -> anyhow::Result<()> {
    let queue = super::client()?.queue::<Option<u64>>(&args.queue, None)?;
    for n in args.first..args.first + args.count {
        queue.put(&Some(n))?;
    }
    Ok(())
}

/// Takes numbers until the `None` sentinel and reports each one.
fn consume(args: Consume) -> anyhow::Result<()> {
    let client = super::client()?;
    let queue = client.queue::<Option<u64>>(&args.queue, None)?;
    let results = client.queue::<(u32, u64)>(&args.results, None)?;
    while let Some(n) = queue.get()? {
        results.put(&(args.index, n))?;
    }
    Ok(())
}

/// Waits for the gate, then processes items until the sentinel, counting
/// each in the namespace before marking it done.
fn work_joinable(args: WorkJoinable) -> anyhow::Result<()> {
    let client = super::client()?;
    let queue = client.joinable_queue::<Option<u64>>(&args.queue, None)?;
    let ns = client.namespace(SHARED)?;
    ensure!(
        client.event(&args.gate)?.wait()?,
        "the gate did not open in time"
    );
    loop {
        let item = queue.get()?;
        if item.is_some() {
            ns.add("done", 1)?;
        }
        queue.task_done()?;
        if item.is_none() {
            return Ok(());
        }
    }
}

/// Sends a `get`, makes sure it is parked, announces it, and reports the
/// item it eventually takes.
fn get_when_parked(args: GetWhenParked) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = crate::async_client(PATIENT).await?;
        let queue = client.queue::<u64>(&args.queue, None).await?;
        let results = client.queue::<u64>(&args.results, None).await?;

        let mut get = pin!(async {
            match args.many {
                None => queue.get().await.map(|item| vec![item]),
                Some(max) => queue.get_many(max).await,
            }
        });
        if let Some(answer) = poll_once(&mut get).await {
            bail!("the get was answered before it was sent: {answer:?}");
        }
        // Same connection, same object: the manager applies this after the
        // get, so once it is answered the get is parked.
        queue.len().await?;
        // Kept alive (parked in the barrier) while the get waits.
        let mut witness = None;
        match &args.announce {
            Announce::WaitInBarrier(name) => {
                let barrier = client.barrier(name, 2).await?;
                let mut wait = Box::pin(async move { barrier.wait().await });
                if let Some(answer) = poll_once(&mut wait).await {
                    bail!("the barrier wait was answered before it was sent: {answer:?}");
                }
                witness = Some(wait);
            }
            Announce::SetEvent(name) => client.event(name).await?.set().await?,
        }
        let items = get.await?;
        results.put_many(&items).await?;
        drop(witness);
        Ok(())
    })
}

/// Checks that every misuse of a queue is a typed error naming it, for that
/// call only.
fn queue_errors(name: String) -> anyhow::Result<()> {
    let client = super::client()?;
    let queue = client.queue::<u64>(&name, Some(1))?;
    let what = format!("queue `{name}`");

    match queue.get_nowait() {
        Err(Error::Manager(ManagerError::Empty { what: w })) if w == what => {}
        other => bail!("get_nowait on an empty queue: expected Empty, got {other:?}"),
    }
    match queue.get_timeout(Duration::from_millis(20)) {
        Err(Error::Manager(ManagerError::Empty { .. })) => {}
        other => bail!("get_timeout on an empty queue: expected Empty, got {other:?}"),
    }
    ensure!(queue.try_get()?.is_none(), "try_get on an empty queue");
    queue.put_nowait(&1)?;
    ensure!(
        queue.is_full()? && queue.full()?,
        "one item fills maxsize 1"
    );
    match queue.put_nowait(&2) {
        Err(Error::Manager(ManagerError::Full { what: w })) if w == what => {}
        other => bail!("put_nowait on a full queue: expected Full, got {other:?}"),
    }
    match queue.put_timeout(&3, Duration::from_millis(20)) {
        Err(Error::Manager(ManagerError::Full { .. })) => {}
        other => bail!("put_timeout on a full queue: expected Full, got {other:?}"),
    }
    let as_text = client.queue::<String>(&name, None)?;
    // Refused at once, waiting or not: the front item is there, of
    // another type.
    for get in [
        as_text.get_nowait(),
        as_text.get_timeout(Duration::from_millis(20)),
        as_text.get(),
    ] {
        match get {
            Err(Error::Manager(ManagerError::WrongType {
                what: w,
                stored,
                requested,
            })) if w == what && stored == "u64" && requested.contains("String") => {}
            other => bail!("reading a u64 as a String: expected WrongType, got {other:?}"),
        }
    }
    // The item read as the wrong type was not taken, and the failed puts
    // added nothing: a get of the right type takes that one item.
    ensure!(
        queue.len()? == 1,
        "the item read as a String is still there"
    );
    ensure!(queue.get_nowait()? == 1, "a u64 get takes the item");
    match client.joinable_queue::<u64>(&name, None) {
        Err(Error::Manager(ManagerError::KindMismatch { .. })) => {}
        other => bail!("a queue asked for as a joinable queue: got {other:?}"),
    }
    // The queue's connection is fine after all that.
    queue.put(&4)?;
    ensure!(queue.get()? == 4, "the queue still works");
    Ok(())
}

/// Says it has arrived, waits for the event, reports.
fn wait_for_event(args: WaitForEvent) -> anyhow::Result<()> {
    let client = super::client()?;
    let event = client.event(&args.event)?;
    let results = client.queue::<u32>(&args.results, None)?;
    client.namespace(SHARED)?.add("arrived", 1)?;
    ensure!(event.wait()?, "the event was not set in time");
    results.put(&args.index)?;
    Ok(())
}

/// Waits at a barrier as `expect` says, reporting each arrival index.
fn barrier_wait(args: BarrierWait) -> anyhow::Result<()> {
    let client = blocking::Client::from_env()
        .context("connect from the environment")?
        .with_timeout(PATIENT);
    let barrier = client.barrier(&args.barrier, args.parties)?;
    let results = client.queue::<(u32, u64)>(&args.results, None)?;
    match args.expect {
        Expect::Released { rounds } => {
            for _ in 0..rounds {
                let index = barrier.wait()?;
                results.put(&(args.index, index))?;
            }
            Ok(())
        }
        Expect::Broken => match barrier.wait() {
            Err(Error::Manager(ManagerError::BrokenBarrier { .. })) => Ok(()),
            other => bail!("expected BrokenBarrier, got {other:?}"),
        },
    }
}
