//! A blocking client whose acquire gave up (its deadline and its settle
//! wait over) while the manager was busy, and which then makes no further
//! call, gives back the grant the manager sends later: its settler reads
//! it. So another client gets the lock.
//!
//! The manager runs on one thread, which a custom object's request holds
//! (as in `busy_object_stalls_only_its_own_thread`): the acquire and its
//! cancel wait behind it and are answered once it is let go, the acquire
//! with a grant (the lock is free then).

use std::time::Duration;

use manager::{Error, Manager};
use tests::DEADLINE;
use tests::gate::{self, Gate};

#[test]
fn a_grant_after_the_settle_wait_reaches_an_idle_client_and_goes_back() -> anyhow::Result<()> {
    let manager = Manager::builder().threads(1).register::<Gate>().start()?;
    let holder_client = manager.connect()?.with_timeout(DEADLINE);
    let other = manager.connect()?.with_timeout(DEADLINE);
    let idle = manager.connect()?;
    let gate = holder_client.custom::<Gate>("gate", &())?;
    // Made before the manager is busy.
    let idle_lock = idle.lock("l")?.with_timeout(Duration::from_millis(100));
    let other_lock = other.lock("l")?;

    let holder = gate::hold(gate);
    // The manager is busy: the acquire's wait (100 ms), the grace the
    // handle gives the answer (`WAIT_GRACE`) and then the call's settle
    // wait all pass with nothing answered.
    let gave_up = idle_lock.acquire();
    assert!(
        matches!(gave_up, Err(Error::Timeout { .. })),
        "the acquire gave up: {gave_up:?}"
    );
    // The manager gets going again: it grants the acquire (the lock is
    // free), then sees its cancel. `idle` makes no further call.
    gate::open();
    assert!(holder.join().expect("holder thread")?, "released");
    // Another client gets the lock once the idle one's settler gives the
    // grant back; bounded by the handle's deadline.
    let taken = other_lock.acquire_timeout(Duration::from_secs(10))?;
    assert!(
        taken,
        "the lock granted to a caller that gave up was never given back"
    );
    other_lock.release()?;
    drop(idle_lock);
    drop(idle);
    Ok(())
}
