//! A manager on several threads: an object whose request keeps its thread
//! busy does not stall the clients and objects on the other threads. With
//! one thread it does, which shows the test can tell the two apart.
//!
//! Connections go to the thread with the fewest live ones and objects to
//! their creator's (docs/semantics.md, *Threads*): with two threads, each
//! client and the object it creates share one thread, and the registry has
//! its own.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use manager::{CallInfo, CustomObject, CustomType, Error, Manager};
use serde::{Deserialize, Serialize};
use tests::DEADLINE;

/// An object whose `Hold` request keeps its thread until the test lets it
/// go: an expensive request, made controllable.
struct Gate;

#[derive(Serialize, Deserialize)]
enum GateRequest {
    /// Blocks the object's thread until [`release`], at most [`DEADLINE`].
    Hold,
    /// Answers at once.
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

impl CustomObject for Gate {
    fn create((): ()) -> Result<Self, String> {
        Ok(Gate)
    }

    fn handle(&mut self, request: GateRequest, _call: &CallInfo<'_>) -> bool {
        match request {
            GateRequest::Ping => true,
            GateRequest::Hold => {
                let mut state = STATE.lock().unwrap();
                state.0 = true;
                CHANGED.notify_all();
                let (state, _) = CHANGED
                    .wait_timeout_while(state, DEADLINE, |s| !s.1)
                    .unwrap();
                state.1
            }
        }
    }
}

/// How long a call that must be answered while an object holds its thread
/// may take: the hold lasts until the test releases it, after the call, so
/// a call held up by it would time out however long this is; generous, so
/// a loaded machine cannot fail the test.
const ANSWERS: Duration = Duration::from_secs(5);

/// The tests share [`STATE`], so they take turns.
static SERIAL: Mutex<()> = Mutex::new(());

fn set(update: impl FnOnce(&mut (bool, bool))) {
    update(&mut STATE.lock().unwrap());
    CHANGED.notify_all();
}

/// Sends `gate` a `Hold` from a thread of its own and returns once the
/// hold has begun (within [`DEADLINE`]); the thread ends with the call.
fn hold(gate: manager::blocking::Custom<Gate>) -> std::thread::JoinHandle<Result<bool, Error>> {
    set(|s| *s = (false, false));
    let holder = std::thread::spawn(move || gate.call(GateRequest::Hold));
    let state = STATE.lock().unwrap();
    let (state, _) = CHANGED
        .wait_timeout_while(state, DEADLINE, |s| !s.0)
        .unwrap();
    assert!(state.0, "the hold began within the deadline");
    holder
}

/// Runs `check` while object `a` holds its thread, with `b` made by a
/// second client beforehand; returns what `check` saw.
fn while_one_object_holds_its_thread<T>(
    threads: usize,
    second_timeout: Duration,
    check: impl FnOnce(&manager::blocking::Custom<Gate>, &manager::blocking::Client) -> T,
) -> anyhow::Result<T> {
    let manager = Manager::builder()
        .threads(threads)
        .register::<Gate>()
        .start()?;
    let first = manager.connect()?.with_timeout(DEADLINE);
    let second = manager.connect()?.with_timeout(second_timeout);
    let a = first.custom::<Gate>("a", &())?;
    let b = second.custom::<Gate>("b", &())?;
    let holder = hold(a);
    let seen = check(&b, &second);
    set(|s| s.1 = true);
    let held = holder.join().expect("holder thread")?;
    assert!(held, "the hold ended by release, not by its deadline");
    // Once released, both clients are served again.
    assert!(b.call(GateRequest::Ping)?);
    assert!(first.custom::<Gate>("a", &())?.call(GateRequest::Ping)?);
    Ok(seen)
}

#[test]
fn other_threads_keep_serving_while_one_object_is_busy() -> anyhow::Result<()> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let pinged = while_one_object_holds_its_thread(2, ANSWERS, |b, _| b.call(GateRequest::Ping))?;
    assert!(pinged?, "the object on the other thread answered at once");
    Ok(())
}

#[test]
fn the_registry_and_new_connections_are_never_held_up() -> anyhow::Result<()> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Whichever client holds its thread (here the second, whose thread a
    // manager that shared the registry's thread would have used), creating
    // objects and connecting go on: the registry has a thread of its own.
    let manager = Manager::builder().threads(2).register::<Gate>().start()?;
    let first = manager.connect()?.with_timeout(ANSWERS);
    let second = manager.connect()?.with_timeout(DEADLINE);
    let held = second.custom::<Gate>("held", &())?;
    let holder = hold(held);
    let created = first.namespace("made-meanwhile").map(|_| ());
    let third = manager.connect().map(|c| c.with_timeout(ANSWERS));
    let listed = third.as_ref().map(|c| c.objects().map(|o| o.len()));
    set(|s| s.1 = true);
    assert!(holder.join().expect("holder thread")?);
    created?;
    assert!(
        listed.is_ok_and(|n| n.is_ok_and(|n| n >= 2)),
        "a new client connects and lists"
    );
    Ok(())
}

#[test]
fn one_thread_is_shared_by_everything() -> anyhow::Result<()> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let pinged = while_one_object_holds_its_thread(1, Duration::from_millis(300), |b, _| {
        b.call(GateRequest::Ping)
    })?;
    assert!(
        matches!(pinged, Err(Error::Timeout { .. })),
        "with one thread the busy object holds up the other: {pinged:?}"
    );
    Ok(())
}
