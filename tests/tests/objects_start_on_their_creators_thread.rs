//! A manager on several threads places each connection on the thread with
//! the fewest live connections and starts each object on the thread of the
//! connection that created it; inspection shows both (docs/semantics.md,
//! *Threads*).

use manager::{Manager, blocking};
use tests::{DEADLINE, wait_until};

/// The thread inspection shows for `client`'s connection.
fn thread_of(observer: &blocking::Client, client: u64) -> anyhow::Result<u32> {
    observer
        .inspect()?
        .connections
        .iter()
        .find(|c| c.id == client)
        .map(|c| c.thread)
        .ok_or_else(|| anyhow::anyhow!("connection {client} is not listed"))
}

#[test]
fn inspection_shows_objects_on_their_creators_threads() -> anyhow::Result<()> {
    let manager = Manager::builder().threads(3).start()?;
    let a = manager.connect()?.with_timeout(DEADLINE);
    let b = manager.connect()?.with_timeout(DEADLINE);
    a.namespace("a1")?;
    a.list::<u8>("a2")?;
    b.queue::<u8>("b1", None)?;
    // Getting an existing object does not move it.
    b.namespace("a1")?;

    let snapshot = a.inspect()?;
    assert_eq!(snapshot.totals.threads, 3);
    let conn_thread = |id: u64| {
        snapshot
            .connections
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.thread)
            .expect("connection listed")
    };
    let (ta, tb) = (
        conn_thread(a.connection_id()),
        conn_thread(b.connection_id()),
    );
    assert_ne!(ta, tb, "two connections get two threads");
    // With more than one thread, thread 0 keeps the registry alone.
    assert!((1..=3).contains(&ta) && (1..=3).contains(&tb));
    let object_thread = |name: &str| {
        snapshot
            .objects
            .iter()
            .find(|o| o.name.as_str() == name)
            .map(|o| o.thread)
            .expect("object listed")
    };
    assert_eq!(object_thread("a1"), ta);
    assert_eq!(object_thread("a2"), ta);
    assert_eq!(object_thread("b1"), tb);
    Ok(())
}

#[test]
fn one_thread_holds_everything() -> anyhow::Result<()> {
    let manager = Manager::builder().threads(1).start()?;
    let a = manager.connect()?.with_timeout(DEADLINE);
    a.namespace("x")?;
    let snapshot = a.inspect()?;
    assert_eq!(snapshot.totals.threads, 1);
    assert!(snapshot.objects.iter().all(|o| o.thread == 0));
    assert!(snapshot.connections.iter().all(|c| c.thread == 0));
    Ok(())
}

#[test]
fn a_new_connection_takes_the_thread_a_closed_one_left_empty() -> anyhow::Result<()> {
    let manager = Manager::builder().threads(2).start()?;
    let a = manager.connect()?.with_timeout(DEADLINE);
    let b = manager.connect()?.with_timeout(DEADLINE);
    let (ta, tb) = (
        thread_of(&a, a.connection_id())?,
        thread_of(&a, b.connection_id())?,
    );
    assert_ne!(ta, tb, "two connections get two threads");
    let gone = b.connection_id();
    drop(b);
    wait_until("the closed connection is no longer listed", || {
        Ok(a.inspect()?.connections.iter().all(|c| c.id != gone))
    })?;
    // In turns, the third connection would join `a`; counted, it takes the
    // empty thread.
    let c = manager.connect()?.with_timeout(DEADLINE);
    assert_eq!(thread_of(&a, c.connection_id())?, tb);
    let d = manager.connect()?.with_timeout(DEADLINE);
    let td = thread_of(&a, d.connection_id())?;
    assert!(td == ta || td == tb, "thread {td} holds connections");
    Ok(())
}
