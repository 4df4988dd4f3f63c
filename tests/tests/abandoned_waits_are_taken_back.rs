//! A waiting call whose caller stops waiting (its future dropped, as in a
//! `select!` loop) is taken back from the manager: it does not stay parked
//! for the life of the connection, counting toward the connection's
//! parked cap, and what comes later goes to a caller that still waits.

use tests::{DEADLINE, until_parked};

/// Polls `future` once, then drops it: a caller that gives up at once.
async fn abandon<F: std::future::Future>(future: F) {
    tokio::select! {
        biased;
        _ = future => panic!("it should still have been waiting"),
        () = tokio::task::yield_now() => {}
    }
}

#[test]
fn waits_given_up_in_a_select_loop_leave_the_manager() -> anyhow::Result<()> {
    const ROUNDS: u64 = 200;
    let manager = manager::Manager::builder().start()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        // No timeout: its waits would otherwise end on the manager's side
        // by themselves.
        let client = manager.connect_async().await?;
        let observer = manager.connect_async().await?.with_timeout(DEADLINE);
        let jobs = client.queue::<u32>("jobs", None).await?;
        let lock = client.lock("mutex").await?;
        let holder = observer.lock("mutex").await?;
        holder.acquire().await?;
        let event = client.event("go").await?;

        for _ in 0..ROUNDS {
            abandon(jobs.get()).await;
            abandon(lock.acquire()).await;
            abandon(event.wait()).await;
        }
        // Each was parked, then taken back: none is left waiting.
        for name in ["jobs", "mutex", "go"] {
            until_parked(&observer, name, 0).await?;
        }

        // What comes next goes to the callers still waiting.
        let waiting = {
            let client = client.clone();
            tokio::spawn(async move {
                let jobs = client.queue::<u32>("jobs", None).await?;
                jobs.get().await
            })
        };
        until_parked(&observer, "jobs", 1).await?;
        observer.queue::<u32>("jobs", None).await?.put(&7).await?;
        assert_eq!(waiting.await??, 7);
        assert_eq!(jobs.len().await?, 0, "no abandoned get took an item");
        holder.release().await?;
        assert!(lock.acquire_timeout(DEADLINE).await?);
        lock.release().await?;
        anyhow::Ok(())
    })?;
    manager.shutdown();
    Ok(())
}
