//! `ns.add` is atomic across processes: 4 workers x 1,000 adds end at
//! exactly 4,000 (Python's `ns.x += 1` loses updates here).

use tests::{Add, SHARED, connect, run_workers, start_manager, worker_program};

#[test]
fn four_workers_times_a_thousand_adds_is_four_thousand() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let ns = connect(&manager)?.namespace(SHARED)?;
    let args = Add {
        attribute: "hits".into(),
        times: 1_000,
    };
    run_workers(&manager, worker_program!(), "add", vec![args; 4])?;
    assert_eq!(ns.get::<i64>("hits")?, 4_000);
    Ok(())
}
