//! A blocking client whose acquire gave up (its deadline and its settle
//! wait over) while the manager was busy, and which then makes no further
//! call, gives back the grant the manager sends later: its settler reads
//! it. So another client gets the lock.
//!
//! The manager runs on one thread, which a custom object's request holds
//! (as in `busy_object_stalls_only_its_own_thread`): the acquire and its
//! cancel wait behind it and are answered once it is let go, the acquire
//! with a grant (the lock is free then).

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use manager::{CallInfo, CustomObject, CustomType, Error, Manager};
use serde::{Deserialize, Serialize};
use tests::DEADLINE;

struct Gate;

#[derive(Serialize, Deserialize)]
enum GateRequest {
    /// Blocks the object's thread until released, at most [`DEADLINE`].
    Hold,
}

impl CustomType for Gate {
    const TYPE_NAME: &'static str = "tests.review.gate";
    type Init = ();
    type Request = GateRequest;
    type Reply = bool;
}

/// Whether the `Hold` has begun, and whether it may end.
static STATE: Mutex<(bool, bool)> = Mutex::new((false, false));
static CHANGED: Condvar = Condvar::new();

impl CustomObject for Gate {
    fn create((): ()) -> Result<Self, String> {
        Ok(Gate)
    }

    fn handle(&mut self, GateRequest::Hold: GateRequest, _call: &CallInfo<'_>) -> bool {
        let mut state = STATE.lock().unwrap();
        state.0 = true;
        CHANGED.notify_all();
        let (state, _) = CHANGED
            .wait_timeout_while(state, DEADLINE, |s| !s.1)
            .unwrap();
        state.1
    }
}

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

    let holder = std::thread::spawn(move || gate.call(GateRequest::Hold));
    {
        let state = STATE.lock().unwrap();
        let (state, _) = CHANGED
            .wait_timeout_while(state, DEADLINE, |s| !s.0)
            .unwrap();
        assert!(state.0, "the hold began within the deadline");
    }
    // The manager is busy: the acquire reaches its deadline and its settle
    // wait (100 ms each) with nothing answered.
    let gave_up = idle_lock.acquire();
    assert!(
        matches!(gave_up, Err(Error::Timeout { .. })),
        "the acquire gave up: {gave_up:?}"
    );
    // The manager gets going again: it grants the acquire (the lock is
    // free), then sees its cancel. `idle` makes no further call.
    {
        let mut state = STATE.lock().unwrap();
        state.1 = true;
        CHANGED.notify_all();
    }
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
