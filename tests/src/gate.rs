//! [`Gate`]: a custom object whose `Hold` request keeps its manager thread
//! busy until the test lets it go, to stand for an expensive request, or
//! a busy manager, at a moment the test chooses.
//!
//! The gate's state (has a hold begun, may it end) is one per test binary:
//! tests of one binary that hold a gate take turns ([`take_turn`]).

use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use manager::{CallInfo, CustomObject, CustomType, Error, blocking};
use serde::{Deserialize, Serialize};

use crate::DEADLINE;

/// An object whose [`GateRequest::Hold`] keeps its thread until
/// [`open`] is called.
#[derive(Debug)]
pub struct Gate;

/// The requests of a [`Gate`].
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub enum GateRequest {
    /// Blocks the object's thread until [`open`], at most [`DEADLINE`];
    /// answers whether it was opened (not timed out).
    Hold,
    /// Answers `true` at once.
    Ping,
}

impl CustomType for Gate {
    const TYPE_NAME: &'static str = "tests.gate";
    type Init = ();
    type Request = GateRequest;
    type Reply = bool;
}

/// Whether a `Hold` has begun, and whether it may end.
static STATE: Mutex<(bool, bool)> = Mutex::new((false, false));
static CHANGED: Condvar = Condvar::new();
/// Held by the test that uses the gate now.
static TURN: Mutex<()> = Mutex::new(());

impl CustomObject for Gate {
    fn create((): ()) -> Result<Self, String> {
        Ok(Gate)
    }

    fn handle(&mut self, request: GateRequest, _call: &CallInfo<'_>) -> bool {
        match request {
            GateRequest::Ping => true,
            GateRequest::Hold => {
                let mut state = lock();
                state.0 = true;
                CHANGED.notify_all();
                let (state, _) = CHANGED
                    .wait_timeout_while(state, DEADLINE, |s| !s.1)
                    .unwrap_or_else(|e| e.into_inner());
                state.1
            }
        }
    }
}

fn lock() -> MutexGuard<'static, (bool, bool)> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Waits for the other tests of this binary that use the gate; the turn
/// lasts as long as the guard.
pub fn take_turn() -> MutexGuard<'static, ()> {
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

/// Closes the gate, sends `gate` a `Hold` from a thread of its own and
/// returns once the hold has begun (within [`DEADLINE`]): the object's
/// thread is busy from then until [`open`]. The thread ends with the
/// call, which answers whether the gate was opened.
///
/// # Panics
///
/// If the hold has not begun within [`DEADLINE`].
pub fn hold(gate: blocking::Custom<Gate>) -> JoinHandle<Result<bool, Error>> {
    *lock() = (false, false);
    CHANGED.notify_all();
    let holder = std::thread::spawn(move || gate.call(GateRequest::Hold));
    let (state, _) = CHANGED
        .wait_timeout_while(lock(), DEADLINE, |s| !s.0)
        .unwrap_or_else(|e| e.into_inner());
    assert!(state.0, "the hold began within {DEADLINE:?}");
    holder
}

/// Lets every hold end.
pub fn open() {
    lock().1 = true;
    CHANGED.notify_all();
}
