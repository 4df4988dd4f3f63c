//! SIGTERM or SIGINT stops a stand-alone `manager-server` cleanly: it exits
//! 0, its socket file is gone, and its clients learn the manager is gone.

mod server_support;

use manager::{AuthKey, Error, blocking};
use server_support::{Proc, server_with_key};
use tests::DEADLINE;

fn stops_on(signal: libc::c_int) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("manager.sock");
    let key = AuthKey::random()?;
    let (mut server, address) = Proc::start_server(server_with_key(
        &["--unix", socket.to_str().expect("utf-8 temp path")],
        &key,
    ))?;
    let ns = blocking::Client::connect(&address, &key)?
        .with_timeout(DEADLINE)
        .namespace("ns")?;
    ns.set("x", &1_i64)?;
    assert!(socket.exists());

    server.signal(signal)?;
    let (status, stderr) = server.wait()?;
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
    assert!(!socket.exists(), "the socket file outlived the server");
    assert!(stderr.contains("stopping the manager"), "{stderr}");

    let err = ns.get::<i64>("x").unwrap_err();
    assert!(matches!(err, Error::ManagerGone { .. }), "{err:?}");
    Ok(())
}

#[test]
fn sigterm_removes_the_socket_and_exits_zero() -> anyhow::Result<()> {
    stops_on(libc::SIGTERM)
}

#[test]
fn sigint_removes_the_socket_and_exits_zero() -> anyhow::Result<()> {
    stops_on(libc::SIGINT)
}
