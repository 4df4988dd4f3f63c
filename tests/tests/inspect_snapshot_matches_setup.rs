//! An inspection snapshot shows what the manager really holds: a queue's
//! backlog, a dict's entries, a lock held by a worker process (whose
//! connection shows its pid and the lock) with a waiter parked on it, sane
//! mailbox and request counts, and the totals. A worker process can ask
//! too, over its own connection.

use std::time::Duration;

use manager::inspect::{KindDetail, ManagerSnapshot, Peer};
use manager::{Encoded, ObjectKind, PROTOCOL_VERSION, WorkerError};
use tests::locks::{HoldLock, LockKind};
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

const BACKLOG: u32 = 25;
const ENTRIES: u32 = 7;

#[test]
fn snapshot_matches_a_known_setup() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let ns = client.namespace(SHARED)?;

    let backlog = client.queue::<u32>("backlog", None)?;
    for k in 0..BACKLOG {
        backlog.put(&k)?;
    }
    let table = client.dict::<u32, String>("table")?;
    table.update((0..ENTRIES).map(|k| (k, format!("entry {k}"))))?;

    let args = HoldLock {
        lock: "resource".into(),
        kind: LockKind::Lock,
        depth: 1,
        announce: "holder".into(),
    };
    let mut holder =
        manager
            .launcher()
            .spawn_program(worker_program!(), "hold_lock_and_park", &args)?;
    wait_until("the worker holds the lock", || Ok(ns.contains("holder")?))?;
    let lock = client.lock("resource")?;
    let waiter = {
        let client = client.clone();
        std::thread::spawn(move || -> anyhow::Result<bool> {
            let lock = client.lock("resource")?;
            let got = lock.acquire_timeout(DEADLINE)?;
            Ok(got && lock.release().is_ok())
        })
    };
    wait_until("the waiter is parked on the lock", || {
        Ok(lock.n_waiting()? == 1)
    })?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (snapshot, asker) = runtime.block_on(async {
        let asker = manager.connect_async().await?.with_timeout(DEADLINE);
        anyhow::Ok((asker.inspect().await?, asker.connection_id()))
    })?;
    check(&snapshot, asker, holder.pid())?;

    // A worker process asks over its own connection.
    let mut inspector = manager.launcher().spawn_program(
        worker_program!(),
        "inspect_from_worker",
        &"resource".to_owned(),
    )?;
    inspector.join_timeout(DEADLINE)?;

    holder.kill()?;
    let err = holder.join().unwrap_err();
    assert!(matches!(err, WorkerError::Killed { .. }), "{err}");
    let got = waiter.join().expect("the waiter thread panicked")?;
    assert!(got, "the waiter got the lock once its holder died");
    Ok(())
}

fn check(snapshot: &ManagerSnapshot, asker: u64, holder_pid: u32) -> anyhow::Result<()> {
    let own_pid = std::process::id();

    // Totals.
    let totals = &snapshot.totals;
    assert_eq!(totals.protocol_version, PROTOCOL_VERSION);
    assert_eq!(totals.build_version, env!("CARGO_PKG_VERSION"));
    // This process's blocking client (shared by the waiter thread), the
    // asking client, and the worker.
    assert_eq!(totals.connections_now, 3, "{:#?}", snapshot.connections);
    assert!(totals.connections_total >= 3);
    assert!(totals.recent_requests <= totals.requests_total);
    assert!(totals.started_at <= totals.taken_at);
    assert_eq!(snapshot.requested_by, asker);

    // Objects: sorted by name, each reported, nothing left in a mailbox
    // (every request sent has been taken: its reply came, or it is parked).
    let names: Vec<_> = snapshot.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["backlog", "resource", SHARED, "table"]);
    for object in &snapshot.objects {
        assert_eq!(object.mailbox, 0, "{object:?}");
        assert!(object.detail.is_some(), "{object:?}");
        assert!(object.created_at <= totals.taken_at);
        assert!(
            object
                .last_operation
                .is_some_and(|t| t >= object.created_at)
        );
    }

    // Every request handled is in its object's latency, in order of size.
    for object in &snapshot.objects {
        let latency = object.latency.as_ref().expect("reported with the detail");
        assert_eq!(latency.count, object.messages_handled, "{object:?}");
        assert!(
            Duration::ZERO < latency.p50
                && latency.p50 <= latency.p90
                && latency.p90 <= latency.p99
                && latency.p99 <= latency.max
                && latency.max < DEADLINE,
            "{object:?}"
        );
    }

    let queue = snapshot.object("backlog").unwrap();
    assert_eq!(queue.kind, ObjectKind::Queue);
    assert_eq!(queue.messages_handled, u64::from(BACKLOG));
    let detail = queue.detail.as_ref().unwrap();
    assert_eq!(
        detail.size,
        KindDetail::Queue {
            len: u64::from(BACKLOG),
            maxsize: None,
            unfinished: None,
            in_flight: 0,
        }
    );
    assert_eq!(detail.waiters, 0);
    let expected_bytes = (0..BACKLOG)
        .map(|k| Ok(Encoded::encode(&k)?.heap_size() as u64))
        .sum::<anyhow::Result<u64>>()?;
    assert_eq!(detail.bytes_held, expected_bytes);

    let dict = snapshot.object("table").unwrap();
    assert_eq!(dict.kind, ObjectKind::Dict);
    assert_eq!(dict.messages_handled, 1, "one update for every entry");
    let detail = dict.detail.as_ref().unwrap();
    assert_eq!(
        detail.size,
        KindDetail::Items {
            len: u64::from(ENTRIES)
        }
    );
    assert!(detail.bytes_held > 0);

    // The lock: held once by the worker's connection, one waiter parked.
    let lock = snapshot.object("resource").unwrap();
    assert_eq!(lock.kind, ObjectKind::Lock);
    let detail = lock.detail.as_ref().unwrap();
    assert_eq!(detail.size, KindDetail::Lock { depth: 1 });
    assert_eq!(detail.waiters, 1);
    assert_eq!(detail.holders.len(), 1);

    // The worker's connection shows its pid and that it holds the lock.
    let workers: Vec<_> = snapshot.connections_of_pid(holder_pid).collect();
    assert_eq!(workers.len(), 1, "{:#?}", snapshot.connections);
    let worker = workers[0];
    assert_eq!(detail.holders[0].connection, worker.id);
    assert_eq!(worker.holds.len(), 1);
    assert_eq!(worker.holds[0].name.as_str(), "resource");
    assert_eq!(worker.holds[0].kind, ObjectKind::Lock);
    assert_eq!(worker.holds[0].count, 1);
    assert_eq!(
        worker.requests_in_flight, 0,
        "the worker is parked, not waiting"
    );
    // Create the lock, acquire it, open the namespace, announce.
    assert_eq!(worker.requests_served, 4);
    assert!(matches!(worker.peer, Peer::Unix { uid: Some(_), .. }));

    // This process: the blocking client with the parked acquire in flight,
    // and the asking client with the inspection itself in flight.
    let mine: Vec<_> = snapshot.connections_of_pid(own_pid).collect();
    assert_eq!(mine.len(), 2, "{:#?}", snapshot.connections);
    for connection in &mine {
        assert!(connection.holds.is_empty());
        assert_eq!(connection.requests_in_flight, 1, "{connection:?}");
        assert!(connection.connected_at <= totals.taken_at);
    }
    let asking = snapshot.connection(asker).unwrap();
    assert_eq!(asking.requests_served, 0);
    let blocking = mine.iter().find(|c| c.id != asker).unwrap();
    assert!(blocking.requests_served > u64::from(BACKLOG));
    Ok(())
}
