//! Round trips through a manager, measured against the floor of the same
//! machine in the same run.
//!
//! Run it with `cargo bench -p manager --bench roundtrip`; the rows and
//! how to read them are described in `docs/benchmarks.md`.
//!
//! - **Ours**: Namespace `set` and `get` over the Unix socket with the
//!   blocking client (1, 2 and 4 clients, each its own connection and
//!   thread), the async client (one client), and one async connection with
//!   64 gets in flight.
//! - **Ours, other objects**: with one blocking client on one thread, a
//!   dict set (`insert`) and get, a list append, a value get, and two pairs
//!   of round trips: a queue put then get, and a lock acquire then release.
//! - **Floor**: a raw Unix-socket ping-pong between two threads with frames
//!   of exactly the sizes of our request and reply frames, 4-byte length
//!   prefix included (1, 2 and 4 pairs), and the same with 64 frames per
//!   write. A second floor also encodes and decodes every frame with our
//!   codec, to tell the cost of the codec from the rest. Each of the other
//!   objects' rows has a raw floor of its own with that operation's frames;
//!   for a pair, the floor makes the same two round trips, one after the
//!   other.
//! - **Shared counter**: 4 blocking clients, each its own connection and
//!   thread (as the manager sees them, the same as 4 processes), adding 1
//!   to one shared `Value<i64>` with its atomic `add`; total ops/s, against
//!   a raw floor of 4 pairs with the add's frames. After each round the bench
//!   checks (and fails if not) that the final total equals the number of
//!   adds made: no update lost.
//! - **Python**: `shared/bench/py_manager_bench.py`, if `python3` and the
//!   script are there, with the same thread placement; its latency rows for
//!   the namespace, the dict, the list, the queue, the lock and the value,
//!   and its counter (4 processes x 2000 increments of a dict entry under a
//!   manager `Lock`), against our shared counter.
//!
//! The manager runs on its default number of threads (the CPUs this
//! process may use, 2 here; `BENCH_MANAGER_THREADS` sets another), all
//! pinned as the placement says; the `threads` bench measures what more
//! threads bring.
//!
//! # Placement
//!
//! On a small virtual machine, waking a thread on another, idle CPU can cost
//! ten times a whole same-CPU round trip, and the scheduler decides per run
//! which one a pair of threads gets. So every row runs under a fixed
//! placement: `same` (every thread on CPU 0: the CPU work of a round trip)
//! and `split` (clients on CPU 0, the manager or echo threads on CPU 1:
//! cross-CPU wakeups included), like the Python script's `--pin`. `none`
//! leaves placement to the scheduler.
//!
//! # Settings
//!
//! - `BENCH_PIN` (default `same,split`): the placements to run, from `none`,
//!   `same`, `split`.
//! - `BENCH_SKIP_PYTHON=1`: skip the Python reference (3 to 10 s per
//!   placement).
//! - `BENCH_ROUNDS` (default 5) and `BENCH_ROW_MS` (default 200): rounds, and
//!   the time each row runs per round.
//!
//! Without `--bench` (as `cargo test --benches` runs it) every row runs once
//! for a few milliseconds, as a smoke test.
//!
//! # Bounded
//!
//! Raw sockets have read and write timeouts, the Python script is killed
//! (with its process group) after two minutes, and a watchdog thread ends the
//! process, removing the manager's socket, if any stage overruns its limit.
//! That also bounds the queue `get` and the lock `acquire`, which wait
//! without a limit as Python's do (neither should wait: the queue holds the
//! item just put, and the lock is free).
//!
//! # Files
//!
//! `run.rs` drives one placement: a manager, its clients, and the rounds.
//! Each round times the floors (`floor.rs`, with the bytes `frames.rs`
//! builds) and our rows (`ours.rs`), named in `rows.rs` and timed by
//! `measure.rs`. `report.rs` prints the table and draws the pictures
//! (`histogram.rs`), and `python.rs` runs Python's reference.
//! `placement.rs` pins threads to CPUs; `settings.rs` and `watchdog.rs`
//! hold the settings and the time limits.

mod floor;
mod frames;
mod histogram;
mod measure;
mod ours;
mod placement;
mod python;
mod report;
mod rows;
mod run;
mod settings;
mod watchdog;

use std::time::Duration;

use anyhow::Context;
use manager_core::request::RequestId;

use crate::placement::{Placement, set_affinity};
use crate::python::{print_python, python_reference};
use crate::report::{draw_histograms, print_table};
use crate::run::run_placement;
use crate::settings::Settings;
use crate::watchdog::Watchdog;

/// The attribute every row sets and gets, as Python's bench does `ns.x`.
const ATTRIBUTE: &str = "x";
/// The value stored, as Python's `ns.x = 1`, `d["k"] = 1`, `l.append(1)`
/// and `q.put(1)`.
const VALUE: i64 = 1;
/// The dict rows' key, as Python's `d["k"]`.
const DICT_KEY: &str = "k";
/// The shared counter's name.
const COUNTER: &str = "bench-counter";
/// What the shared value holds, as Python's `Value("i", 7)`.
const SHARED_VALUE: i64 = 7;
/// Requests kept in flight on one connection in the pipelined rows.
const DEPTH: usize = 64;
/// Client counts of the concurrent rows.
const CLIENTS: [usize; 3] = [1, 2, 4];
/// Clients of the shared counter row, as the Python script's 4 counter
/// workers.
const COUNTER_CLIENTS: usize = 4;
/// A total as large as most the shared counter answers during a row
/// (varint: 3 bytes).
const TYPICAL_TOTAL: i64 = 10_000;
/// Read and write timeout of every raw socket.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Calls each client makes before a row's clock starts.
const WARMUP_CALLS: usize = 50;
/// How long the Python reference may run.
const PYTHON_LIMIT: Duration = Duration::from_secs(120);
/// A request id as large as most of the run's ids (varint: 5 bytes).
const TYPICAL_ID: RequestId = RequestId(100_000);

fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let watchdog = Watchdog::start();
    println!(
        "roundtrip: {} round(s) x {} ms per row, cpus {:?}, manager threads {}, placements: {}",
        settings.rounds,
        settings.row.as_millis(),
        settings.cpus,
        settings.manager_threads,
        settings
            .placements
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", "),
    );
    for &placement in &settings.placements {
        if placement == Placement::Split && settings.cpus.len() < 2 {
            println!("\nplacement split skipped: one cpu");
            continue;
        }
        let results = run_placement(placement, &settings, &watchdog)?;
        set_affinity(0, &settings.cpus).context("unpin the main thread")?;
        print_table(placement, &results);
        draw_histograms(placement, &results)?;
        watchdog.stage("python", PYTHON_LIMIT + Duration::from_secs(30));
        if settings.python {
            match python_reference(placement) {
                Ok(Some(python)) => print_python(placement, &results, &python),
                Ok(None) => {}
                Err(e) => println!("\npython reference failed: {e:#}"),
            }
        }
    }
    if !settings.python {
        println!("\npython reference skipped (BENCH_SKIP_PYTHON, or run without --bench)");
    }
    watchdog.finish();
    Ok(())
}
