//! A condition `wait_timeout` that no notify ends returns `false`, with the
//! lock held again, and so does a `wait_for` whose predicate stays false.

use std::time::{Duration, Instant};

use tests::locks::ConditionProbe;
use tests::{DEADLINE, connect, start_manager, worker_program};

#[test]
fn an_unnotified_wait_returns_false_holding_the_lock() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let condition = client.condition("cond")?;
    let probe = |expect_free| -> anyhow::Result<()> {
        let args = ConditionProbe {
            condition: "cond".into(),
            expect_free,
        };
        manager
            .launcher()
            .spawn_program(worker_program!(), "condition_probe", &args)?
            .join_timeout(DEADLINE)?;
        Ok(())
    };

    let guard = condition.guard()?;
    let started = Instant::now();
    assert!(!condition.wait_timeout(Duration::from_millis(200))?);
    assert!(started.elapsed() >= Duration::from_millis(200));
    // Held again: notify is allowed (nobody waits), and another process
    // cannot take the lock.
    assert_eq!(condition.notify(1)?, 0);
    probe(false)?;

    // The predicate form gives up the same way, with the predicate's value.
    let mut checks = 0;
    let ready = condition.wait_for(
        || {
            checks += 1;
            false
        },
        Some(Duration::from_millis(100)),
    )?;
    assert!(!ready && checks >= 2, "checked {checks} times");
    probe(false)?;

    guard.release()?;
    probe(true)?;
    Ok(())
}
