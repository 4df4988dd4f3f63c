//! Async worker entries (`Entries::entry_async`), for
//! `tests/async_entry_runs_on_a_runtime_of_its_own.rs`: each runs on the
//! runtime the launcher builds in the worker.

use anyhow::{bail, ensure};
use manager::launcher::Entries;
use manager::{Client, Error, blocking};
use tests::{Add, DEADLINE, SHARED};

/// Adds this family's entries.
pub(crate) fn register(entries: Entries) -> Entries {
    entries
        .entry_async("async_add", async_add)
        .entry_async("async_fail", |message: String| async move {
            tokio::task::yield_now().await;
            bail!(message)
        })
        .entry_async("async_panic", |message: String| async move {
            tokio::task::yield_now().await;
            panic!("{message}");
            #[allow(unreachable_code)]
            anyhow::Ok(())
        })
}

/// Adds 1 to `args.attribute`, `args.times` times, through the async
/// client; first checks that it runs in an async context (a blocking
/// connect is refused there) with a working timer.
async fn async_add(args: Add) -> anyhow::Result<()> {
    match blocking::Client::from_env() {
        Err(Error::InsideRuntime { .. }) => {}
        other => bail!("a blocking connect in an async entry gave {other:?}"),
    }
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    let client = Client::from_env().await?.with_timeout(DEADLINE);
    let ns = client.namespace(SHARED).await?;
    // Calls in flight together, from tasks of the entry's runtime.
    let tasks: Vec<_> = (0..args.times)
        .map(|_| {
            let ns = ns.clone();
            let attribute = args.attribute.clone();
            tokio::spawn(async move { ns.add(&attribute, 1).await })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    ensure!(ns.contains(&args.attribute).await?, "nothing was added");
    Ok(())
}
