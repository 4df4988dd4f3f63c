//! Python's `multiprocessing.Pool`, in Rust: a CPU-bound function mapped
//! over inputs by worker processes, with a progress bar, and the speed-up
//! over doing the same in one process.
//!
//! The Python original:
//!
//! ```text
//! with Pool() as pool:
//!     for count in pool.imap_unordered(count_primes, BLOCKS):
//!         bar.update(1)
//! ```
//!
//! Here the main process registers the task `count_primes` (so that the
//! workers, copies of this program, can run it by name), counts the primes
//! of [`BLOCKS`] blocks of numbers once in itself and once over a [`Pool`]
//! with one worker per core, and prints both times. Run it with
//!
//! ```text
//! cargo run --release -p examples --example pool
//! ```
//!
//! It takes a few seconds and exits with an error if the two counts differ.

use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use indicatif::{ProgressBar, ProgressStyle};
use manager::Manager;
use manager::launcher::Entries;
use manager::pool::{Pool, Tasks};

/// How many blocks of numbers to count the primes of.
const BLOCKS: u64 = 48;
/// How many numbers in a block.
const BLOCK: u64 = if cfg!(debug_assertions) {
    16_000
} else {
    100_000
};

/// Counts the primes in block `block`, by trial division (slow on purpose).
fn count_primes(block: u64) -> Result<u64, String> {
    let start = 1_000_000 + block * BLOCK;
    let is_prime = |n: u64| {
        n >= 2
            && (2..)
                .take_while(|d| d * d <= n)
                .all(|d| !n.is_multiple_of(d))
    };
    Ok((start..start + BLOCK).filter(|&n| is_prime(n)).count() as u64)
}

fn bar(label: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(BLOCKS);
    bar.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:40}] {pos}/{len} blocks, {elapsed}")?
            .progress_chars("=> "),
    );
    bar.set_prefix(label.to_owned());
    Ok(bar)
}

fn main() -> anyhow::Result<()> {
    // Installed before `run_if_worker` so that workers, which run this same
    // program and inherit RUST_LOG, log too.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // In a pool worker this serves the tasks and exits.
    Entries::new()
        .tasks(Tasks::new().task("count_primes", count_primes))
        .run_if_worker();

    // One process.
    let serial = bar("one process")?;
    let started = Instant::now();
    let mut expected = 0;
    for block in 0..BLOCKS {
        expected += count_primes(block).map_err(anyhow::Error::msg)?;
        serial.inc(1);
    }
    let alone = started.elapsed();
    serial.finish();

    // A pool of worker processes (one per core).
    let manager = Manager::start().context("start the manager")?;
    let pool = Pool::builder(&manager).build().context("start the pool")?;
    let workers = pool.pids().len();
    let parallel = bar(&format!("{workers} workers"))?;
    let started = Instant::now();
    let mut total = 0;
    for count in pool.imap_unordered::<u64, u64>("count_primes", 0..BLOCKS)? {
        total += count?;
        parallel.inc(1);
    }
    let pooled = started.elapsed();
    parallel.finish();
    pool.close()?;

    ensure!(
        total == expected,
        "the pool counted {total} primes, one process {expected}"
    );
    println!("{total} primes in {BLOCKS} blocks of {BLOCK} numbers");
    println!("one process: {}", seconds(alone));
    println!(
        "{workers} workers:   {} (speed-up {:.1}x)",
        seconds(pooled),
        alone.as_secs_f64() / pooled.as_secs_f64().max(1e-9)
    );
    Ok(())
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}
