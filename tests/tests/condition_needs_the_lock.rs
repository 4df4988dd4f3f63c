//! `wait`, `notify`, `notify_all` and `release` on a condition whose lock
//! the caller does not hold fail with `NotHeld`, from any process and from
//! another thread of the holder's process, and fail only that call.

use manager::{Error, ManagerError, blocking};
use tests::locks::ConditionProbe;
use tests::{DEADLINE, connect, start_manager, worker_program};

fn not_held<T: std::fmt::Debug>(operation: &str, result: Result<T, Error>) {
    assert!(
        matches!(
            &result,
            Err(Error::Manager(ManagerError::NotHeld { what })) if what == "condition `cond`"
        ),
        "{operation} without the lock: expected NotHeld, got {result:?}"
    );
}

fn check_all(condition: &blocking::Condition) {
    not_held("wait", condition.wait());
    not_held("wait_timeout", condition.wait_timeout(DEADLINE));
    not_held("notify", condition.notify(1));
    not_held("notify_all", condition.notify_all());
    not_held("release", condition.release());
}

#[test]
fn wait_and_notify_without_the_lock_are_not_held() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let condition = client.condition("cond")?;

    // Nobody holds it: here, and in another process.
    check_all(&condition);
    let args = ConditionProbe {
        condition: "cond".into(),
        expect_free: true,
    };
    manager
        .launcher()
        .spawn_program(worker_program!(), "condition_probe", &args)?
        .join_timeout(DEADLINE)?;

    // This thread holds it: another thread is another owner.
    condition.acquire()?;
    let other = condition.clone();
    std::thread::spawn(move || check_all(&other))
        .join()
        .expect("a check failed on the other thread");
    let args = ConditionProbe {
        condition: "cond".into(),
        expect_free: false,
    };
    manager
        .launcher()
        .spawn_program(worker_program!(), "condition_probe", &args)?
        .join_timeout(DEADLINE)?;

    // The failures changed nothing: the holder still holds it.
    assert_eq!(condition.notify_all()?, 0);
    condition.release()?;
    not_held("release", condition.release());
    Ok(())
}
