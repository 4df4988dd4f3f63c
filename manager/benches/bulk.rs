//! Bulk calls against one call per item, and against Python's Manager,
//! with real worker processes: items move through a queue and land in a
//! dict.
//!
//! Run it with `cargo bench -p manager --bench bulk`; docs/benchmarks.md
//! has the figures.
//!
//! Four worker processes (started by our launcher, as a user's would be):
//! two producers put [`ITEMS`] integers each into a queue, and two consumers
//! take half of all of them each and write every item `i` into a dict as
//! `i -> 2 i`. The clock runs from the moment all four have connected
//! (they meet in a manager `Barrier` with the main process) until the last
//! has finished. Two ways:
//!
//! - **per item**: `put`, `get` and `insert` for each item;
//! - **bulk**: `put_many`, `get_many` and `update`, [`BATCH`] items a call.
//!
//! After each run the dict must hold every item exactly once, with its
//! value, or the bench fails: nothing lost, nothing twice.
//!
//! **Python**: the same with `multiprocessing.Manager()` (a `Queue`, a
//! `dict`, a `Barrier`), if `python3` is there: per item (`q.put(i)`,
//! `q.get()`, `d[i] = 2 * i`), and batched the way a Python user batches,
//! since Python's queue has no bulk call: a list of [`BATCH`] items per
//! `q.put`, and `d.update(...)` per list. Python runs fewer items (its
//! rates do not depend on the count); rows report items/s and the ratio.
//!
//! # Settings
//!
//! - `BENCH_ROUNDS` (default 3): runs of each way; the median is reported.
//! - `BENCH_SKIP_PYTHON=1`: skip Python.
//! - `BENCH_MANAGER_THREADS` (default: the manager's default, the CPUs):
//!   the manager's threads.
//! - `BENCH_WAYS=bulk,chunks` (default: all): only these of `item`,
//!   `bulk` and `chunks` (to profile one); a way not run shows as 0.
//!
//! Without `--bench` (as `cargo test --benches` runs it) every way runs
//! once with a few items, as a smoke test, without Python.
//!
//! # Bounded
//!
//! Every call has a timeout, workers are joined with a deadline (dropping
//! a worker kills it), and Python is killed after two minutes.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use manager::launcher::Entries;
use manager::{Manager, blocking};
use serde::{Deserialize, Serialize};

/// Items each producer puts (the consumers take as many each).
const ITEMS: u64 = 50_000;
/// Items each Python producer puts, per item and batched.
const PYTHON_ITEMS: u64 = 5_000;
const PYTHON_BATCHED_ITEMS: u64 = 50_000;
/// Items per bulk call (and per Python list).
const BATCH: usize = 256;
/// Producers and consumers.
const PRODUCERS: u64 = 2;
const CONSUMERS: u64 = 2;
/// The deadline of every call.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long one run may take.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// What a worker does.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Job {
    /// Produce items `first..first + count`, or consume `count` items.
    role: Role,
    first: u64,
    count: u64,
    /// Items per call; `None`: one call per item.
    batch: Option<usize>,
    /// Move whole chunks as queue items (`Queue<Vec<u64>>`).
    chunks: bool,
    /// The run's objects.
    queue: String,
    dict: String,
    barrier: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum Role {
    Produce,
    Consume,
}

