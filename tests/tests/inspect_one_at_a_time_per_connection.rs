//! A connection has one inspection in flight at a time: a client that
//! pipelines many gets every answer, but the manager starts each one only
//! once the previous one was answered, rather than piling up a task per
//! request, each asking every actor for a report.

use anyhow::Context;
use tests::{DEADLINE, connect, start_manager};

const PIPELINED: usize = 50;

#[test]
fn pipelined_inspections_are_taken_one_at_a_time() -> anyhow::Result<()> {
    let manager = start_manager()?;
    // Objects for every inspection to ask about.
    let setup = connect(&manager)?;
    setup.queue::<u32>("jobs", None)?.put(&1)?;
    setup.lock("mutex")?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (snapshots, asker) = runtime.block_on(async {
        let client = manager.connect_async().await?.with_timeout(DEADLINE);
        // All sent before any answer comes: the frames after the first
        // reach the manager together.
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..PIPELINED {
            let client = client.clone();
            calls.spawn(async move { client.inspect().await });
        }
        let mut snapshots = Vec::new();
        while let Some(joined) = calls.join_next().await {
            snapshots.push(joined??);
        }
        anyhow::Ok((snapshots, client.connection_id()))
    })?;

    assert_eq!(snapshots.len(), PIPELINED);
    for snapshot in &snapshots {
        let me = snapshot
            .connection(asker)
            .context("the asking connection is in its snapshot")?;
        // Taken while the manager had read this inspection and at most the
        // next one (which waits for this one); the earlier ones were
        // answered. Had every inspection started at once, the manager
        // would have read all of them by then.
        assert!(
            me.requests_in_flight <= 4,
            "{} requests in flight: inspections were not taken one at a time",
            me.requests_in_flight
        );
        for name in ["jobs", "mutex"] {
            let object = snapshot.object(name).context("the object is there")?;
            assert!(object.detail.is_some(), "{object:?}");
        }
    }
    Ok(())
}
