//! The table: one markdown row per attack, and notes under it.

use std::fmt::Write as _;
use std::time::Duration;

use super::{RowResult, Settings};

/// `n` bytes as a person reads them: `512 B`, `2.9 KiB`, `128 KiB`, `16.0 MiB`,
/// `1.50 GiB`.
pub(crate) fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let x = n as f64;
    if x < KIB {
        format!("{n} B")
    } else if x < 100.0 * KIB {
        format!("{:.1} KiB", x / KIB)
    } else if x < KIB * KIB {
        format!("{:.0} KiB", x / KIB)
    } else if x < KIB * KIB * KIB {
        format!("{:.1} MiB", x / (KIB * KIB))
    } else {
        format!("{:.2} GiB", x / (KIB * KIB * KIB))
    }
}

/// A duration as a person reads it: `0.42 ms`, `12.3 ms`, `1.25 s`.
pub(crate) fn duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.1}x", a / b)
    } else {
        "-".into()
    }
}

/// Pipes would split a markdown cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The table and its notes, in markdown.
pub(crate) fn markdown(settings: &Settings, results: &[RowResult], header: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{header}\n");
    let _ = writeln!(
        out,
        "| what one authenticated client did | manager | good client's worst call: alone, busy -> attack (attack/busy, attack/alone) | good p99: alone, busy -> attack | manager RSS: start -> peak -> after (after/start) |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for r in results {
        let mut outcome = String::new();
        if let Some(died) = &r.died {
            let _ = write!(outcome, "**manager died: {died}**; ");
        }
        outcome.push_str(&r.outcome);
        let attack = r.attack.worst.as_secs_f64();
        let mut worst = format!(
            "{}, {} -> {} ({}, {})",
            duration(r.baseline.worst),
            duration(r.busy.worst),
            duration(r.attack.worst),
            ratio(attack, r.busy.worst.as_secs_f64()),
            ratio(attack, r.baseline.worst.as_secs_f64())
        );
        if r.attack.errors > 0 {
            let _ = write!(
                worst,
                "; {} failed calls (\"{}\")",
                r.attack.errors,
                r.attack.first_error.as_deref().unwrap_or("")
            );
        }
        let p99 = format!(
            "{}, {} -> {}",
            duration(r.baseline.p99),
            duration(r.busy.p99),
            duration(r.attack.p99)
        );
        let [start, peak, after] = r.rss;
        let rss = format!(
            "{} -> {} -> {} ({})",
            bytes(start * 1024),
            bytes(peak * 1024),
            bytes(after * 1024),
            ratio(after as f64, start as f64)
        );
        let _ = writeln!(
            out,
            "| {} | {} | {worst} | {p99} | {rss} |",
            cell(&r.title),
            cell(&outcome)
        );
    }
    let _ = writeln!(out, "\nNotes:");
    let _ = writeln!(
        out,
        "- alone: {} of the good client alone; attack: from the attack's start until the attacker has disconnected and its objects are removed; busy: then as long as the attack took (at most 10 s) beside a well-behaved client keeping 64 small reads in flight on its own connection (the control: on two cores any busy peer adds scheduling delay, and a phase as long has as many chances of an unlucky call); \
         peak: VmHWM over the attack{}; after: VmRSS once it stopped falling (no new low for all but a second of at most {}; the server trims its heaps every 5 s).",
        duration(settings.baseline),
        if results.iter().all(|r| r.exact_peak) {
            ""
        } else {
            " (sampled every 5 ms where clear_refs was refused)"
        },
        duration(settings.settle)
    );
    for r in results {
        let mut line = format!(
            "- {}: good calls {} + {} + {}, control reads {}, attack phase {}",
            r.name,
            r.baseline.calls,
            r.attack.calls,
            r.busy.calls,
            r.busy_reads,
            duration(r.attack_took)
        );
        if let Some(at) = r.worst_at {
            let _ = write!(line, ", its worst call started at +{}", duration(at));
        }
        if !r.flags.is_empty() {
            let _ = write!(line, ", server flags `{}`", r.flags.join(" "));
        }
        if r.log_warnings > 0 {
            let _ = write!(
                line,
                ", {} warnings logged, the last: \"{}\"",
                r.log_warnings,
                r.log_last.trim()
            );
        }
        for why in &r.unexpected {
            let _ = write!(line, "; **unexpected: {why}**");
        }
        let _ = writeln!(out, "{line}");
    }
    out
}
