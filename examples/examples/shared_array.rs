//! A 1 GiB `SharedArray<f64>` filled and summed by worker processes, at
//! memory speed.
//!
//! The main process creates the shared memory block `data` (Python's
//! `SharedMemoryManager().SharedMemory(size)`), typed as `f64`s; [`WORKERS`]
//! worker processes map it by name, and each writes its quarter (twice:
//! the first write also takes the pages from the system) and then reads it
//! back and sums it, each phase started in every worker at once by a
//! manager `Barrier`. Each worker writes its timings and its sum into
//! another shared array, so nothing but names goes through the manager's
//! socket.
//!
//! It prints the workers' bandwidth, writing and reading, as a ratio to an
//! in-process memcpy of the same size (the physical limit of this
//! machine), and to moving (a slice of) the same data through a manager
//! list, with `extend` and `snapshot`: the path every byte took before
//! shared memory.
//!
//! Run it with
//!
//! ```text
//! cargo run --release -p examples --example shared_array          # 1 GiB
//! cargo run --release -p examples --example shared_array -- 64M   # a quick run
//! SHARED_ARRAY_BYTES=16M cargo run -p examples --example shared_array
//! ```
//!
//! The size takes a `K`, `M` or `G` suffix (powers of 1024). In a debug
//! build the figures mean little; use `--release`. Logs go to stderr, the
//! report to stdout.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use manager::launcher::Entries;
use manager::{Manager, blocking};
use tracing_subscriber::EnvFilter;

/// How many worker processes fill and sum the array.
const WORKERS: usize = 4;
/// The array's size when neither the argument nor the variable says.
const DEFAULT_BYTES: usize = 1 << 30;
/// The block holding the array.
const DATA: &str = "data";
/// The block where each worker writes its fill time, sum time and sum.
const RESULTS: &str = "results";
/// The barrier that starts each phase in every worker at once.
const START: &str = "start";
/// Figures each worker reports: first write, write, read, sum.
const FIGURES: usize = 4;
/// Items per `extend` through the manager list: 1 MiB of `f64`s.
const CHUNK: usize = 1 << 17;
/// The most bytes moved through the manager list for the comparison.
const LIST_BYTES: usize = 16 << 20;
/// How long the workers together may take.
const JOIN_DEADLINE: Duration = Duration::from_secs(600);
/// How long any one call may wait for the manager.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The value element `i` gets: exact in an `f64`, so sums are exact too.
fn value(i: usize) -> f64 {
    (i % 1024) as f64
}

/// One worker: maps the array and prepares its part's values privately;
/// then, each phase started in every worker at once, copies them into
/// `start..start + len` twice (the first copy also takes the block's pages
/// from the system, as a first touch does; the second is the copy alone),
/// and reads them back and sums them. Writes its timings and sum into the
/// results array at `index`.
fn fill_and_sum((index, start, len, total): (usize, usize, usize, usize)) -> Result<()> {
    let client = blocking::Client::from_env()?.with_timeout(CALL_TIMEOUT);
    let data = client.shared_array::<f64>(DATA, total)?;
    let results = client.shared_array::<f64>(RESULTS, FIGURES * WORKERS)?;
    let barrier = client.barrier(START, WORKERS)?;
    // This worker's part, indexed from its start.
    let part = data.slice(start..start + len);
    let mut private: Vec<f64> = (start..start + len).map(value).collect();

    let timed = |copy: &mut dyn FnMut()| -> Result<f64> {
        barrier.wait()?;
        let began = Instant::now();
        copy();
        Ok(began.elapsed().as_secs_f64())
    };
    let first = timed(&mut || part.copy_from(0, &private))?;
    let write = timed(&mut || part.copy_from(0, &private))?;
    private.fill(0.0);
    let read = timed(&mut || part.copy_to(0, &mut private))?;
    let sum = private.iter().sum::<f64>();
    results.copy_from(FIGURES * index, &[first, write, read, sum]);
    Ok(())
}

/// The array's size in bytes: the first argument or `SHARED_ARRAY_BYTES`
/// (`K`, `M`, `G` suffixes), else 1 GiB.
fn size_asked() -> Result<usize> {
    let given = std::env::args()
        .nth(1)
        .or_else(|| std::env::var("SHARED_ARRAY_BYTES").ok());
    let Some(given) = given else {
        return Ok(DEFAULT_BYTES);
    };
    let (digits, unit) = match given.trim().to_ascii_uppercase() {
        s if s.ends_with('K') => (s[..s.len() - 1].to_owned(), 1 << 10),
        s if s.ends_with('M') => (s[..s.len() - 1].to_owned(), 1 << 20),
        s if s.ends_with('G') => (s[..s.len() - 1].to_owned(), 1 << 30),
        s => (s, 1),
    };
    let n: usize = digits
        .parse()
        .with_context(|| format!("size `{given}`: digits with an optional K, M or G"))?;
    let bytes = n * unit;
    if bytes < WORKERS * 8 {
        bail!("size `{given}`: at least {} bytes", WORKERS * 8);
    }
    Ok(bytes)
}

