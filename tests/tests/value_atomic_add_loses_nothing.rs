//! A value's `add` is atomic across processes: 4 workers x 500 adds end at
//! exactly 2,000 (Python's `v.value += 1` loses updates here), and so do
//! increments made by compare-and-swap loops.

use tests::containers::ValueAdd;
use tests::{connect, run_workers, start_manager, worker_program};

#[test]
fn four_workers_times_five_hundred_adds_is_two_thousand() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let value = connect(&manager)?.value("hits", &0_i64)?;
    let args = ValueAdd {
        value: "hits".into(),
        times: 500,
    };
    run_workers(&manager, worker_program!(), "value_add", vec![args; 4])?;
    assert_eq!(value.get()?, 2_000);
    Ok(())
}

#[test]
fn compare_and_swap_increments_from_three_workers_lose_nothing() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let value = connect(&manager)?.value("cas", &0_i64)?;
    let args = ValueAdd {
        value: "cas".into(),
        times: 300,
    };
    run_workers(
        &manager,
        worker_program!(),
        "value_cas_increment",
        vec![args; 3],
    )?;
    assert_eq!(value.get()?, 900);
    Ok(())
}
