//! A stand-alone `manager-server` serves any process that has its address
//! and key: here a plain `std::process::Command` child that no launcher
//! started, given both in variables of the test's own naming, uses a queue,
//! a dict, a list, a value, a lock, a namespace and an event by name,
//! over a Unix socket and over TCP.

mod server_support;

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use manager_ipc::{Address, AuthKey, ObjectKind, blocking};
use server_support::{Proc, plain_worker, server_command, server_with_key};
use tests::DEADLINE;

/// Feeds jobs 1..=5 to a plain client process through the server at
/// `address` and checks what it recorded in each object.
fn plain_process_uses_objects_by_name(address: &Address, key: &AuthKey) -> anyhow::Result<()> {
    let client = blocking::Client::connect(address, key)?.with_timeout(DEADLINE);
    let jobs = client.queue::<i64>("jobs", None)?;
    for n in [1, 2, 3, 4, 5, -1] {
        jobs.put(&n)?;
    }

    let mut command = plain_worker("server_client");
    command
        .env("SERVER_TEST_ADDRESS", address.to_string())
        .env("SERVER_TEST_AUTHKEY", key.to_hex());
    let mut other = Proc::spawn(command)?;
    assert!(
        client.event("finished")?.wait_timeout(DEADLINE)?,
        "the plain process never finished"
    );
    let (status, stderr) = other.wait()?;
    assert!(status.success(), "plain client {status}: {stderr}");

    let squares = client.dict::<i64, i64>("squares")?;
    assert_eq!(squares.items()?, [(1, 1), (2, 4), (3, 9), (4, 16), (5, 25)]);
    assert_eq!(client.list::<i64>("done")?.snapshot()?, [1, 2, 3, 4, 5]);
    assert_eq!(client.value("total", &0_i64)?.get()?, 15);
    assert_eq!(client.namespace("stats")?.get::<i64>("jobs")?, 5);
    assert!(
        !client.lock("lock")?.locked()?,
        "the guard released the lock"
    );

    let mut kinds: Vec<_> = client
        .objects()?
        .into_iter()
        .map(|o| (o.name.to_string(), o.kind))
        .collect();
    kinds.sort_by(|a, b| a.0.cmp(&b.0));
    let names: Vec<_> = kinds.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "done", "finished", "jobs", "lock", "squares", "stats", "total"
        ]
    );
    assert!(
        kinds.contains(&("jobs".into(), ObjectKind::Queue)),
        "{kinds:?}"
    );
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
