//! A waiting call whose caller gave up (its future dropped) is taken back;
//! if the manager answered it first, what that answer took is given back: a queue
//! item goes back to the front of the queue (it is not lost), a semaphore
//! unit is released, and a condition's lock that a `wait` took back is
//! released completely.

use manager::blocking;
use manager::{Client, Manager};
use tests::{DEADLINE, parked, wait_until};

/// A runtime whose one worker drives the async client's tasks.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?)
}

/// Starts `call` on the async client's runtime, waits until it is parked
/// on the manager, then drops it: the caller has given up.
fn abandon<F>(
    rt: &tokio::runtime::Runtime,
    observer: &blocking::Client,
    object: &str,
    call: F,
) -> anyhow::Result<()>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let task = rt.spawn(call);
    parked(observer, object, 1)?;
    task.abort();
    let _ = rt.block_on(task);
    Ok(())
}

fn setup() -> anyhow::Result<(Manager, tokio::runtime::Runtime, Client, blocking::Client)> {
    let manager = Manager::start()?;
    let rt = runtime()?;
    let client = rt.block_on(manager.connect_async())?;
    let observer = manager.connect()?.with_timeout(DEADLINE);
    Ok((manager, rt, client, observer))
}

#[test]
fn a_queue_item_taken_after_its_getter_gave_up_goes_back() -> anyhow::Result<()> {
    let (_manager, rt, client, observer) = setup()?;
    let jobs = rt.block_on(client.queue::<u32>("jobs", None))?;
    abandon(&rt, &observer, "jobs", async move { jobs.get().await })?;

    // The manager hands the item to the abandoned get; its client puts it
    // back at the front.
    let queue = observer.queue::<u32>("jobs", None)?;
    queue.put(&7)?;
    queue.put(&8)?;
    wait_until("both items are in the queue", || Ok(queue.len()? == 2))?;
    assert_eq!(queue.get()?, 7, "the returned item is at the front");
    assert_eq!(queue.get()?, 8);
    Ok(())
}

#[test]
fn a_joinable_queue_item_returned_is_not_a_new_task() -> anyhow::Result<()> {
    let (_manager, rt, client, observer) = setup()?;
    let jobs = rt.block_on(client.joinable_queue::<u32>("jobs", Some(1)))?;
    abandon(&rt, &observer, "jobs", async move { jobs.get().await })?;

    let queue = observer.joinable_queue::<u32>("jobs", Some(1))?;
    queue.put(&1)?;
    wait_until("the item is back", || Ok(queue.len()? == 1))?;
    assert_eq!(queue.get()?, 1);
    queue.task_done()?;
    assert!(
        queue.join_timeout(DEADLINE)?,
        "one put, one task_done: nothing left unfinished"
    );
    Ok(())
}

#[test]
fn a_semaphore_unit_granted_after_its_caller_gave_up_is_released() -> anyhow::Result<()> {
    let (_manager, rt, client, observer) = setup()?;
    let units = rt.block_on(client.semaphore("units", 0))?;
    abandon(
        &rt,
        &observer,
        "units",
        async move { units.acquire().await },
    )?;

    let semaphore = observer.semaphore("units", 0)?;
    semaphore.release()?;
    wait_until("the unit is back", || Ok(semaphore.value()? == 1))?;
    assert!(semaphore.try_acquire()?);
    Ok(())
}

#[test]
fn a_condition_lock_taken_back_by_an_abandoned_wait_is_released() -> anyhow::Result<()> {
    let (_manager, rt, client, observer) = setup()?;
    let condition = rt.block_on(client.condition("ready"))?;
    // One task takes the lock and waits, which releases it and parks; then
    // its caller gives up.
    abandon(&rt, &observer, "ready", async move {
        condition.acquire().await?;
        condition.wait().await
    })?;

    // Another process takes the lock (the wait released it), notifies and
    // releases. Either the client's cancel took the wait back first (the
    // notify wakes nobody), or the notify came first: the abandoned wait
    // takes the lock back, and its client releases it completely. Either
    // way the lock ends up free.
    let other = observer.condition("ready")?;
    assert!(other.try_acquire()?, "the wait released the lock");
    assert!(other.notify(1)? <= 1);
    other.release()?;
    wait_until("the lock is free again", || {
        let free = other.try_acquire()?;
        if free {
            other.release()?;
        }
        Ok(free)
    })?;
    Ok(())
}
