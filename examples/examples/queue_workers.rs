//! The classic worker-pool pattern of Python's `multiprocessing`, in Rust:
//! a job queue, worker processes, a result queue, and a sentinel to stop.
//!
//! The Python original:
//!
//! ```text
//! def worker(jobs, results):
//!     for job in iter(jobs.get, None):
//!         results.put((os.getpid(), job, compute(job)))
//!
//! jobs, results = manager.Queue(), manager.Queue()
//! procs = [Process(target=worker, args=(jobs, results)) for _ in range(N)]
//! for job in JOBS: jobs.put(job)
//! for _ in procs: jobs.put(None)
//! ```
//!
//! Here the main process:
//!
//! 1. starts an embedded [`Manager`] and launches [`WORKERS`] copies of this
//!    program as worker processes; each connects with one call, takes jobs
//!    from the bounded queue `jobs` until it takes the `None` sentinel, and
//!    puts a [`Done`] for each into the queue `results`;
//! 2. puts [`JOBS`] jobs into `jobs` (a queue of `Option<Job>` holding at
//!    most [`QUEUE_BOUND`]: `put` waits while the workers catch up), then one
//!    `None` per worker;
//! 3. takes every result from `results`, joins the workers with a deadline,
//!    prints what each worker (by pid) computed, and checks that every job
//!    was done exactly once.
//!
//! Run it with
//!
//! ```text
//! cargo run -p examples --example queue_workers
//! RUST_LOG=manager=debug cargo run -p examples --example queue_workers
//! ```
//!
//! Logs go to stderr, the report to stdout. It exits 0 in well under a
//! second, and with an error if anything is missing or late.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use manager::launcher::Entries;
use manager::{Manager, blocking};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

/// How many worker processes to launch.
const WORKERS: u32 = 3;
/// How many jobs to hand out.
const JOBS: u64 = 24;
/// The most jobs waiting in the queue at once.
const QUEUE_BOUND: usize = 4;
/// The job queue's name.
const JOB_QUEUE: &str = "jobs";
/// The result queue's name.
const RESULT_QUEUE: &str = "results";
/// How long the workers together may take before the example gives up.
const JOIN_DEADLINE: Duration = Duration::from_secs(10);
/// How long any one call may wait, a queue `get` or `put` included.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// One job: count the primes below `below`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Job {
    /// The job's number, from 0.
    id: u64,
    /// Count the primes below this.
    below: u64,
}

/// What a worker puts into `results` for each job.
#[derive(Debug, Serialize, Deserialize)]
struct Done {
    /// The job.
    job: Job,
    /// How many primes there are below `job.below`.
    primes: u64,
    /// The pid of the worker that did it.
    pid: u32,
}

/// The job's work: a deliberately plain prime count.
fn count_primes(below: u64) -> u64 {
    (2..below)
        .filter(|&n| (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count() as u64
}

/// A worker's entry: runs in a child process launched by `main`. Python's
/// `for job in iter(jobs.get, None)`.
fn worker(_: ()) -> Result<()> {
    let client = blocking::Client::from_env()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT);
    let jobs = client.queue::<Option<Job>>(JOB_QUEUE, None)?;
    let results = client.queue::<Done>(RESULT_QUEUE, None)?;
    let pid = std::process::id();
    while let Some(job) = jobs.get()? {
        let primes = count_primes(job.below);
        results.put(&Done { job, primes, pid })?;
    }
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
    Entries::new().entry("worker", worker).run_if_worker();

    let manager = Manager::start().context("start the manager")?;
    let client = manager
        .connect()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT);
    // The bound applies when the queue is created, here, before any worker
    // asks for it by name.
    let jobs = client.queue::<Option<Job>>(JOB_QUEUE, Some(QUEUE_BOUND))?;
    let results = client.queue::<Done>(RESULT_QUEUE, None)?;

    println!("Queue workers example");
    println!("=====================");
    println!("manager listening at {}", manager.address());

    // Dropping a `Worker` that was not joined kills it, so an early return
    // from here on leaves no process behind.
    let started = Instant::now();
    let launcher = manager.launcher();
    let mut workers = (0..WORKERS)
        .map(|_| launcher.spawn("worker", &()))
        .collect::<Result<Vec<_>, _>>()
        .context("launch the workers")?;
    println!(
        "launched {WORKERS} workers (pids {})",
        workers
            .iter()
            .map(|w| w.pid().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );

    // Python: `for job in JOBS: jobs.put(job)`; waits whenever the queue
    // holds QUEUE_BOUND jobs.
    for id in 0..JOBS {
        let job = Job {
            id,
            below: 1_000 * (id + 1),
        };
        jobs.put(&Some(job))?;
    }
    // One sentinel per worker; FIFO puts them after every job.
    for _ in 0..WORKERS {
        jobs.put(&None)?;
    }
    println!("put {JOBS} jobs (at most {QUEUE_BOUND} queued at once) and {WORKERS} sentinels");

    let mut by_worker = BTreeMap::<u32, Vec<Done>>::new();
    for _ in 0..JOBS {
        let done = results
            .get_timeout(JOIN_DEADLINE)
            .context("wait for a result")?;
        by_worker.entry(done.pid).or_default().push(done);
    }

    let deadline = started + JOIN_DEADLINE;
    for worker in &mut workers {
        let left = deadline.saturating_duration_since(Instant::now());
        worker.join_timeout(left)?;
    }
    println!(
        "all {WORKERS} workers finished in {} ms",
        started.elapsed().as_millis()
    );

    println!();
    println!("results by worker:");
    for worker in &workers {
        let pid = worker.pid();
        let done = by_worker.get(&pid).map_or(&[][..], Vec::as_slice);
        println!("  worker pid {pid}: {} jobs", done.len());
        for d in done {
            println!(
                "    job {:>2}: {:>4} primes below {}",
                d.job.id, d.primes, d.job.below
            );
        }
    }

    let mut ids: Vec<u64> = by_worker.values().flatten().map(|d| d.job.id).collect();
    ids.sort_unstable();
    ensure!(
        ids == (0..JOBS).collect::<Vec<_>>(),
        "every job done exactly once; got {ids:?}"
    );
    ensure!(
        by_worker
            .keys()
            .all(|pid| workers.iter().any(|w| w.pid() == *pid)),
        "a result came from an unknown process"
    );
    let wrong: Vec<_> = by_worker
        .values()
        .flatten()
        .filter(|d| d.primes != count_primes(d.job.below))
        .map(|d| d.job.id)
        .collect();
    ensure!(wrong.is_empty(), "wrong results for jobs {wrong:?}");
    ensure!(jobs.is_empty()? && results.is_empty()?, "queues drained");
    println!();
    println!(
        "ok: {JOBS} jobs, each done exactly once, by {} workers",
        by_worker.len()
    );

    manager.shutdown();
    Ok(())
}