/// Bytes per second, in GB/s.
fn gbps(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / took.as_secs_f64().max(1e-9) / 1e9
}

/// An in-process memcpy of `bytes`: the best any copy here can do.
fn memcpy_rate(bytes: usize) -> f64 {
    let src = vec![1_u8; bytes];
    let mut dst = vec![0_u8; bytes];
    // Once to touch the pages, once to time.
    dst.copy_from_slice(&src);
    let began = Instant::now();
    dst.copy_from_slice(std::hint::black_box(&src));
    let took = began.elapsed();
    std::hint::black_box(&dst);
    gbps(bytes, took)
}

/// Moves (a slice of) the data through a manager list: `extend` in, then
/// `snapshot` out, as the bytes would go without shared memory.
fn list_rate(client: &blocking::Client, bytes: usize) -> Result<(usize, f64)> {
    let n = (bytes.min(LIST_BYTES) / 8).max(1);
    let items: Vec<f64> = (0..n).map(value).collect();
    let list = client.list::<f64>("through-the-socket")?;
    let began = Instant::now();
    for part in items.chunks(CHUNK) {
        list.extend(part)?;
    }
    let back = list.snapshot()?;
    let took = began.elapsed();
    ensure!(back == items, "the list gave back other values");
    client.remove("through-the-socket")?;
    // Each byte went in and came out: twice over the socket.
    Ok((n * 8, gbps(2 * n * 8, took)))
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // In a worker process this runs the entry and exits; here it returns.
    Entries::new()
        .entry("fill_and_sum", fill_and_sum)
        .run_if_worker();

    let bytes = size_asked()?;
    let total = bytes / 8;
    let manager = Manager::start()?;
    let client = manager.connect()?.with_timeout(CALL_TIMEOUT);
    let _data = client.shared_array::<f64>(DATA, total)?;
    let results = client.shared_array::<f64>(RESULTS, FIGURES * WORKERS)?;
    client.barrier(START, WORKERS)?;

    println!(
        "shared array: {:.2} GiB of f64 ({total} elements), {WORKERS} worker processes",
        bytes as f64 / f64::from(1 << 30)
    );
    let per_worker = total.div_ceil(WORKERS);
    let mut workers = (0..WORKERS)
        .map(|index| {
            let start = (index * per_worker).min(total);
            let len = per_worker.min(total - start);
            manager
                .launcher()
                .spawn("fill_and_sum", &(index, start, len, total))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for worker in &mut workers {
        worker.join_timeout(JOIN_DEADLINE)?;
    }

    let figures = results.to_vec(..);
    // The workers start each phase together: a phase takes as long as its
    // slowest worker.
    let slowest = |k: usize| {
        let seconds = figures.chunks(FIGURES).map(|f| f[k]).fold(0.0, f64::max);
        gbps(bytes, Duration::from_secs_f64(seconds))
    };
    let (first, write, read) = (slowest(0), slowest(1), slowest(2));
    let sum: f64 = figures.chunks(FIGURES).map(|f| f[3]).sum();
    let expected: f64 = (0..total).map(value).sum();
    ensure!(sum == expected, "the workers summed {sum}, not {expected}");

    let memcpy = memcpy_rate(bytes);
    let (list_bytes, list) = list_rate(&client, bytes)?;
    println!("  in-process memcpy of the same size:  {memcpy:7.3} GB/s");
    println!(
        "  workers writing the block:           {write:7.3} GB/s  ({:.2} x memcpy)",
        write / memcpy
    );
    println!(
        "    the first time (pages allocated): {first:7.3} GB/s  ({:.2} x memcpy)",
        first / memcpy
    );
    println!(
        "  workers reading the block:           {read:7.3} GB/s  ({:.2} x memcpy)",
        read / memcpy
    );
    println!(
        "  through a manager list ({:.0} MiB):    {list:7.3} GB/s  ({:.0} x slower than reading the block)",
        list_bytes as f64 / f64::from(1 << 20),
        read / list
    );
    println!("  sum: {sum} (checked)");
    manager.shutdown();
    Ok(())
}
