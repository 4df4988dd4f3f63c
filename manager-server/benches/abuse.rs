//! Load and abuse: what one hostile but authenticated client (or a crowd of
//! unauthenticated ones) can do to a manager, and what a good client on its
//! own connection feels meanwhile. Not a timed test: it measures and
//! reports, it judges nothing at full size.
//!
//! Run it with `cargo bench -p manager-server --bench abuse` (release; several
//! minutes: the silent-frame row alone waits out the 30 s frame timeout),
//! or `BENCH_QUICK=1 cargo bench -p manager-server --bench abuse` for every row
//! at reduced size in seconds. It prints a markdown table and writes it to
//! `target/abuse.md` (the target directory this bench was built in).
//!
//! # Each row
//!
//! - A fresh `manager-server` (this package's binary) on a Unix socket in a
//!   temporary directory, with its key in `MANAGER_AUTHKEY` and the default
//!   limits (a quick run lowers the limit its smaller attack must reach,
//!   and the notes show the flags). It is killed and its directory removed
//!   after the row, on a panic too; a watchdog kills it and ends the bench
//!   if a row overruns 20 minutes, and a parent-death signal kills it if
//!   the bench itself is killed.
//! - A good client (blocking, its own connection, a process of its own:
//!   this program run again) inserts into and reads
//!   from a dict in a loop, one call about every millisecond, timing every
//!   call: alone for a baseline (2 s), throughout the attack, and then for
//!   as long as the attack took (at most 10 s) beside a busy well-behaved
//!   client (the control: 64 small reads in flight on its own connection).
//!   The table gives its worst call and p99 in the three phases, and the
//!   ratios of the worst calls (the goal: within 3x; on a two-core
//!   machine the control is the fair reference, as any busy peer adds
//!   scheduling delay, and a phase as long as the attack has as many
//!   chances of an unlucky call).
//! - The server's VmRSS before the attack, the most during it (VmHWM, reset
//!   with `clear_refs` at the attack's start, and samples every 5 ms), and
//!   after the attacker has disconnected and its objects are removed, once
//!   the RSS stops falling (the goal: back within 2x of the start).
//! - What the manager did to the attacker: the error it answered, whether
//!   it closed the connection or refused it, how long it took.
//!
//! # Rows
//!
//! The table (a bomb frame under `prlimit --as` of the server's
//! VmSize + 256 MiB; 3 connections of 10k pipelined gets of a 128 KiB value
//! never read; a 16 MiB frame header, 16 MiB - 1 body bytes, then silence;
//! one 16 MiB List Extend of empty values; 100k objects then a listing;
//! inspections in a loop with 100k objects; 16 values of ~16 MiB then Dict
//! Values; 20k and 40k timed waits expiring together; 300k parked lock
//! acquires), then a connection flood (`max_connections` + 100
//! authenticated connections) and a handshake flood (`max_handshakes` + 72
//! silent unauthenticated ones). Attacks are hand-made frames on raw
//! connections authenticated with `handshake::initiate`.
//!
//! # Settings
//!
//! - `BENCH_QUICK=1`: every row at reduced size.
//! - `BENCH_ROWS=bomb,waits`: only the rows whose names start with these
//!   (`bomb`, `backlog`, `slow-frame`, `extend`, `listing`, `inspect`,
//!   `dict-values`, `waits-N`, `parked`, `connections`, `handshakes`).
//! - `BENCH_BASELINE_MS` (default 2000) and `BENCH_HOLD_MS` (default 2000):
//!   the good client's time alone, and how long each attack keeps its
//!   hostile state in place.
//! - `BENCH_SERVER=PATH`: the `manager-server` binary to attack instead of
//!   this build's (to compare two builds in one sitting).
//!
//! Without `--bench` (as `cargo test --benches` runs it) it does nothing:
//! `tests/abuse_quick_run_meets_expected_outcomes.rs` runs the quick run
//! and checks its outcomes.

#[path = "abuse/suite/mod.rs"]
mod suite;

use std::path::PathBuf;
use std::process::Command;

use anyhow::Context;

fn main() -> anyhow::Result<()> {
    if let Some(good_client) = suite::child_main() {
        return good_client;
    }
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "abuse: run it with `cargo bench -p manager-server --bench abuse` (BENCH_QUICK=1 for a quick run)"
        );
        return Ok(());
    }
    let server = std::env::var_os("BENCH_SERVER").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_manager-server")),
        PathBuf::from,
    );
    let settings = suite::Settings::from_env(server)?;
    let started = now();
    let load_start = suite::load_average();
    println!(
        "abuse: {} run started {started}, load average {load_start}",
        if settings.quick { "quick" } else { "full" }
    );
    let results = suite::run(&settings, |r| {
        println!(
            "  {}: {}{}",
            r.name,
            r.outcome,
            if r.unexpected.is_empty() {
                String::new()
            } else {
                format!(" [unexpected: {}]", r.unexpected.join("; "))
            }
        );
    })?;
    let load_end = suite::load_average();
    let header = format!(
        "Abuse bench ({} sizes), started {started}, ended {}; load average {load_start} at the start, {load_end} at the end.",
        if settings.quick { "quick" } else { "full" },
        now()
    );
    let table = suite::report::markdown(&settings, &results, &header);
    println!("\n{table}");
    let target = std::env::current_exe()?
        .ancestors()
        .nth(3)
        .map(PathBuf::from)
        .context("the target directory")?;
    let path = target.join("abuse.md");
    std::fs::write(&path, &table).with_context(|| format!("write {}", path.display()))?;
    println!("written to {}", path.display());
    let unexpected = suite::unexpected(&results);
    if unexpected.is_empty() {
        println!("every outcome is what the limits promise");
    } else {
        println!("unexpected outcomes:\n  {}", unexpected.join("\n  "));
    }
    Ok(())
}

/// The local date and time, as `date` prints it.
fn now() -> String {
    Command::new("date")
        .arg("+%Y-%m-%d %H:%M:%S %Z")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "(unknown time)".into())
}
