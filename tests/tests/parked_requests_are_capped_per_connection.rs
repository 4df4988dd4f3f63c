//! One connection may have at most `max_parked` requests parked at once,
//! counted across every object it uses. One more is refused at once with
//! `LimitReached` and changes nothing; other connections park as before;
//! a request that leaves (served, timed out, its object removed, its
//! connection closed) frees its place.

use std::time::Duration;

use anyhow::bail;
use manager::{Error, Manager, ManagerError};
use tests::{DEADLINE, until_parked};
use tokio::runtime::Runtime;

const CAP: usize = 8;

fn runtime() -> anyhow::Result<Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

/// Whether `outcome` is the refusal of a request past the cap.
fn refused<T: std::fmt::Debug>(outcome: Result<T, Error>) -> anyhow::Result<()> {
    match outcome {
        Err(Error::Manager(ManagerError::LimitReached { what, max }))
            if what == "parked requests on this connection" && max == CAP as u64 =>
        {
            Ok(())
        }
        other => bail!("expected the parked cap's refusal, got {other:?}"),
    }
}

#[test]
fn a_connection_parks_up_to_its_cap_and_again_once_one_leaves() -> anyhow::Result<()> {
    let manager = Manager::builder().max_parked(CAP).start()?;
    let rt = runtime()?;
    rt.block_on(async {
        let a = manager.connect_async().await?.with_timeout(DEADLINE);
        let b = manager.connect_async().await?.with_timeout(DEADLINE);
        let observer = manager.connect_async().await?.with_timeout(DEADLINE);
        let queue = a.queue::<u64>("q", None).await?;
        let gets: Vec<_> = (0..CAP)
            .map(|_| {
                let queue = queue.clone();
                tokio::spawn(async move { queue.get().await })
            })
            .collect();
        until_parked(&observer, "q", CAP as u64).await?;

        // One more, on this object or any other, is refused at once.
        refused(queue.get().await)?;
        refused(a.event("e").await?.wait().await)?;
        let lock = a.lock("l").await?;
        let held = b.lock("l").await?;
        held.acquire().await?;
        refused(lock.acquire().await)?;
        // ... and changes nothing: a condition's wait keeps its lock.
        let condition = a.condition("c").await?;
        condition.acquire().await?;
        refused(condition.wait().await)?;
        condition.notify(1).await?; // only the holder may notify
        condition.release().await?;
        until_parked(&observer, "q", CAP as u64).await?;
        until_parked(&observer, "e", 0).await?;
        until_parked(&observer, "l", 0).await?;

        // Another connection parks as before.
        let from_b = b.queue::<u64>("q", None).await?;
        let b_get = tokio::spawn({
            let from_b = from_b.clone();
            async move { from_b.get().await }
        });
        until_parked(&observer, "q", CAP as u64 + 1).await?;

        // Served: one of a's gets takes the item, and a may park again.
        from_b.put(&1).await?;
        until_parked(&observer, "q", CAP as u64).await?;
        let timed = tokio::spawn({
            let queue = queue.clone();
            async move { queue.get_timeout(Duration::from_millis(200)).await }
        });
        match timed.await? {
            Err(Error::Manager(ManagerError::Empty { .. })) => {}
            other => bail!("the timed get ended with {other:?}"),
        }
        // Timed out: its place is free too.
        let last = tokio::spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        until_parked(&observer, "q", CAP as u64 + 1).await?;
        refused(queue.get().await)?;

        // Removed with its object: every place comes back.
        assert!(b.remove("q").await?);
        let mut served = 0;
        for get in gets.into_iter().chain([last]) {
            match get.await? {
                Ok(1) => served += 1,
                Err(Error::Manager(ManagerError::ObjectGone { .. })) => {}
                other => bail!("a get of a removed queue ended with {other:?}"),
            }
        }
        assert_eq!(served, 1);
        assert!(matches!(
            b_get.await?,
            Err(Error::Manager(ManagerError::ObjectGone { .. }))
        ));
        let event = a.event("e").await?;
        let waits: Vec<_> = (0..CAP)
            .map(|_| {
                let event = event.clone();
                tokio::spawn(async move { event.wait().await })
            })
            .collect();
        until_parked(&observer, "e", CAP as u64).await?;
        refused(event.wait().await)?;
        b.event("e").await?.set().await?;
        for wait in waits {
            assert!(wait.await??);
        }
        anyhow::Ok(())
    })
}

#[test]
fn a_connection_closing_with_parked_requests_frees_them() -> anyhow::Result<()> {
    let manager = Manager::builder().max_parked(CAP).start()?;
    let rt = runtime()?;
    let observer = rt.block_on(manager.connect_async())?.with_timeout(DEADLINE);
    for round in 0..3 {
        // A process that parks all it may, on two objects, and dies.
        let doomed = runtime()?;
        doomed.block_on(async {
            let client = manager.connect_async().await?.with_timeout(DEADLINE);
            let queue = client.queue::<u64>("q", None).await?;
            let event = client.event("e").await?;
            for i in 0..CAP {
                let (queue, event) = (queue.clone(), event.clone());
                tokio::spawn(async move {
                    if i % 2 == 0 {
                        let _ = queue.get().await;
                    } else {
                        let _ = event.wait().await;
                    }
                });
            }
            until_parked(&observer, "q", CAP as u64 / 2).await?;
            until_parked(&observer, "e", CAP as u64 / 2).await?;
            refused(queue.get().await)?;
            anyhow::Ok(())
        })?;
        doomed.shutdown_timeout(Duration::from_secs(5));
        rt.block_on(async {
            until_parked(&observer, "q", 0).await?;
            until_parked(&observer, "e", 0).await?;
            // The manager goes on: what a put brings stays for the next.
            let queue = observer.queue::<u64>("q", None).await?;
            queue.put(&round).await?;
            assert_eq!(queue.get_nowait().await?, round);
            anyhow::Ok(())
        })?;
    }
    Ok(())
}
