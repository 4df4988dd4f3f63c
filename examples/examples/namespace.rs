//! The Namespace example of Python's `multiprocessing.Manager`, in Rust.
//!
//! The Python original sets `ns.x = 1` in the main process, starts a
//! `Process` that prints `ns.x` and sets an attribute of its own, joins it
//! and prints the namespace again. Here the main process:
//!
//! 1. starts an embedded [`Manager`] and sets a few attributes on the
//!    namespace `shared`;
//! 2. launches [`WORKERS`] copies of this program as worker processes; each
//!    connects with one call, reads the main process's attributes, writes a
//!    `worker-<pid>` attribute saying what it saw and did, overwrites
//!    `last_writer` (plain sets: the last one wins) and adds 1 to `counter`
//!    [`ADDS`] times (atomic adds: none is lost);
//! 3. joins the workers with a deadline, prints what each did and the final
//!    attributes, and checks that `counter` is `WORKERS * ADDS`.
//!
//! Run it with
//!
//! ```text
//! cargo run -p examples --example namespace
//! RUST_LOG=manager=debug cargo run -p examples --example namespace
//! ```
//!
//! Logs go to stderr, the report to stdout.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use manager::Encoded;
use manager::launcher::Entries;
use manager::{Manager, blocking};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

/// How many worker processes to launch.
const WORKERS: u32 = 3;
/// How many times each worker adds 1 to `counter`.
const ADDS: i64 = 1000;
/// The namespace everyone shares.
const NAMESPACE: &str = "shared";
/// How long the workers together may take before the example gives up.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);
/// How long any one call may wait for the manager.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// What the main process hands each worker (the `args` of Python's
/// `Process(target=..., args=...)`).
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    /// The worker's number, from 1.
    index: u32,
    /// How many times to add 1 to `counter`.
    adds: i64,
}

/// What a worker saw and did, stored under `worker-<pid>`.
#[derive(Debug, Serialize, Deserialize)]
struct WorkerReport {
    /// Its number.
    index: u32,
    /// The value of `x` when it started.
    saw_x: i64,
    /// The value of `greeting` when it started.
    saw_greeting: String,
    /// How many adds it made.
    adds: i64,
    /// What `add` returned the last time: the counter after its last add,
    /// with the other workers' adds up to then included.
    counter_after_last_add: i64,
}

/// A worker's entry: runs in a child process launched by `main`.
fn worker(job: Job) -> Result<()> {
    let pid = std::process::id();
    let ns = blocking::Client::from_env()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT)
        .namespace(NAMESPACE)?;

    // Python: `print(ns.x)`.
    let saw_x: i64 = ns.get("x")?;
    let saw_greeting: String = ns.get("greeting")?;

    let mut counter_after_last_add = 0;
    for _ in 0..job.adds {
        counter_after_last_add = ns.add("counter", 1)?;
    }
    // Every worker overwrites this; whoever writes last wins.
    ns.set("last_writer", &pid)?;

    let report = WorkerReport {
        index: job.index,
        saw_x,
        saw_greeting,
        adds: job.adds,
        counter_after_last_add,
    };
    ns.set(&format!("worker-{pid}"), &report)?;
    Ok(())
}

fn main() -> Result<()> {
    // Installed before `run_if_worker` so that workers, which run this same
    // program and inherit RUST_LOG, log too.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // In a worker process this runs the entry and exits; here it returns.
    Entries::new()
        .entry("use_namespace", worker)
        .run_if_worker();

    let manager = Manager::start().context("start the manager")?;
    let ns = manager
        .connect()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT)
        .namespace(NAMESPACE)?;

    // Python: `ns.x = 1`.
    ns.set("x", &1_i64)?;
    ns.set("greeting", "hello from the main process")?;
    ns.set("counter", &0_i64)?;

    println!("Namespace example");
    println!("=================");
    println!("manager listening at {}", manager.address());
    println!();
    println!("main process (pid {}) set:", std::process::id());
    print_attributes(&ns)?;

    // Dropping a `Worker` that was not joined kills it, so an early return
    // from here on leaves no process behind.
    let started = Instant::now();
    let launcher = manager.launcher();
    let mut workers = (1..=WORKERS)
        .map(|index| launcher.spawn("use_namespace", &Job { index, adds: ADDS }))
        .collect::<Result<Vec<_>, _>>()
        .context("launch the workers")?;
    println!();
    println!(
        "launched {WORKERS} workers (pids {}); each adds 1 to `counter` {ADDS} times",
        workers
            .iter()
            .map(|w| w.pid().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let deadline = started + JOIN_DEADLINE;
    for worker in &mut workers {
        let left = deadline.saturating_duration_since(Instant::now());
        worker.join_timeout(left)?;
    }
    println!(
        "all {WORKERS} workers finished in {} ms",
        started.elapsed().as_millis()
    );

    let snapshot = ns.snapshot()?;
    println!();
    println!("what each worker did:");
    for worker in &workers {
        let pid = worker.pid();
        let report: WorkerReport = snapshot
            .get(&format!("worker-{pid}"))
            .with_context(|| format!("worker pid {pid} left no report"))?;
        ensure!(report.saw_x == 1, "worker {pid} read x = {}", report.saw_x);
        println!("  worker {}, pid {pid}", report.index);
        println!(
            "    read   x = {}, greeting = {:?}",
            report.saw_x, report.saw_greeting
        );
        println!(
            "    added  1 to counter {} times; its last add returned {}",
            report.adds, report.counter_after_last_add
        );
        println!("    wrote  worker-{pid}, last_writer");
    }

    println!();
    println!(
        "final attributes of namespace `{}` ({}):",
        ns.name(),
        snapshot.len()
    );
    print_snapshot(&snapshot);

    let counter: i64 = snapshot.get("counter")?;
    let expected = i64::from(WORKERS) * ADDS;
    ensure!(
        counter == expected,
        "counter is {counter}, expected {WORKERS} workers x {ADDS} adds = {expected}"
    );
    let last_writer: u32 = snapshot.get("last_writer")?;
    ensure!(
        workers.iter().any(|w| w.pid() == last_writer),
        "last_writer {last_writer} is not one of the workers"
    );
    println!();
    println!("ok: counter = {counter} = {WORKERS} workers x {ADDS} adds, no update lost");
    println!("    last_writer = {last_writer}: plain sets overwrite, the last one wins");

    manager.shutdown();
    Ok(())
}

/// Prints every attribute of `ns`, one a line, names aligned.
fn print_attributes(ns: &blocking::Namespace) -> Result<()> {
    print_snapshot(&ns.snapshot()?);
    Ok(())
}

fn print_snapshot(snapshot: &blocking::NamespaceSnapshot) {
    let width = snapshot.names().map(str::len).max().unwrap_or(0);
    for (name, value) in snapshot.iter() {
        println!("  {name:<width$} = {}", render(value));
    }
}

/// Shows a stored value, decoding it as whichever of the types this example
/// stores its tag names.
fn render(value: &Encoded) -> String {
    if let Ok(n) = value.decode::<i64>("") {
        n.to_string()
    } else if let Ok(n) = value.decode::<u32>("") {
        n.to_string()
    } else if let Ok(s) = value.decode::<String>("") {
        format!("{s:?}")
    } else if let Ok(report) = value.decode::<WorkerReport>("") {
        format!(
            "{{ index: {}, saw_x: {}, adds: {}, counter_after_last_add: {} }}",
            report.index, report.saw_x, report.adds, report.counter_after_last_add
        )
    } else {
        format!("<{} bytes of {}>", value.bytes().len(), value.tag())
    }
}
