//! Wait and notify across processes: one producer process adds items under
//! a condition and notifies one waiter per item; two consumer processes
//! wait for items with `wait_for` and take them. Every item is taken
//! exactly once and nobody waits forever.

use tests::locks::{ConditionConsume, ConditionProduce};
use tests::{DEADLINE, SHARED, connect, start_manager, worker_program};

const ITEMS: u32 = 200;
const CONSUMERS: u32 = 2;

#[test]
fn every_item_produced_is_consumed_once() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace(SHARED)?;
    ns.set("available", &0_i64)?;
    ns.set("consumed", &0_i64)?;

    let launcher = manager.launcher();
    // Consumers first, so they wait before anything is produced.
    let consume = ConditionConsume {
        condition: "items".into(),
        available: "available".into(),
        consumed: "consumed".into(),
        count: ITEMS / CONSUMERS,
    };
    let mut workers = (0..CONSUMERS)
        .map(|_| launcher.spawn_program(worker_program!(), "condition_consume", &consume))
        .collect::<Result<Vec<_>, _>>()?;
    let produce = ConditionProduce {
        condition: "items".into(),
        available: "available".into(),
        count: ITEMS,
    };
    workers.push(launcher.spawn_program(worker_program!(), "condition_produce", &produce)?);
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }

    assert_eq!(ns.get::<i64>("consumed")?, i64::from(ITEMS));
    assert_eq!(ns.get::<i64>("available")?, 0);
    let condition = client.condition("items")?;
    assert!(condition.try_acquire()?, "nobody holds the lock at the end");
    assert_eq!(condition.notify_all()?, 0, "nobody waits at the end");
    condition.release()?;
    Ok(())
}
