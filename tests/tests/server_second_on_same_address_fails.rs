//! A second server on an address in use fails at once with a one-line
//! error and exit code 1, and leaves the first one serving (its socket file
//! included). A stale socket file is named as such.

mod server_support;

use manager::{Address, AuthKey, blocking};
use server_support::{Proc, assert_one_line_error, server_with_key};
use tests::DEADLINE;

fn second_fails(args: &[&str], key: &AuthKey, parts: &[&str]) -> anyhow::Result<()> {
    let mut second = Proc::spawn(server_with_key(args, key))?;
    let (status, stderr) = second.wait()?;
    assert_eq!(status.code(), Some(1), "{status}: {stderr}");
    assert_one_line_error(&stderr, parts);
    Ok(())
}

fn still_serves(address: &Address, key: &AuthKey) -> anyhow::Result<()> {
    let ns = blocking::Client::connect(address, key)?
        .with_timeout(DEADLINE)
        .namespace("ns")?;
    assert_eq!(ns.add("n", 1)?, 1);
    Ok(())
}

#[test]
fn second_server_on_a_unix_path_in_use_fails() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("manager.sock");
    let path = socket.to_str().expect("utf-8 temp path");
    let key = AuthKey::random()?;
    let (_first, address) = Proc::start_server(server_with_key(&["--unix", path], &key))?;

    second_fails(
        &["--unix", path],
        &key,
        &[
            &format!("bind unix:{path}: "),
            "in use",
            "another server is listening there",
        ],
    )?;
    assert!(
        socket.exists(),
        "the failed server removed the first one's socket"
    );
    still_serves(&address, &key)
}

#[test]
fn second_server_on_a_tcp_port_in_use_fails() -> anyhow::Result<()> {
    let key = AuthKey::random()?;
    let (_first, address) = Proc::start_server(server_with_key(&["--tcp", "127.0.0.1:0"], &key))?;
    let Address::Tcp(addr) = address else {
        unreachable!()
    };
    let addr = addr.to_string();
    second_fails(
        &["--tcp", &addr],
        &key,
        &[&format!("bind tcp:{addr}: "), "in use"],
    )?;
    still_serves(&address, &key)
}

#[test]
fn a_stale_socket_file_is_named_as_such() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("manager.sock");
    // What a killed server leaves: a socket file nobody listens on.
    drop(std::os::unix::net::UnixListener::bind(&socket)?);
    let path = socket.to_str().expect("utf-8 temp path");
    second_fails(
        &["--unix", path],
        &AuthKey::random()?,
        &[
            "nothing answers there",
            "remove the stale socket file",
            path,
        ],
    )?;
    assert!(
        socket.exists(),
        "the server must not remove a file it did not make"
    );
    Ok(())
}
