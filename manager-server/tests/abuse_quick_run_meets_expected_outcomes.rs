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

#[allow(dead_code)]
#[path = "../benches/abuse/suite/mod.rs"]
mod suite;

#[test]
fn every_attack_of_the_quick_run_meets_its_expected_outcome() -> anyhow::Result<()> {
    let settings = suite::Settings::quick(env!("CARGO_BIN_EXE_manager-server").into());
    let results = suite::run(&settings, |_| {})?;
    let unexpected = suite::unexpected(&results);
    assert!(
        unexpected.is_empty(),
        "{}\n\n{}",
        unexpected.join("\n"),
        suite::report::markdown(&settings, &results, "quick run")
    );
    Ok(())
}
