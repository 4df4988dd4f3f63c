//! An `AsyncResult` awaited in a `select!` whose timeout branch wins keeps
//! its task and whatever had arrived: awaited again, it gives the result.
//! The same for the next item of an `imap` stream, whose later results had
//! already come.

use std::time::Duration;

use futures_util::StreamExt;
use tests::pools::{gate, pool_of};
use tests::{DEADLINE, start_manager, worker_program};
use tokio::time::timeout;

/// How long the losing branch is given: the task cannot finish meanwhile
/// (its gate is shut), so any length shows the timeout winning.
const LOSE_AFTER: Duration = Duration::from_millis(100);

#[tokio::test]
async fn async_result_awaited_again_after_a_lost_select() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    let pool = pool_of(&manager, worker_program!(), 1).await?;
    let prefix = "cancel-safe";
    let (started, gate) = gate(&client, prefix).await?;

    let mut result =
        pool.apply_async::<_, u64>("square_after_gate", &(prefix.to_owned(), 7_u64))?;
    // The task is running, parked on its gate.
    let pid = started.get_timeout(DEADLINE).await?;
    assert_eq!(pool.pids(), [pid]);

    tokio::select! {
        early = &mut result => panic!("finished before its gate opened: {early:?}"),
        () = tokio::time::sleep(LOSE_AFTER) => {}
    }
    assert!(!result.ready());
    // A blocking wait is refused here, and leaves the handle as it was.
    let refused = result.get_timeout(Duration::ZERO).unwrap_err();
    assert!(
        matches!(refused, manager::PoolError::InsideRuntime { .. }),
        "{refused:?}"
    );

    gate.set().await?;
    assert_eq!(timeout(DEADLINE, &mut result).await??, 49);
    // Spent: a second wait does not hang.
    let again = timeout(DEADLINE, result).await?.unwrap_err();
    assert!(matches!(again, manager::PoolError::Closed), "{again:?}");
    timeout(DEADLINE, pool.close_async()).await??;
    Ok(())
}

#[tokio::test]
async fn imap_stream_keeps_early_results_across_a_lost_select() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    let pool = pool_of(&manager, worker_program!(), 2).await?;
    // Item 0 waits for gate `first`, item 1 for gate `second`.
    let items = [("stream-first", 3_u64), ("stream-second", 4)];
    let mut started = Vec::new();
    let mut gates = Vec::new();
    for (prefix, _) in items {
        started.push(
            client
                .queue::<u32>(&format!("{prefix}/started"), None)
                .await?,
        );
        gates.push(client.event(&format!("{prefix}/gate")).await?);
    }
    let mut stream = pool
        .imap::<_, u64>(
            "square_after_gate",
            items.map(|(prefix, x)| (prefix.to_owned(), x)),
        )?
        .into_stream();
    for queue in &started {
        queue.get_timeout(DEADLINE).await?;
    }

    // Item 1 finishes first; the stream waits for item 0, and loses.
    gates[1].set().await?;
    tokio::select! {
        early = stream.next() => panic!("item 0 came before its gate opened: {early:?}"),
        () = tokio::time::sleep(LOSE_AFTER) => {}
    }
    gates[0].set().await?;
    let results = timeout(DEADLINE, stream.collect::<Vec<_>>()).await?;
    let results = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    assert_eq!(results, [9, 16]);
    timeout(DEADLINE, pool.close_async()).await??;
    Ok(())
}
