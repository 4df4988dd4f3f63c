//! A guard's unit belongs to its guard: a plain release from another
//! process does not give it back (on a bounded semaphore it is refused, as
//! one release too many), and the timed and non-blocking guard forms wait
//! no longer than asked, on a handle with a timeout too.

use std::time::Duration;

use manager::{Error, ManagerError};
use tests::{connect, start_manager};

#[test]
fn a_plain_release_cannot_give_back_a_guards_unit() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let a = connect(&manager)?;
    let b = connect(&manager)?;
    let a_pool = a.bounded_semaphore("pool", 1)?;
    let b_pool = b.bounded_semaphore("pool", 1)?;

    let guard = a_pool.guard()?;
    assert_eq!(b_pool.value()?, 0);
    match b_pool.release() {
        Err(Error::Manager(ManagerError::TooManyReleases { what, detail })) => {
            assert_eq!(what, "bounded semaphore `pool`");
            assert_eq!(detail, "released past its bound of 1");
        }
        other => {
            panic!("a plain release of a guard's unit: expected TooManyReleases, got {other:?}")
        }
    }
    assert_eq!(b_pool.value()?, 0, "the refused release changed nothing");

    assert!(b_pool.try_guard()?.is_none());
    assert!(b_pool.guard_timeout(Duration::from_millis(20))?.is_none());
    match b_pool.with_timeout(Duration::from_millis(20)).guard() {
        Err(Error::Timeout { .. }) => {}
        other => panic!("a guard on a handle with a timeout: expected Timeout, got {other:?}"),
    }
    assert_eq!(b_pool.n_waiting()?, 0, "no wait outlived its caller");

    drop(guard);
    assert_eq!(b_pool.value()?, 1);
    let b_guard = b_pool.try_guard()?.expect("the unit is free");
    assert_eq!(a_pool.value()?, 0);
    b_guard.release()?;
    assert_eq!(a_pool.value()?, 1);
    Ok(())
}

#[test]
fn an_unbounded_semaphore_counts_a_plain_release_as_one_more_unit() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let a = connect(&manager)?;
    let b = connect(&manager)?;
    let a_slots = a.semaphore("slots", 1)?;
    let b_slots = b.semaphore("slots", 1)?;

    let guard = a_slots.guard()?;
    // As in Python, a release adds a unit; the guard's unit stays its own.
    b_slots.release()?;
    assert_eq!(b_slots.value()?, 1);
    guard.release()?;
    assert_eq!(b_slots.value()?, 2);
    Ok(())
}
