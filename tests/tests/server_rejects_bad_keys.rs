//! A client with the wrong key is refused with a clear error, and served
//! with the right one; a server without a usable key does not start, with a
//! one-line error that does not quote the key; the key cannot be given on
//! the command line.

mod server_support;

use manager::{AuthKey, Error, blocking};
use manager_ipc::handshake::HandshakeError;
use server_support::{KEY_VAR, Proc, assert_one_line_error, server_command, server_with_key};
use tests::DEADLINE;

#[test]
fn wrong_authkey_is_rejected_with_a_clear_error() -> anyhow::Result<()> {
    let key = AuthKey::random()?;
    let (_server, address) = Proc::start_server(server_with_key(&["--tcp", "127.0.0.1:0"], &key))?;

    let wrong = AuthKey::random()?;
    let err = blocking::Client::connect(&address, &wrong).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Handshake {
                cause: HandshakeError::Rejected(_),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("connect to {address}: authentication failed: wrong authkey")
    );

    let ns = blocking::Client::connect(&address, &key)?
        .with_timeout(DEADLINE)
        .namespace("ns")?;
    assert_eq!(ns.add("n", 1)?, 1);
    Ok(())
}

fn fails_to_start(command: std::process::Command) -> anyhow::Result<(i32, String)> {
    let mut server = Proc::spawn(command)?;
    let (status, stderr) = server.wait()?;
    Ok((status.code().unwrap_or(-1), stderr))
}

#[test]
fn missing_key_is_a_one_line_error() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("manager.sock");
    let socket_arg = socket.to_str().expect("utf-8 temp path");

    let (code, stderr) = fails_to_start(server_command(&[
        "--unix",
        socket_arg,
        "--authkey-env",
        KEY_VAR,
    ]))?;
    assert_eq!(code, 1, "{stderr}");
    assert_one_line_error(&stderr, &[KEY_VAR, "is not set", "--authkey-file"]);

    let missing = dir.path().join("no-such.key");
    let mut command = server_command(&["--unix", socket_arg, "--authkey-file"]);
    command.arg(&missing);
    let (code, stderr) = fails_to_start(command)?;
    assert_eq!(code, 1, "{stderr}");
    assert_one_line_error(
        &stderr,
        &["read the authkey file", &missing.display().to_string()],
    );

    assert!(!socket.exists(), "a server without a key bound its socket");
    Ok(())
}

#[test]
fn malformed_key_is_a_one_line_error_that_does_not_quote_it() -> anyhow::Result<()> {
    let secretish = "s3cret-but-not-hex";
    let mut command = server_command(&["--tcp", "127.0.0.1:0", "--authkey-env", KEY_VAR]);
    command.env(KEY_VAR, secretish);
    let (code, stderr) = fails_to_start(command)?;
    assert_eq!(code, 1, "{stderr}");
    assert_one_line_error(&stderr, &[KEY_VAR, "is not hex"]);
    assert!(
        !stderr.contains(secretish) && !stderr.contains("'s'"),
        "{stderr}"
    );

    let dir = tempfile::tempdir()?;
    let empty = dir.path().join("empty.key");
    std::fs::write(&empty, "\n")?;
    let mut command = server_command(&["--tcp", "127.0.0.1:0", "--authkey-file"]);
    command.arg(&empty);
    let (code, stderr) = fails_to_start(command)?;
    assert_eq!(code, 1, "{stderr}");
    assert_one_line_error(&stderr, &["must not be empty"]);
    Ok(())
}

#[test]
fn the_key_is_not_accepted_on_the_command_line() -> anyhow::Result<()> {
    let key = AuthKey::random()?.to_hex();
    let (code, stderr) =
        fails_to_start(server_command(&["--tcp", "127.0.0.1:0", "--authkey", &key]))?;
    assert_eq!(code, 2, "a usage error: {stderr}");
    assert!(stderr.contains("--authkey"), "{stderr}");
    Ok(())
}
