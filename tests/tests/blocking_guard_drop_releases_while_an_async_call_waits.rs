//! A blocking guard (lock, semaphore unit, queue delivery) dropped by a
//! thread gives back what it holds even while another call on the same
//! connection waits: here an async call made through
//! `blocking::Client::as_async`, parked on an event in the manager.
//!
//! Before the one-call-path refactor the blocking guards released
//! synchronously (`runtime.run(release)`), so the release always went out.
//! Now `Drop` only queues it (`send_detached`): with another call waiting it
//! goes to the connection's flush task, which runs only while some thread is
//! inside a blocking call; a process that does nothing more on that client
//! keeps the lock (the unit, the item) held for as long as it lives.

use std::time::Duration;

use manager::blocking;
use tests::{DEADLINE, connect, start_manager, wait_until};

/// How long the other process's client waits for what the guard gave back:
/// far longer than a release takes to arrive.
const GIVE_BACK: Duration = Duration::from_secs(5);

/// Parks an async `wait` on the event `name` through `client.as_async()`,
/// on a thread of its own; returns once the manager holds it parked (this
/// thread's blocking `inspect` calls drive the client meanwhile).
fn park_an_async_wait(
    client: &blocking::Client,
    name: &str,
) -> anyhow::Result<std::thread::JoinHandle<anyhow::Result<bool>>> {
    let event = client.event(name)?;
    let token = event.share();
    let asynchronous = client.as_async();
    let waiter = std::thread::spawn(move || -> anyhow::Result<bool> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let event = asynchronous.attach(&token).await?;
            Ok(event.wait().await?)
        })
    });
    wait_until("the async wait is parked in the manager", || {
        Ok(client
            .inspect()?
            .object(name)
            .and_then(|o| o.detail.as_ref())
            .is_some_and(|d| d.waiters == 1))
    })?;
    anyhow::ensure!(
        client.connection().waiting() == 1,
        "the async wait is the one call waiting"
    );
    Ok(waiter)
}

/// Ends the parked wait (a blocking call: this thread drives the client).
fn end_async_wait(
    client: &blocking::Client,
    name: &str,
    waiter: std::thread::JoinHandle<anyhow::Result<bool>>,
) -> anyhow::Result<()> {
    client.event(name)?.set()?;
    assert!(waiter.join().expect("waiter panicked")?);
    Ok(())
}

#[test]
fn a_dropped_blocking_lock_guard_releases_the_lock() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let lock = client.lock("held")?;
    let waiter = park_an_async_wait(&client, "never")?;

    let guard = lock.lock()?;
    drop(guard);

    // Another process's view: the lock must be free again.
    let other = connect(&manager)?.lock("held")?;
    let taken = other.acquire_timeout(GIVE_BACK)?;
    end_async_wait(&client, "never", waiter)?;
    assert!(
        taken,
        "the lock stayed held by a dropped blocking guard for {GIVE_BACK:?}"
    );
    Ok(())
}

#[test]
fn a_dropped_blocking_semaphore_guard_gives_its_unit_back() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let semaphore = client.semaphore("one-unit", 1)?;
    let waiter = park_an_async_wait(&client, "never")?;

    let guard = semaphore.guard()?;
    drop(guard);

    let other = connect(&manager)?.semaphore("one-unit", 1)?;
    let taken = other.acquire_timeout(GIVE_BACK)?;
    end_async_wait(&client, "never", waiter)?;
    assert!(
        taken,
        "the unit stayed out after its blocking guard was dropped, for {GIVE_BACK:?}"
    );
    Ok(())
}

#[test]
fn a_dropped_blocking_delivery_goes_back_to_the_queue() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let jobs = client.queue::<u64>("jobs", None)?;
    jobs.put(&7)?;
    let waiter = park_an_async_wait(&client, "never")?;

    let delivery = jobs.receive_timeout(DEADLINE)?;
    assert_eq!(*delivery, 7);
    drop(delivery);

    let other = connect(&manager)?.queue::<u64>("jobs", None)?;
    let again = other.get_timeout(GIVE_BACK);
    end_async_wait(&client, "never", waiter)?;
    assert_eq!(
        again.ok(),
        Some(7),
        "the item of a dropped blocking delivery did not go back within {GIVE_BACK:?}"
    );
    Ok(())
}
