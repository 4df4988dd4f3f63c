//! A `#[tokio::main]` program written as a tokio user would: it hands
//! control to `Entries::run_if_worker` at the top of its async `main`, then
//! starts a manager and launches copies of itself, running a blocking entry
//! and an async one, and awaits them. The test
//! `tokio_main_program_runs_blocking_and_async_entries` runs it; it prints
//! `all workers ok` and exits 0 when every check holds.

use anyhow::{Context, bail, ensure};
use manager::launcher::Entries;
use manager::{Client, Error, Manager, blocking};
use tests::DEADLINE;

/// The namespace the workers add to.
const STATS: &str = "stats";

/// A blocking entry: it runs off the runtime `main` is in, so the blocking
/// client works.
fn blocking_add(times: u32) -> anyhow::Result<()> {
    let ns = blocking::Client::from_env()?
        .with_timeout(DEADLINE)
        .namespace(STATS)?;
    for _ in 0..times {
        ns.add("blocking", 1)?;
    }
    Ok(())
}

/// An async entry: it runs on a runtime the launcher built for it.
async fn async_add(times: u32) -> anyhow::Result<()> {
    let ns = Client::from_env()
        .await?
        .with_timeout(DEADLINE)
        .namespace(STATS)
        .await?;
    for _ in 0..times {
        ns.add("async", 1).await?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    Entries::new()
        .entry("blocking_add", blocking_add)
        .entry_async("async_add", async_add)
        .run_if_worker();

    let manager = Manager::start().context("start the manager")?;
    // The blocking connect says what to use instead of panicking.
    match manager.connect() {
        Err(Error::InsideRuntime { .. }) => {}
        other => bail!("Manager::connect inside main gave {other:?}"),
    }
    let ns = manager
        .connect_async()
        .await?
        .with_timeout(DEADLINE)
        .namespace(STATS)
        .await?;

    let launcher = manager.launcher();
    let mut workers = Vec::new();
    for _ in 0..2 {
        workers.push(launcher.spawn("blocking_add", &50_u32)?);
        workers.push(launcher.spawn("async_add", &50_u32)?);
    }
    for worker in &mut workers {
        worker
            .wait_timeout(DEADLINE)
            .await
            .with_context(|| format!("worker `{}`", worker.entry()))?;
    }
    let blocking: i64 = ns.get("blocking").await?;
    let in_async: i64 = ns.get("async").await?;
    ensure!(
        (blocking, in_async) == (100, 100),
        "added {blocking} blocking and {in_async} async, expected 100 each"
    );
    println!("all workers ok");
    Ok(())
}
