//! Helpers shared by the cross-process integration tests in `tests/`.
//!
//! The tests start a real [`Manager`], launch real worker processes (the
//! `test-worker` binary of this package, whose entries live in
//! `src/bin/test-worker.rs`) and talk over real sockets. Every wait has a
//! deadline, so a bug fails a test instead of hanging it.

use std::time::{Duration, Instant};

pub mod containers;
pub mod custom;
pub mod fuzz_checks;
pub mod gate;
pub mod locks;
pub mod metrics;
pub mod pools;
pub mod queues;
pub mod raw;

use anyhow::{Context, bail};
use manager::{Manager, blocking};
use serde::{Deserialize, Serialize};

/// How long any single wait in a test may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The path of the `test-worker` binary; expands in the test crate, where
/// cargo sets `CARGO_BIN_EXE_test-worker`.
#[macro_export]
macro_rules! worker_program {
    () => {
        env!("CARGO_BIN_EXE_test-worker")
    };
}

/// Arguments of the `set_and_read` worker entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SetAndRead {
    /// The worker's index, used in the names of the attributes it writes.
    pub index: u32,
    /// How many attributes it writes.
    pub count: u32,
    /// Attributes the main process set, which the worker must read back.
    pub expected: Vec<(String, i64)>,
}

/// Arguments of the `add` worker entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Add {
    /// The attribute to add to.
    pub attribute: String,
    /// How many adds of 1.
    pub times: u32,
}

/// Name of the namespace the worker entries use.
pub const SHARED: &str = "shared";

/// Polls `future` once and returns its output if it was ready: far enough
/// for a call to write its request, which the test may then abandon (drop
/// the future) to play a caller that gives up.
pub async fn poll_once<F: std::future::Future + Unpin>(future: &mut F) -> Option<F::Output> {
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match std::pin::Pin::new(&mut *future).poll(cx) {
            std::task::Poll::Ready(output) => Some(output),
            std::task::Poll::Pending => None,
        })
    })
    .await
}

/// Waits until the manager reports `n` parked waiters on `object`, as
/// `observer` inspects it.
pub fn parked(observer: &blocking::Client, object: &str, n: u64) -> anyhow::Result<()> {
    wait_until(&format!("{n} waiter(s) parked on `{object}`"), || {
        let snapshot = observer.inspect()?;
        Ok(snapshot
            .object(object)
            .and_then(|o| o.detail.as_ref())
            .is_some_and(|d| d.waiters == n))
    })
}

/// A manager on a private Unix socket, with logs going to the test output
/// when `RUST_LOG` is set.
pub fn start_manager() -> anyhow::Result<Manager> {
    Manager::start().context("start manager")
}

/// A blocking client of `manager` whose calls fail after [`DEADLINE`]
/// instead of hanging.
pub fn connect(manager: &Manager) -> anyhow::Result<blocking::Client> {
    Ok(manager.connect()?.with_timeout(DEADLINE))
}

/// Polls `condition` until it holds or [`DEADLINE`] passes, pausing a little
/// longer each time. For conditions that no event announces (another
/// process's progress, a process's death).
pub fn wait_until(
    what: &str,
    mut condition: impl FnMut() -> anyhow::Result<bool>,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    let mut pause = Duration::from_millis(1);
    loop {
        if condition()? {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("timed out after {DEADLINE:?} waiting until {what}");
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Whether process `pid` has ended (gone, or a zombie nobody reaped).
pub fn process_is_dead(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // The state follows the command name, which is in parentheses.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// Launches one `program` worker running `entry` per item of `args`, all at
/// once, and waits for every one to succeed within [`DEADLINE`].
pub fn run_workers<A: Serialize>(
    manager: &Manager,
    program: &str,
    entry: &str,
    args: impl IntoIterator<Item = A>,
) -> anyhow::Result<()> {
    let launcher = manager.launcher();
    let mut workers = args
        .into_iter()
        .map(|a| launcher.spawn_program(program, entry, &a))
        .collect::<Result<Vec<_>, _>>()?;
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }
    Ok(())
}

/// Polls the manager's inspection through `observer` until `holds` of the
/// detail of object `name` (`what` says what, for the error), or
/// [`DEADLINE`] passes; pausing a little longer each time.
pub async fn until_detail(
    observer: &manager::Client,
    name: &str,
    what: &str,
    holds: impl Fn(&manager::inspect::ObjectDetail) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + DEADLINE;
    let mut pause = Duration::from_millis(1);
    loop {
        let snapshot = observer.inspect().await?;
        if snapshot
            .object(name)
            .and_then(|o| o.detail.as_ref())
            .is_some_and(&holds)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{name}: not {what} after {DEADLINE:?}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// Waits until the object `name` reports `n` parked requests.
pub async fn until_parked(observer: &manager::Client, name: &str, n: u64) -> anyhow::Result<()> {
    until_detail(observer, name, &format!("{n} parked"), |d| d.waiters == n).await
}

/// How many descriptors of this process link to the memfd named `name`
/// (`/proc/self/fd` entries reading `/memfd:NAME (deleted)`): the blocks an
/// embedded manager, or a test's own fake one, holds open.
///
/// # Errors
///
/// `/proc/self/fd` cannot be listed.
pub fn memfds_named(name: &str) -> anyhow::Result<usize> {
    let wanted = format!("/memfd:{name} (deleted)");
    let mut n = 0;
    for entry in std::fs::read_dir("/proc/self/fd")? {
        // An fd may close between the listing and the read.
        if let Ok(target) = std::fs::read_link(entry?.path())
            && target.to_string_lossy() == wanted
        {
            n += 1;
        }
    }
    Ok(n)
}
