//! Inspecting a manager: what objects it holds and how busy each has been.
//!
//! The main process starts an embedded [`Manager`] and fills a few
//! namespaces: `config` (settings the workers read), `stats` (counters every
//! worker adds to), one namespace per job (`jobs/resize`, `jobs/upload`:
//! progress of that job) and `scratch` (which no worker touches). It then
//! launches [`WORKERS`] worker processes; each reads `config`, does a fixed
//! number of work units on its job, counting them in the job's namespace
//! and in `stats`, and exits.
//!
//! Once all workers have ended (joined with a deadline), the main process
//! checks the counts and prints the registry, as [`blocking::Client::objects`]
//! lists it, as a table: name, kind, id and how many requests each object
//! has handled.
//!
//! Run it with
//!
//! ```text
//! cargo run -p examples --example inspect
//! RUST_LOG=debug cargo run -p examples --example inspect
//! ```
//!
//! Logs go to stderr, the report to stdout.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use manager_ipc::ObjectSummary;
use manager_ipc::launcher::Entries;
use manager_ipc::{Manager, blocking};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

/// How many worker processes to launch.
const WORKERS: u32 = 4;
/// How many work units each worker does.
const UNITS: i64 = 250;
/// The jobs; see [`job_of`] for who works on which.
const JOBS: [&str; 2] = ["jobs/resize", "jobs/upload"];
/// How long the workers together may take before the example gives up.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);
/// How long any one call may wait for the manager.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// What the main process hands each worker.
#[derive(Debug, Serialize, Deserialize)]
struct Assignment {
    /// The namespace of the job to work on.
    job: String,
}

/// A worker's entry: runs in a child process launched by `main`.
fn worker(assignment: Assignment) -> Result<()> {
    let pid = std::process::id();
    let client = blocking::Client::from_env()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT);
    let config = client.namespace("config")?;
    let stats = client.namespace("stats")?;
    let job = client.namespace(&assignment.job)?;

    let units: i64 = config.get("units_per_worker")?;
    let app: String = config.get("app")?;

    for _ in 0..units {
        job.add("done", 1)?;
        stats.add("units", 1)?;
    }
    job.set(&format!("worker-{pid}"), &format!("{app}: {units} units"))?;
    stats.add("workers_finished", 1)?;
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
    Entries::new().entry("do_units", worker).run_if_worker();

    let manager = Manager::start().context("start the manager")?;
    let client = manager
        .connect()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT);

    let config = client.namespace("config")?;
    config.set("app", "thumbnailer")?;
    config.set("units_per_worker", &UNITS)?;
    config.set("workers", &WORKERS)?;
    let stats = client.namespace("stats")?;
    stats.set("units", &0_i64)?;
    stats.set("workers_finished", &0_i64)?;
    for name in JOBS {
        let job = client.namespace(name)?;
        job.set("done", &0_i64)?;
        job.set("total", &(UNITS * workers_on(name)))?;
    }
    client
        .namespace("scratch")?
        .set("note", "nobody reads this")?;

    // Dropping a `Worker` that was not joined kills it, so an early return
    // from here on leaves no process behind.
    let started = Instant::now();
    let launcher = manager.launcher();
    let mut workers = (0..WORKERS)
        .map(|i| {
            let job = job_of(i).to_owned();
            launcher.spawn("do_units", &Assignment { job })
        })
        .collect::<Result<Vec<_>, _>>()
        .context("launch the workers")?;
    let deadline = started + JOIN_DEADLINE;
    for worker in &mut workers {
        worker.join_timeout(deadline.saturating_duration_since(Instant::now()))?;
    }
    let elapsed = started.elapsed();

    // Check the work before listing, so the table shows these reads too.
    for name in JOBS {
        let job = client.namespace(name)?;
        let (done, total): (i64, i64) = (job.get("done")?, job.get("total")?);
        ensure!(done == total, "{name}: {done} units done of {total}");
    }
    let units: i64 = stats.get("units")?;
    ensure!(
        units == i64::from(WORKERS) * UNITS,
        "stats.units is {units}, expected {WORKERS} x {UNITS}"
    );
    ensure!(
        stats.get::<i64>("workers_finished")? == i64::from(WORKERS),
        "not every worker counted itself finished"
    );

    let objects = client.objects()?;
    for object in &objects {
        ensure!(
            object.messages_handled > 0,
            "object `{}` handled no messages",
            object.name
        );
    }

    println!("Inspect example");
    println!("===============");
    println!("manager listening at {}", manager.address());
    println!(
        "{WORKERS} workers did {UNITS} units each on {} jobs in {} ms, then exited",
        JOBS.len(),
        elapsed.as_millis()
    );
    println!();
    println!("registry ({} objects):", objects.len());
    print_table(&objects);
    println!();
    println!("ok: every job is done and stats.units = {units}");

    manager.shutdown();
    Ok(())
}

/// The job worker `index` works on.
fn job_of(index: u32) -> &'static str {
    JOBS[index as usize % JOBS.len()]
}

/// How many workers work on job `name`.
fn workers_on(name: &str) -> i64 {
    (0..WORKERS).filter(|&i| job_of(i) == name).map(|_| 1).sum()
}

/// Prints the registry as a table with aligned columns and a total.
fn print_table(objects: &[ObjectSummary]) {
    let rows: Vec<[String; 4]> = objects
        .iter()
        .map(|o| {
            [
                o.name.to_string(),
                o.kind.to_string(),
                o.id.to_string(),
                o.messages_handled.to_string(),
            ]
        })
        .collect();
    let total: u64 = objects.iter().map(|o| o.messages_handled).sum();
    let header = ["NAME", "KIND", "ID", "MESSAGES HANDLED"];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    widths[3] = widths[3].max(total.to_string().len());
    let [w0, w1, w2, w3] = widths;

    let [name, kind, id, handled] = header;
    println!("  {name:<w0$}  {kind:<w1$}  {id:>w2$}  {handled:>w3$}");
    println!("  {}", "-".repeat(w0 + w1 + w2 + w3 + 6));
    for [name, kind, id, handled] in &rows {
        println!("  {name:<w0$}  {kind:<w1$}  {id:>w2$}  {handled:>w3$}");
    }
    println!("  {}", "-".repeat(w0 + w1 + w2 + w3 + 6));
    let (label, empty) = ("total", "");
    println!("  {label:<w0$}  {empty:<w1$}  {empty:>w2$}  {total:>w3$}");
}
