//! A bounded semaphore refuses a release past its bound with a typed
//! `TooManyReleases` error naming it, and changes nothing; an unbounded one
//! takes the same release.

use manager::{Error, ManagerError};
use tests::locks::BoundedOverRelease;
use tests::{DEADLINE, connect, start_manager, worker_program};

#[test]
fn release_past_the_bound_is_too_many_releases() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let bounded = client.bounded_semaphore("pool", 2)?;

    // The worker checks the error from its own process.
    let args = BoundedOverRelease {
        semaphore: "pool".into(),
        bound: 2,
    };
    manager
        .launcher()
        .spawn_program(worker_program!(), "bounded_over_release", &args)?
        .join_timeout(DEADLINE)?;

    assert_eq!(bounded.value()?, 2);
    match bounded.release() {
        Err(Error::Manager(ManagerError::TooManyReleases { what, detail })) => {
            assert_eq!(what, "bounded semaphore `pool`");
            assert_eq!(detail, "released past its bound of 2");
        }
        other => panic!("expected TooManyReleases, got {other:?}"),
    }
    assert_eq!(bounded.value()?, 2, "the refused release changed nothing");

    let unbounded = client.semaphore("open", 2)?;
    unbounded.release()?;
    assert_eq!(unbounded.value()?, 3, "an unbounded semaphore takes it");
    Ok(())
}
