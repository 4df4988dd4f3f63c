//! A shared counter, three ways, across worker processes.
//!
//! [`WORKERS`] worker processes each add 1 to a counter in the namespace
//! `counters` [`ADDS`] times, once in each of three ways:
//!
//! 1. **under a lock**: take the shared `Lock`, read the counter, write it
//!    back plus one, release (Python's `with lock: ns.x = ns.x + 1`);
//! 2. **atomic add**: one `add` request that the namespace applies whole
//!    (Python has no such thing; its `ns.x += 1` is a read and a write);
//! 3. **unlocked**: read, then write back plus one, with nothing in
//!    between. Two workers that read the same value both write value + 1,
//!    and one of the two updates is lost.
//!
//! The main process prints each final value, how many updates were lost
//! and how long each way took, and checks that the first two lost nothing.
//! The third usually loses a good share; how many depends on the timing.
//!
//! Run it with
//!
//! ```text
//! cargo run -p examples --example counter
//! RUST_LOG=manager=debug cargo run -p examples --example counter
//! ```
//!
//! Logs go to stderr, the report to stdout.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use manager::launcher::Entries;
use manager::{Manager, blocking};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

/// How many worker processes add to the counter.
const WORKERS: u32 = 4;
/// How many times each worker adds 1, in each way.
const ADDS: u32 = 1000;
/// The namespace holding the counters.
const NAMESPACE: &str = "counters";
/// The lock that guards the read-modify-write.
const LOCK: &str = "counter-lock";
/// How long the workers of one way together may take.
const JOIN_DEADLINE: Duration = Duration::from_secs(30);
/// How long any one call may wait for the manager.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// One way of adding 1 to a shared counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Way {
    /// Read and write back plus one, holding the lock.
    Locked,
    /// One atomic `add` request.
    AtomicAdd,
    /// Read and write back plus one, with no lock.
    Unlocked,
}

impl Way {
    const ALL: [Way; 3] = [Way::Locked, Way::AtomicAdd, Way::Unlocked];

    /// The counter's attribute in the namespace.
    fn attribute(self) -> &'static str {
        match self {
            Way::Locked => "locked",
            Way::AtomicAdd => "atomic_add",
            Way::Unlocked => "unlocked",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Way::Locked => "get + set under a Lock",
            Way::AtomicAdd => "atomic add (one request)",
            Way::Unlocked => "get + set, no lock",
        }
    }
}

/// What the main process hands each worker.
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    /// How to add.
    way: Way,
    /// How many times to add 1.
    adds: u32,
}

/// A worker's entry: runs in a child process launched by `main`.
fn worker(job: Job) -> Result<()> {
    let client = blocking::Client::from_env()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT);
    let ns = client.namespace(NAMESPACE)?;
    let lock = client.lock(LOCK)?;
    let attribute = job.way.attribute();
    for _ in 0..job.adds {
        match job.way {
            Way::Locked => {
                // Released when `_guard` goes out of scope, even on error.
                let _guard = lock.lock()?;
                let n: i64 = ns.get(attribute)?;
                ns.set(attribute, &(n + 1))?;
            }
            Way::AtomicAdd => {
                ns.add(attribute, 1)?;
            }
            Way::Unlocked => {
                let n: i64 = ns.get(attribute)?;
                ns.set(attribute, &(n + 1))?;
            }
        }
    }
    Ok(())
}

/// How one way ended.
struct Outcome {
    way: Way,
    value: i64,
    elapsed: Duration,
}

fn main() -> Result<()> {
    // Installed before `run_if_worker` so that workers, which run this same
    // program and inherit RUST_LOG, log too.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // In a worker process this runs the entry and exits; here it returns.
    Entries::new().entry("add", worker).run_if_worker();

    let manager = Manager::start().context("start the manager")?;
    let ns = manager
        .connect()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT)
        .namespace(NAMESPACE)?;
    let expected = i64::from(WORKERS) * i64::from(ADDS);

    println!("Counter example");
    println!("===============");
    println!("manager listening at {}", manager.address());
    println!("{WORKERS} worker processes each add 1 to a shared counter {ADDS} times, three ways");
    println!();

    let mut outcomes = Vec::new();
    for way in Way::ALL {
        ns.set(way.attribute(), &0_i64)?;
        let started = Instant::now();
        // Dropping a `Worker` that was not joined kills it, so an early
        // return leaves no process behind.
        let mut workers = (0..WORKERS)
            .map(|_| manager.launcher().spawn("add", &Job { way, adds: ADDS }))
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("launch the workers of `{}`", way.describe()))?;
        let deadline = started + JOIN_DEADLINE;
        for worker in &mut workers {
            worker.join_timeout(deadline.saturating_duration_since(Instant::now()))?;
        }
        outcomes.push(Outcome {
            way,
            value: ns.get(way.attribute())?,
            elapsed: started.elapsed(),
        });
    }

    println!("  {:<26} {:>7} {:>9} {:>9}", "way", "final", "lost", "time");
    for Outcome {
        way,
        value,
        elapsed,
    } in &outcomes
    {
        println!(
            "  {:<26} {value:>7} {:>9} {:>6} ms",
            way.describe(),
            expected - value,
            elapsed.as_millis()
        );
    }
    println!();

    for outcome in &outcomes {
        match outcome.way {
            Way::Locked | Way::AtomicAdd => ensure!(
                outcome.value == expected,
                "`{}` ended at {}, expected {expected}",
                outcome.way.describe(),
                outcome.value
            ),
            Way::Unlocked => ensure!(
                (1..=expected).contains(&outcome.value),
                "unlocked counter ended at {}, outside 1..={expected}",
                outcome.value
            ),
        }
    }
    let unlocked = outcomes
        .iter()
        .find(|o| o.way == Way::Unlocked)
        .map_or(expected, |o| o.value);
    println!("ok: under the lock and with atomic adds, all {expected} updates arrived");
    if unlocked < expected {
        println!(
            "    without the lock, {} of {expected} updates ({:.1}%) were lost:\n    \
             workers that read the same value all wrote back that value plus one",
            expected - unlocked,
            100.0 * (expected - unlocked) as f64 / expected as f64
        );
    } else {
        println!("    without the lock, this run happened to lose nothing; run it again");
    }

    manager.shutdown();
    Ok(())
}
