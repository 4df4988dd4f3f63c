//! A semaphore of 2 units lets at most 2 holders in at once: 4 worker
//! processes each hold a unit 200 times and count, with atomic adds, how
//! many are inside; the count never passes 2.

use tests::locks::SemaphoreHold;
use tests::{SHARED, connect, run_workers, start_manager, worker_program};

const WORKERS: usize = 4;
const TIMES: u32 = 200;

#[test]
fn never_more_than_two_holders_at_once() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace(SHARED)?;
    let semaphore = client.semaphore("slots", 2)?;
    let args = SemaphoreHold {
        semaphore: "slots".into(),
        limit: 2,
        times: TIMES,
    };
    run_workers(
        &manager,
        worker_program!(),
        "semaphore_hold_and_count",
        vec![args; WORKERS],
    )?;
    assert_eq!(ns.try_get::<i64>("violations")?, None, "more than 2 inside");
    assert_eq!(ns.get::<i64>("rounds")?, WORKERS as i64 * i64::from(TIMES));
    assert_eq!(ns.get::<i64>("inside")?, 0);
    let peak: i64 = ns.get("peak")?;
    assert!((1..=2).contains(&peak), "peak {peak}");
    assert_eq!(semaphore.value()?, 2, "every unit came back");
    Ok(())
}
