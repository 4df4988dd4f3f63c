//! A stand-alone `manager-server` serves any process that has its address
//! and key: here a plain `std::process::Command` child that no launcher
//! started, given both in variables of the test's own naming, uses one
//! object of every built-in kind by name, in step with the test, over a
//! Unix socket and over TCP. Each kind gets a check that crosses the
//! processes: one side writes, releases or signals, the other sees it.

mod server_support;

use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use manager::{Address, AuthKey, Error, ManagerError, ObjectKind, blocking};
use server_support::{Proc, plain_worker, server_command, server_with_key};
use tests::DEADLINE;

/// Every built-in kind.
const ALL_KINDS: [ObjectKind; 15] = [
    ObjectKind::Namespace,
    ObjectKind::List,
    ObjectKind::Dict,
    ObjectKind::Set,
    ObjectKind::Value,
    ObjectKind::Array,
    ObjectKind::Queue,
    ObjectKind::JoinableQueue,
    ObjectKind::Lock,
    ObjectKind::RLock,
    ObjectKind::Semaphore,
    ObjectKind::BoundedSemaphore,
    ObjectKind::Event,
    ObjectKind::Condition,
    ObjectKind::Barrier,
];

/// Runs the `server_client` entry of the test worker as a plain process
/// against the server at `address`, playing the other side of each step
/// (see that entry), then checks what it left in every object.
fn plain_process_uses_objects_by_name(address: &Address, key: &AuthKey) -> anyhow::Result<()> {
    let client = blocking::Client::connect(address, key)?.with_timeout(DEADLINE);

    // Prepared before the other process starts.
    let jobs = client.queue::<i64>("jobs", None)?;
    for n in [1, 2, 3, 4, 5, -1] {
        jobs.put(&n)?;
    }
    let slots = client.array("slots", &[0_i64; 5])?;
    let work = client.joinable_queue::<String>("work", None)?;
    for item in ["index", "resize", "upload"] {
        work.put(&item.to_owned())?;
    }
    let permits = client.semaphore("permits", 0)?;
    let single = client.bounded_semaphore("single", 1)?;
    assert!(single.try_acquire()?, "the test takes the only unit first");
    let meet = client.barrier("meet", 2)?;
    let rlock = client.rlock("rlock")?;
    let cond = client.condition("cond")?;
    let release_rlock = client.event("release_rlock")?;
    let finished = client.event("finished")?;
    let stats = client.namespace("stats")?;

    let mut command = plain_worker("server_client");
    command
        .env("SERVER_TEST_ADDRESS", address.to_string())
        .env("SERVER_TEST_AUTHKEY", key.to_hex());
    let mut other = Proc::spawn(command)?;

    // Barrier: both processes arrive, with distinct indices.
    let mine = meet.wait_timeout(DEADLINE)?;
    // Joinable queue: returns only once the other process marked every
    // item done.
    assert!(work.join_timeout(DEADLINE)?, "work items not marked done");
    assert!(work.is_empty()?);
    // Semaphore: the two units the other process released.
    for _ in 0..2 {
        assert!(permits.acquire_timeout(DEADLINE)?, "no unit from the other");
    }
    // Bounded semaphore: hand our unit over; the other process waits for it.
    single.release()?;
    // Condition: woken when the other process holds the rlock.
    {
        let _guard = cond.guard()?;
        let told = cond.wait_for(
            || stats.contains("rlock_held").unwrap_or(false),
            Some(DEADLINE),
        )?;
        assert!(told, "never notified that the rlock is held");
    }
    // RLock: held by the other process, so not ours to take...
    assert!(
        !rlock.try_acquire()?,
        "the rlock is held by the other process"
    );
    // ...until it lets go of both levels.
    release_rlock.set()?;
    assert!(
        finished.wait_timeout(DEADLINE)?,
        "the plain process never finished"
    );
    let (status, stderr) = other.wait()?;
    assert!(status.success(), "plain client {status}: {stderr}");
    assert!(
        rlock.acquire_timeout(DEADLINE)?,
        "the rlock was not released"
    );
    rlock.release()?;

    // What the other process wrote.
    let squares = client.dict::<i64, i64>("squares")?;
    assert_eq!(squares.items()?, [(1, 1), (2, 4), (3, 9), (4, 16), (5, 25)]);
    assert_eq!(client.list::<i64>("done")?.snapshot()?, [1, 2, 3, 4, 5]);
    assert_eq!(client.value("total", &0_i64)?.get()?, 15);
    assert_eq!(client.set::<i64>("seen")?.snapshot()?, [1, 2, 3, 4, 5]);
    assert_eq!(slots.snapshot()?, [10, 20, 30, 40, 50]);
    assert_eq!(stats.get::<i64>("jobs")?, 5);
    assert_eq!(
        stats.get::<Vec<String>>("work")?,
        ["index", "resize", "upload"]
    );
    let theirs = stats.get::<u64>("barrier_index")?;
    assert_eq!(
        BTreeSet::from([mine, theirs]),
        BTreeSet::from([0, 1]),
        "distinct arrival indices"
    );
    assert!(stats.get::<bool>("single_taken")?);
    assert_eq!(single.value()?, 1, "the other process gave the unit back");
    let error = single.release().unwrap_err();
    assert!(
        matches!(error, Error::Manager(ManagerError::TooManyReleases { .. })),
        "{error:?}"
    );
    assert_eq!(permits.value()?, 0);
    assert!(
        !client.lock("lock")?.locked()?,
        "the guard released the lock"
    );
    assert!(!meet.broken()?);
    assert!(jobs.is_empty()?);

    let mut objects: Vec<_> = client
        .objects()?
        .into_iter()
        .map(|o| (o.name.to_string(), o.kind))
        .collect();
    objects.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<_> = objects.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "cond",
            "done",
            "finished",
            "jobs",
            "lock",
            "meet",
            "permits",
            "release_rlock",
            "rlock",
            "seen",
            "single",
            "slots",
            "squares",
            "stats",
            "total",
            "work",
        ]
    );
    for kind in ALL_KINDS {
        assert!(
            objects.iter().any(|(_, k)| *k == kind),
            "no object of kind {kind:?} in {objects:?}"
        );
    }
    Ok(())
}

#[test]
fn over_a_unix_socket_with_the_key_in_a_named_variable() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("manager.sock");
    let key = AuthKey::random()?;
    let (_server, address) = Proc::start_server(server_with_key(
        &["--unix", socket.to_str().expect("utf-8 temp path")],
        &key,
    ))?;
    assert_eq!(address, Address::Unix(socket));
    plain_process_uses_objects_by_name(&address, &key)
}

#[test]
fn over_tcp_with_the_key_in_a_file() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let key_file = dir.path().join("manager.key");
    let key = AuthKey::random()?;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&key_file)?
        .write_all(format!("{}\n", key.to_hex()).as_bytes())?;
    let (_server, address) = Proc::start_server({
        let mut command = server_command(&["--tcp", "127.0.0.1:0", "--authkey-file"]);
        command.arg(&key_file);
        command
    })?;
    assert!(
        matches!(address, Address::Tcp(addr) if addr.ip().is_loopback() && addr.port() != 0),
        "the ready line gives the port picked: {address}"
    );
    plain_process_uses_objects_by_name(&address, &key)
}
