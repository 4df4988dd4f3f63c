//! Worker entries for the tests of inspection.

use anyhow::{Context, ensure};
use manager::inspect::Peer;
use manager::launcher::Entries;
use tests::DEADLINE;

/// Adds this family's entries.
pub(crate) fn register(entries: Entries) -> Entries {
    entries.entry("inspect_from_worker", inspect_from_worker)
}

/// Inspects the manager from this process and checks that the snapshot
/// shows this connection with this process's pid, and the lock `lock` held
/// by another connection.
fn inspect_from_worker(lock: String) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = crate::async_client(DEADLINE).await?;
        let snapshot = client.inspect().await?;
        let me = client.connection_id();
        ensure!(
            snapshot.requested_by == me,
            "asked by {}",
            snapshot.requested_by
        );
        let mine = snapshot
            .connection(me)
            .context("this connection is in the snapshot")?;
        ensure!(
            matches!(mine.peer, Peer::Unix { pid: Some(pid), .. } if pid == std::process::id()),
            "this connection's peer is {:?}",
            mine.peer
        );
        ensure!(
            mine.requests_in_flight >= 1,
            "the inspection itself is in flight"
        );
        let held = snapshot
            .object(&lock)
            .and_then(|o| o.detail.as_ref())
            .context("the lock and its detail are in the snapshot")?;
        ensure!(
            held.holders.len() == 1 && held.holders[0].connection != me,
            "the lock is held by another connection: {:?}",
            held.holders
        );
        Ok(())
    })
}
