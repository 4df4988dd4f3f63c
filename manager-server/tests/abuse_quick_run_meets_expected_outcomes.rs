//! The abuse bench's quick run (what `BENCH_QUICK=1` runs) completes, and
//! every attack meets the outcome its limit promises: the bomb is survived,
//! a client that does not read is no longer read before all its replies are
//! held, a frame left unfinished is cut off, a reply over the frame limit is
//! refused, every timed wait ends, every parked acquire is accounted for,
//! the floods are refused over their limits, and the manager never dies nor
//! fails the good client.
//!
//! Not timed: the good client's latencies and the manager's memory are the
//! bench's to report, not this test's to judge.
//!
//! Without libtest's harness (`harness = false`): the suite runs its good
//! client as this program started again, which must then be the good
//! client and nothing else. It fails by exiting non-zero.

#[allow(dead_code)]
#[path = "../benches/abuse/suite/mod.rs"]
mod suite;

fn main() -> anyhow::Result<()> {
    if let Some(good_client) = suite::child_main() {
        return good_client;
    }
    let name = "every_attack_of_the_quick_run_meets_its_expected_outcome";
    // `cargo test NAME` passes a filter; run only if it could mean this.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if !filters.is_empty() && !filters.iter().any(|f| name.contains(f.as_str())) {
        return Ok(());
    }
    let settings = suite::Settings::quick(env!("CARGO_BIN_EXE_manager-server").into());
    let results = suite::run(&settings, |_| {})?;
    let unexpected = suite::unexpected(&results);
    anyhow::ensure!(
        unexpected.is_empty(),
        "{}\n\n{}",
        unexpected.join("\n"),
        suite::report::markdown(&settings, &results, "quick run")
    );
    // In libtest's words, so the suite's count includes it.
    println!("test {name} ... ok");
    println!("test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
    Ok(())
}