fn worker(job: Job) -> anyhow::Result<()> {
    let client = blocking::Client::from_env()?.with_timeout(CALL_TIMEOUT);
    let dict = client.dict::<u64, u64>(&job.dict)?;
    let barrier = client.barrier(&job.barrier, (PRODUCERS + CONSUMERS + 1) as usize)?;
    if job.chunks {
        let queue = client.queue::<Vec<u64>>(&job.queue, None)?;
        let batch = job.batch.unwrap_or(BATCH);
        barrier.wait()?;
        match job.role {
            Role::Produce => {
                let items: Vec<u64> = (job.first..job.first + job.count).collect();
                for chunk in items.chunks(batch) {
                    queue.put(&chunk.to_vec())?;
                }
            }
            Role::Consume => loop {
                // Chunks are not split, so a consumer cannot count its
                // share: it stops at an empty chunk, the end mark the main
                // process puts once the producers are done (as Python's
                // consumers stop at `None`).
                let items = queue.get()?;
                if items.is_empty() {
                    break;
                }
                let values: Vec<u64> = items.iter().map(|&i| 2 * i).collect();
                dict.update(items.iter().zip(&values))?;
            },
        }
        return Ok(());
    }
    let queue = client.queue::<u64>(&job.queue, None)?;
    barrier.wait()?;
    match (job.role, job.batch) {
        (Role::Produce, None) => {
            for i in job.first..job.first + job.count {
                queue.put(&i)?;
            }
        }
        (Role::Produce, Some(batch)) => {
            let items: Vec<u64> = (job.first..job.first + job.count).collect();
            for chunk in items.chunks(batch) {
                let n = queue.put_many(chunk)?;
                ensure!(n == chunk.len(), "put {n} of {}", chunk.len());
            }
        }
        (Role::Consume, None) => {
            for _ in 0..job.count {
                let i = queue.get()?;
                dict.insert(&i, &(2 * i))?;
            }
        }
        (Role::Consume, Some(batch)) => {
            let mut left = job.count as usize;
            while left > 0 {
                let items = queue.get_many(batch.min(left))?;
                ensure!(!items.is_empty(), "get_many answered nothing");
                left -= items.len();
                let values: Vec<u64> = items.iter().map(|&i| 2 * i).collect();
                dict.update(items.iter().zip(&values))?;
            }
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    Entries::new().entry("bulk-worker", worker).run_if_worker();
    let bench = std::env::args().any(|a| a == "--bench");
    let rounds = if bench {
        std::env::var("BENCH_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3_usize)
            .max(1)
    } else {
        1
    };
    let items = if bench { ITEMS } else { 500 };
    let python =
        bench && !std::env::var("BENCH_SKIP_PYTHON").is_ok_and(|v| !v.is_empty() && v != "0");
    let threads = std::env::var("BENCH_MANAGER_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(manager::limits::default_threads);
    let manager = Manager::builder()
        .threads(threads)
        .start()
        .context("start the manager")?;
    println!(
        "bulk: {PRODUCERS} producer and {CONSUMERS} consumer processes, {items} items per producer, \
         batches of {BATCH}, {rounds} round(s), manager threads {threads}"
    );
    let ways = std::env::var("BENCH_WAYS").unwrap_or_default();
    let wanted = |way: &str| ways.is_empty() || ways.split(',').any(|w| w.trim() == way);
    let mut per_item = Vec::new();
    let mut bulk = Vec::new();
    let mut chunks = Vec::new();
    for round in 0..rounds {
        if wanted("item") {
            per_item.push(run(&manager, round, items, None, false)?);
        }
        if wanted("bulk") {
            bulk.push(run(&manager, round, items, Some(BATCH), false)?);
        }
        if wanted("chunks") {
            chunks.push(run(&manager, round, items, Some(BATCH), true)?);
        }
    }
    let per_item = median(&mut per_item);
    let bulk = median(&mut bulk);
    let chunks = median(&mut chunks);
    println!("\n| way | items/s (median) | vs ours per item |\n|---|---|---|");
    println!("| ours, per item (put, get, insert) | {per_item:.0} | 1.00x |");
    println!(
        "| ours, bulk (put_many, get_many, update; {BATCH} a call) | {bulk:.0} | {:.2}x |",
        bulk / per_item
    );
    println!(
        "| ours, chunks (a Vec of {BATCH} per put, update) | {chunks:.0} | {:.2}x |",
        chunks / per_item
    );
    if python {
        match run_python()? {
            Some((py_item, py_batched)) => {
                println!(
                    "| Python, per item (q.put, q.get, d[k] = v) | {py_item:.0} | {:.3}x |",
                    py_item / per_item
                );
                println!(
                    "| Python, batched (a list of {BATCH} per q.put, d.update) | {py_batched:.0} | {:.3}x |",
                    py_batched / per_item
                );
                println!(
                    "\nours bulk / Python batched: {:.2}x; ours chunks / Python batched: {:.2}x; \
                     ours per item / Python per item: {:.2}x",
                    bulk / py_batched,
                    chunks / py_batched,
                    per_item / py_item
                );
            }
            None => println!("\nPython skipped: no python3"),
        }
    }
    manager.shutdown();
    Ok(())
}

/// One run: fresh objects, four workers; items/s moved into the dict.
fn run(
    manager: &Manager,
    round: usize,
    items: u64,
    batch: Option<usize>,
    chunks: bool,
) -> anyhow::Result<f64> {
    let tag = format!(
        "{}{}-{round}",
        batch.map_or("item".to_owned(), |b| format!("bulk{b}")),
        if chunks { "-chunks" } else { "" }
    );
    let client = manager.connect()?.with_timeout(CALL_TIMEOUT);
    let (queue, dict, barrier) = (format!("q-{tag}"), format!("d-{tag}"), format!("b-{tag}"));
    let start = client.barrier(&barrier, (PRODUCERS + CONSUMERS + 1) as usize)?;
    let mut jobs = Vec::new();
    for p in 0..PRODUCERS {
        jobs.push(Job {
            role: Role::Produce,
            first: p * items,
            count: items,
            batch,
            chunks,
            queue: queue.clone(),
            dict: dict.clone(),
            barrier: barrier.clone(),
        });
    }
    for _ in 0..CONSUMERS {
        jobs.push(Job {
            role: Role::Consume,
            first: 0,
            count: items * PRODUCERS / CONSUMERS,
            batch,
            chunks,
            queue: queue.clone(),
            dict: dict.clone(),
            barrier: barrier.clone(),
        });
    }
    let mut workers = jobs
        .iter()
        .map(|job| manager.launcher().spawn("bulk-worker", job))
        .collect::<Result<Vec<_>, _>>()?;
    start.wait()?;
    let began = Instant::now();
    for (i, worker) in workers.iter_mut().enumerate() {
        if chunks && i == PRODUCERS as usize {
            let queue = client.queue::<Vec<u64>>(&queue, None)?;
            for _ in 0..CONSUMERS {
                queue.put(&Vec::new())?;
            }
        }
        worker.join_timeout(RUN_LIMIT.saturating_sub(began.elapsed()))?;
    }
    let elapsed = began.elapsed();
    // Every item exactly once, with its value.
    let total = items * PRODUCERS;
    let d = client.dict::<u64, u64>(&dict)?;
    ensure!(
        d.len()? as u64 == total,
        "the dict holds {} of {total} items",
        d.len()?
    );
    let values = d.values()?;
    let sum: u64 = values.iter().sum();
    ensure!(
        sum == total * (total - 1),
        "the values sum to {sum}, not {}",
        total * (total - 1)
    );
    for name in [&queue, &dict, &barrier] {
        client.remove(name)?;
    }
    Ok(total as f64 / elapsed.as_secs_f64())
}

/// The median; 0 for a way not run.
fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or(0.0)
}

/// Python doing the same with its Manager: items/s per item and batched;
/// `None` without python3.
fn run_python() -> anyhow::Result<Option<(f64, f64)>> {
    if Command::new("python3")
        .arg("-c")
        .arg("pass")
        .status()
        .map_or(true, |s| !s.success())
    {
        return Ok(None);
    }
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(PYTHON)
        .arg(PYTHON_ITEMS.to_string())
        .arg(PYTHON_BATCHED_ITEMS.to_string())
        .arg(BATCH.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .context("start python3")?;
    let began = Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            break;
        }
        if began.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("python took over {RUN_LIMIT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut out = String::new();
    child
        .stdout
        .take()
        .context("python stdout")?
        .read_to_string(&mut out)?;
    let line = out
        .lines()
        .find_map(|l| l.strip_prefix("RESULT "))
        .with_context(|| format!("python printed no result: {out}"))?;
    let mut rates = line.split_whitespace().map(str::parse::<f64>);
    match (rates.next(), rates.next()) {
        (Some(Ok(a)), Some(Ok(b))) => Ok(Some((a, b))),
        _ => bail!("python result `{line}`"),
    }
}

/// The Python workload: 2 producers and 2 consumers, per item then batched.
const PYTHON: &str = r#"
import multiprocessing as mp, sys, time

def producer(q, b, first, n, batch):
    b.wait()
    if batch:
        for s in range(first, first + n, batch):
            q.put(list(range(s, min(s + batch, first + n))))
    else:
        for i in range(first, first + n):
            q.put(i)

def consumer(q, d, b, batch):
    b.wait()
    while True:
        got = q.get()
        if got is None:
            return
        if batch:
            d.update({i: 2 * i for i in got})
        else:
            d[got] = 2 * got

def run(mgr, n, batch):
    q, d, b = mgr.Queue(), mgr.dict(), mgr.Barrier(5)
    producers = [mp.Process(target=producer, args=(q, b, p * n, n, batch)) for p in range(2)]
    consumers = [mp.Process(target=consumer, args=(q, d, b, batch)) for _ in range(2)]
    for p in producers + consumers:
        p.start()
    b.wait()
    t0 = time.perf_counter()
    for p in producers:
        p.join()
    # Consumers take what is left, then stop at one end mark each.
    for _ in consumers:
        q.put(None)
    for p in consumers:
        p.join()
    dt = time.perf_counter() - t0
    assert len(d) == 2 * n, len(d)
    return 2 * n / dt

if __name__ == "__main__":
    n, nb, batch = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    with mp.Manager() as mgr:
        per_item = run(mgr, n, 0)
        batched = run(mgr, nb, batch)
    print("RESULT", per_item, batched, flush=True)
"#;
