//! Tasks for the tests of the worker pool (`tests/pool_*.rs`), served by the
//! pool's built-in worker entry.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::bail;
use manager::launcher::Entries;
use manager::pool::Tasks;

use tests::DEADLINE;

use crate::client;

/// What the `remember` initializer stored in this worker (0: never ran).
static REMEMBERED: AtomicU64 = AtomicU64::new(0);

/// Adds the pool's tasks.
pub(crate) fn register(entries: Entries) -> Entries {
    entries.tasks(
        Tasks::new()
            .task("square", |x: u64| -> anyhow::Result<u64> { Ok(x * x) })
            .task("fail_if_odd", |x: u64| -> anyhow::Result<u64> {
                if x % 2 == 1 {
                    bail!("{x} is odd");
                }
                Ok(x)
            })
            .task("fail_with", |message: String| -> anyhow::Result<()> {
                bail!(message)
            })
            .task("panic_with", |message: String| -> anyhow::Result<()> {
                panic!("{message}")
            })
            .task("pid", |(): ()| -> anyhow::Result<u32> {
                Ok(std::process::id())
            })
            .task("remember", |value: u64| -> anyhow::Result<()> {
                // An initializer runs once per worker: a second run is a bug.
                if REMEMBERED.swap(value, Ordering::SeqCst) != 0 {
                    bail!("initializer ran twice");
                }
                Ok(())
            })
            .task("remembered", |(): ()| -> anyhow::Result<u64> {
                Ok(REMEMBERED.load(Ordering::SeqCst))
            })
            .task("shared_list_append", crate::shared::shared_list_append)
            .task("park_until_killed", park_until_killed)
            .task("square_after_gate", square_after_gate)
            .task("die_first_times", die_first_times),
    )
}

/// Puts this worker's pid on the queue `{prefix}/started`, waits (at most
/// [`DEADLINE`]) for the event `{prefix}/gate`, then returns `x * x`.
fn square_after_gate((prefix, x): (String, u64)) -> anyhow::Result<u64> {
    let client = client()?;
    client
        .queue::<u32>(&format!("{prefix}/started"), None)?
        .put(&std::process::id())?;
    // A client of its own without a call deadline: the wait has its own.
    let gate = manager::blocking::Client::from_env()?.event(&format!("{prefix}/gate"))?;
    if !gate.wait_timeout(DEADLINE)? {
        bail!("the event `{prefix}/gate` was not set within {DEADLINE:?}");
    }
    Ok(x * x)
}

/// Puts this worker's pid on the queue `{prefix}/pids`, then waits forever
/// on the event `{prefix}/never`, which nobody sets.
fn park_until_killed(prefix: String) -> anyhow::Result<()> {
    let client = client()?;
    client
        .queue::<u32>(&format!("{prefix}/pids"), None)?
        .put(&std::process::id())?;
    let never = manager::blocking::Client::from_env()?.event(&format!("{prefix}/never"))?;
    never.wait()?;
    bail!("the event `{prefix}/never` was set")
}

/// Counts its run in the attribute `{prefix}/runs` of the namespace
/// [`tests::SHARED`]; while that count is at most `deaths`, kills its own
/// worker with SIGKILL; after that returns the count.
fn die_first_times((prefix, deaths): (String, i64)) -> anyhow::Result<i64> {
    let runs = client()?
        .namespace(tests::SHARED)?
        .add(&format!("{prefix}/runs"), 1)?;
    if runs <= deaths {
        std::process::Command::new("kill")
            .args(["-KILL", &std::process::id().to_string()])
            .status()?;
        bail!("still alive after SIGKILL");
    }
    Ok(runs)
}
