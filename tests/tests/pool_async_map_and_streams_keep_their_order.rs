//! From async code: `map_async(..).await` gives the results in input
//! order, the stream of `imap` yields them in input order, the stream of
//! `imap_unordered` yields each exactly once, and `apply_async(..).await`
//! gives its one result; the pool is built and closed without blocking the
//! runtime's thread.

use futures_util::{Stream, StreamExt};
use tests::pools::pool_of;
use tests::{DEADLINE, start_manager, worker_program};
use tokio::time::timeout;

const N: u64 = 200;

fn squares() -> Vec<u64> {
    (0..N).map(|x| x * x).collect()
}

#[tokio::test]
async fn async_map_and_streams_deliver_every_result_in_their_order() -> anyhow::Result<()> {
    let manager = start_manager()?;
    // One item per job and three workers: results finish out of order.
    let pool = pool_of(&manager, worker_program!(), 3).await?;

    let mapped: Vec<u64> = timeout(DEADLINE, pool.map_async("square", 0..N)?).await??;
    assert_eq!(mapped, squares());

    let ordered = pool.imap::<u64, u64>("square", 0..N)?.into_stream();
    assert_eq!(ordered.size_hint(), (N as usize, Some(N as usize)));
    let ordered = timeout(DEADLINE, ordered.collect::<Vec<_>>())
        .await?
        .into_iter()
        .collect::<Result<Vec<_>, _>>()?;
    assert_eq!(ordered, squares());

    let mut unordered = pool
        .imap_unordered::<u64, u64>("square", 0..N)?
        .into_stream();
    let mut seen = Vec::new();
    while let Some(result) = timeout(DEADLINE, unordered.next()).await? {
        seen.push(result?);
    }
    assert_eq!(seen.len(), N as usize, "each result exactly once");
    seen.sort_unstable();
    assert_eq!(seen, squares());
    // Spent: it says so again, without waiting.
    assert!(unordered.next().await.is_none());

    let square: u64 = timeout(DEADLINE, pool.apply_async("square", &12_u64)?).await??;
    assert_eq!(square, 144);
    let empty: Vec<u64> = timeout(DEADLINE, pool.map_async("square", Vec::<u64>::new())?).await??;
    assert!(empty.is_empty());

    let pids = pool.pids();
    timeout(DEADLINE, pool.close_async()).await??;
    for pid in pids {
        assert!(
            tests::process_is_dead(pid),
            "worker {pid} outlived the close"
        );
    }
    Ok(())
}
