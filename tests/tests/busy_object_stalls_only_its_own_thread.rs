//! A manager on several threads: an object whose request keeps its thread
//! busy does not stall the clients and objects on the other threads. With
//! one thread it does, which shows the test can tell the two apart.
//!
//! Connections go to the thread with the fewest live ones and objects to
//! their creator's (docs/semantics.md, *Threads*): with two threads, each
//! client and the object it creates share one thread, and the registry has
//! its own.

use std::time::Duration;

use manager::{Error, Manager};
use tests::DEADLINE;
use tests::gate::{self, Gate, GateRequest};

/// How long a call that must be answered while an object holds its thread
/// may take: the hold lasts until the test releases it, after the call, so
/// a call held up by it would time out however long this is; generous, so
/// a loaded machine cannot fail the test.
const ANSWERS: Duration = Duration::from_secs(5);

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
    let holder = gate::hold(a);
    let seen = check(&b, &second);
    gate::open();
    let held = holder.join().expect("holder thread")?;
    assert!(held, "the hold ended by release, not by its deadline");
    // Once released, both clients are served again.
    assert!(b.call(GateRequest::Ping)?);
    assert!(first.custom::<Gate>("a", &())?.call(GateRequest::Ping)?);
    Ok(seen)
}

#[test]
fn other_threads_keep_serving_while_one_object_is_busy() -> anyhow::Result<()> {
    let _turn = gate::take_turn();
    let pinged = while_one_object_holds_its_thread(2, ANSWERS, |b, _| b.call(GateRequest::Ping))?;
    assert!(pinged?, "the object on the other thread answered at once");
    Ok(())
}

#[test]
fn the_registry_and_new_connections_are_never_held_up() -> anyhow::Result<()> {
    let _turn = gate::take_turn();
    // Whichever client holds its thread (here the second, whose thread a
    // manager that shared the registry's thread would have used), creating
    // objects and connecting go on: the registry has a thread of its own.
    let manager = Manager::builder().threads(2).register::<Gate>().start()?;
    let first = manager.connect()?.with_timeout(ANSWERS);
    let second = manager.connect()?.with_timeout(DEADLINE);
    let held = second.custom::<Gate>("held", &())?;
    let holder = gate::hold(held);
    let created = first.namespace("made-meanwhile").map(|_| ());
    let third = manager.connect().map(|c| c.with_timeout(ANSWERS));
    let listed = third.as_ref().map(|c| c.objects().map(|o| o.len()));
    gate::open();
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
    let _turn = gate::take_turn();
    let pinged = while_one_object_holds_its_thread(1, Duration::from_millis(300), |b, _| {
        b.call(GateRequest::Ping)
    })?;
    assert!(
        matches!(pinged, Err(Error::Timeout { .. })),
        "with one thread the busy object holds up the other: {pinged:?}"
    );
    Ok(())
}
