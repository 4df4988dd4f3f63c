//! Requests parked on the manager (a `get` waiting for an item, an event
//! `wait`) owe no reply yet: however many a connection has, the manager
//! keeps reading it, so the request that releases them gets through, and a
//! client that dies with parked requests is noticed and its lock released.

use std::time::Duration;

use manager::Manager;
use tests::{DEADLINE, wait_until};

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Waits until the object `name` has handled at least `n` requests.
fn handled_at_least(manager: &Manager, name: &str, n: u64) -> anyhow::Result<()> {
    let client = manager.connect()?.with_timeout(DEADLINE);
    wait_until(&format!("{name} has handled {n} requests"), || {
        Ok(client
            .objects()?
            .iter()
            .any(|o| o.name.as_str() == name && o.messages_handled >= n))
    })
}

#[test]
fn more_parked_gets_than_the_reply_bound_do_not_block_the_put() -> anyhow::Result<()> {
    let manager = Manager::builder().max_in_flight(4).start()?;
    let rt = runtime()?;
    let client = rt.block_on(manager.connect_async())?.with_timeout(DEADLINE);
    let queue = rt.block_on(client.queue::<u64>("q", None))?;
    let getters: Vec<_> = (0..8)
        .map(|_| {
            let queue = queue.clone();
            rt.spawn(async move { queue.get().await })
        })
        .collect();
    handled_at_least(&manager, "q", 8)?;
    rt.block_on(async {
        for i in 0..8 {
            queue.put(&i).await?;
        }
        let mut got = Vec::new();
        for getter in getters {
            got.push(getter.await??);
        }
        got.sort_unstable();
        assert_eq!(got, (0..8).collect::<Vec<_>>());
        anyhow::Ok(())
    })?;
    Ok(())
}

#[test]
fn a_client_dying_with_parked_requests_releases_its_lock() -> anyhow::Result<()> {
    let manager = Manager::builder().max_in_flight(2).start()?;
    let doomed = runtime()?;
    doomed.block_on(async {
        let client = manager.connect_async().await?;
        client.lock("L").await?.acquire().await?;
        let event = client.event("never").await?;
        for _ in 0..4 {
            let event = event.clone();
            tokio::spawn(async move { event.wait().await });
        }
        anyhow::Ok(())
    })?;
    handled_at_least(&manager, "never", 4)?;
    // The process "dies": its runtime, tasks and connection go away.
    doomed.shutdown_timeout(Duration::from_secs(5));

    let lock = manager.connect()?.with_timeout(DEADLINE).lock("L")?;
    assert!(
        lock.acquire_timeout(DEADLINE)?,
        "the dead client's lock was never released"
    );
    Ok(())
}
