//! N clients on N objects: how a manager's throughput grows with its
//! threads, every row measured against the same rows on one thread in the
//! same run.
//!
//! Run it with `cargo bench -p manager --bench threads`; docs/benchmarks.md
//! has the figures and how to read them.
//!
//! Each client is a blocking client on a thread of its own with its own
//! connection (as the manager sees them, the same as a process each), and
//! works on an object of its own, so nothing but the manager's threads is
//! shared. Two workloads:
//!
//! - **scan**: `count` on a list of [`LIST_LEN`] integers: the manager scans
//!   the list (tens of microseconds) and answers one number, so the
//!   manager's CPU is the bottleneck, as with any expensive request;
//! - **get**: a namespace `get` of one small value: the cheapest round trip,
//!   where the clients' own CPU and the sockets weigh as much as the
//!   manager's.
//!
//! Every client count runs on a manager of 1 thread and of each count in
//! `BENCH_THREADS`, in alternating rounds, and each row reports ops/s
//! (median of the rounds) and its ratio to the same clients on one thread.
//! Threads are left to the scheduler: on this 2-CPU machine the clients
//! compete with the manager for the same two CPUs, so the gain is bounded
//! well below 2x for the cheap row (see docs/benchmarks.md for what it
//! would do on more cores).
//!
//! # Settings
//!
//! - `BENCH_THREADS` (default `2`): the manager thread counts to compare
//!   with 1, comma-separated.
//! - `BENCH_ROUNDS` (default 5) and `BENCH_ROW_MS` (default 300).
//!
//! Without `--bench` (as `cargo test --benches` runs it) every row runs
//! once for a few milliseconds, as a smoke test.
//!
//! # Bounded
//!
//! Every client has a call timeout; a watchdog ends the process if the run
//! overruns ten minutes.

use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use manager::{Manager, blocking};

/// Items of each client's list in the scan rows.
const LIST_LEN: usize = 10_000;
/// Client counts.
const CLIENTS: [usize; 3] = [1, 2, 4];
/// The longest any one call may take before the bench fails.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest the whole run may take.
const RUN_LIMIT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Workload {
    Scan,
    Get,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::Scan => "scan (list count, 10k items)",
            Workload::Get => "get (namespace, one value)",
        }
    }
}

struct Settings {
    threads: Vec<usize>,
    rounds: usize,
    row: Duration,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let bench = std::env::args().any(|a| a == "--bench");
        let number = |name: &str, default: usize| -> anyhow::Result<usize> {
            match std::env::var(name) {
                Ok(text) => text.parse().with_context(|| format!("{name}: `{text}`")),
                Err(_) => Ok(default),
            }
        };
        let threads = match std::env::var("BENCH_THREADS") {
            Ok(text) => text
                .split(',')
                .map(|t| {
                    t.trim()
                        .parse::<usize>()
                        .with_context(|| format!("BENCH_THREADS: `{t}`"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?,
            Err(_) => vec![2],
        };
        ensure!(
            threads.iter().all(|&t| t >= 1),
            "BENCH_THREADS: every count must be at least 1"
        );
        Ok(if bench {
            Settings {
                threads,
                rounds: number("BENCH_ROUNDS", 5)?.max(1),
                row: Duration::from_millis(number("BENCH_ROW_MS", 300)? as u64),
            }
        } else {
            Settings {
                threads,
                rounds: 1,
                row: Duration::from_millis(5),
            }
        })
    }
}

fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    thread::Builder::new()
        .name("watchdog".into())
        .spawn(|| {
            thread::sleep(RUN_LIMIT);
            eprintln!("threads bench: overran {RUN_LIMIT:?}; giving up");
            std::process::exit(2);
        })
        .context("start the watchdog")?;
    let mut counts = vec![1];
    counts.extend(settings.threads.iter().copied().filter(|&t| t != 1));
    println!(
        "threads: {} round(s) x {} ms per row, manager threads {:?}, {} cpus",
        settings.rounds,
        settings.row.as_millis(),
        counts,
        thread::available_parallelism().map_or(1, usize::from),
    );
    for workload in [Workload::Scan, Workload::Get] {
        println!("\n{}", workload.name());
        println!("| clients | manager threads | ops/s (median) | vs 1 thread |\n|---|---|---|---|");
        for clients in CLIENTS {
            // samples[i]: the rounds of counts[i] threads.
            let mut samples: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
            for _ in 0..settings.rounds {
                for (i, &threads) in counts.iter().enumerate() {
                    samples[i].push(run_row(workload, threads, clients, settings.row)?);
                }
            }
            let medians: Vec<f64> = samples.iter_mut().map(|s| median(s)).collect();
            for (i, &threads) in counts.iter().enumerate() {
                println!(
                    "| {clients} | {threads} | {:.0} | {:.2}x |",
                    medians[i],
                    medians[i] / medians[0]
                );
            }
        }
    }
    Ok(())
}

/// One row of one round: a fresh manager of `threads` threads, `clients`
/// clients each on its own object for `row`; total ops/s.
fn run_row(
    workload: Workload,
    threads: usize,
    clients: usize,
    row: Duration,
) -> anyhow::Result<f64> {
    let manager = Manager::builder().threads(threads).start()?;
    let start = Arc::new(Barrier::new(clients + 1));
    let mut workers = Vec::with_capacity(clients);
    for c in 0..clients {
        let client = manager.connect()?.with_timeout(CALL_TIMEOUT);
        let op = prepare(workload, &client, c)?;
        let start = start.clone();
        workers.push(thread::spawn(move || -> anyhow::Result<u64> {
            start.wait();
            let began = Instant::now();
            let mut ops = 0_u64;
            while began.elapsed() < row {
                op.call()?;
                ops += 1;
            }
            Ok(ops)
        }));
    }
    start.wait();
    let began = Instant::now();
    let mut total = 0;
    for worker in workers {
        total += worker.join().expect("client thread")?;
    }
    let elapsed = began.elapsed();
    manager.shutdown();
    Ok(total as f64 / elapsed.as_secs_f64())
}

/// One client's object, ready for its calls.
enum Op {
    Scan(blocking::List<i64>),
    Get(blocking::Namespace),
}

impl Op {
    fn call(&self) -> anyhow::Result<()> {
        match self {
            Op::Scan(list) => {
                // The value is the last item: a full scan.
                let n = list.count(&(LIST_LEN as i64 - 1))?;
                ensure!(n == 1, "count found {n}, not 1");
            }
            Op::Get(ns) => {
                let v: i64 = ns.get("x")?;
                ensure!(v == 1, "got {v}, not 1");
            }
        }
        Ok(())
    }
}

fn prepare(workload: Workload, client: &blocking::Client, c: usize) -> anyhow::Result<Op> {
    Ok(match workload {
        Workload::Scan => {
            let list = client.list::<i64>(&format!("scan-{c}"))?;
            let items: Vec<i64> = (0..LIST_LEN as i64).collect();
            list.extend(&items)?;
            Op::Scan(list)
        }
        Workload::Get => {
            let ns = client.namespace(&format!("get-{c}"))?;
            ns.set("x", &1_i64)?;
            Op::Get(ns)
        }
    })
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}
