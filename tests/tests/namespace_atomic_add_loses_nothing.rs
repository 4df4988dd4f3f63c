//! `ns.add` is atomic across processes: 4 workers x 1,000 adds end at
//! exactly 4,000 (Python's `ns.x += 1` loses updates here).

use tests::{Add, DEADLINE, SHARED, connect, start_manager, worker_program};

#[test]
fn four_workers_times_a_thousand_adds_is_four_thousand() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let ns = connect(&manager)?.namespace(SHARED)?;
    let args = Add {
        attribute: "hits".into(),
        times: 1_000,
    };
    let mut workers = (0..4)
        .map(|_| {
            manager
                .launcher()
                .spawn_program(worker_program!(), "add", &args)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }
    assert_eq!(ns.get::<i64>("hits")?, 4_000);
    Ok(())
}
