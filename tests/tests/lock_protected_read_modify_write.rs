//! A read-modify-write (`get` then `set`) under a shared lock loses no
//! update across processes: 4 workers x 500 increments end at exactly
//! 2,000. Without the lock the same loop loses updates (see the `counter`
//! example).

use tests::locks::{LockKind, LockedIncrements};
use tests::{SHARED, connect, run_workers, start_manager, worker_program};

const WORKERS: usize = 4;
const TIMES: u32 = 500;

fn increments(kind: LockKind, guard: bool) -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace(SHARED)?;
    ns.set("n", &0_i64)?;
    let args = LockedIncrements {
        lock: "counter-lock".into(),
        kind,
        guard,
        attribute: "n".into(),
        times: TIMES,
    };
    run_workers(
        &manager,
        worker_program!(),
        "locked_increments",
        vec![args; WORKERS],
    )?;
    assert_eq!(ns.get::<i64>("n")?, WORKERS as i64 * i64::from(TIMES));
    let locked = match kind {
        LockKind::Lock => client.lock("counter-lock")?.locked()?,
        LockKind::RLock => client.rlock("counter-lock")?.locked()?,
    };
    assert!(!locked, "every worker released the lock");
    Ok(())
}

#[test]
fn four_workers_times_500_locked_increments_is_2000() -> anyhow::Result<()> {
    increments(LockKind::Lock, false)
}

#[test]
fn the_same_through_rlock_guards() -> anyhow::Result<()> {
    increments(LockKind::RLock, true)
}
