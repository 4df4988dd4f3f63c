//! `ManagerProcessBuilder::max_frame` and `handshake_timeout` reach the
//! manager in the child: a request over its frame limit fails alone with a
//! typed error while the connection keeps working, and a client that never
//! authenticates is dropped after the handshake timeout. A malformed limit
//! in the child's environment is a clear error at start.

mod server_support;

use std::io::Read;
use std::time::{Duration, Instant};

use manager::manager::DEFAULT_HANDSHAKE_TIMEOUT;
use manager::manager_process::{ENV_HANDSHAKE_TIMEOUT_MS, ENV_MAX_FRAME, SERVER_ENTRY};
use manager::{Address, AuthKey, Error, ManagerProcess};
use server_support::{Proc, plain_worker};
use tests::{DEADLINE, worker_program};

#[test]
fn a_request_over_the_frame_limit_fails_alone() -> anyhow::Result<()> {
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .max_frame(4 * 1024)
        .start()?;
    let ns = manager
        .connect()?
        .with_timeout(DEADLINE)
        .namespace("data")?;
    // The client learned the child's limit in the handshake and refuses
    // to send the frame, so the connection stays up.
    let err = ns.set("big", &vec![7_u8; 8 * 1024]).unwrap_err();
    assert!(matches!(err, Error::Encode(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("exceeds the maximum of 4096 bytes"),
        "{err}"
    );
    ns.set("small", &vec![7_u8; 1024])?;
    assert_eq!(ns.get::<Vec<u8>>("small")?.len(), 1024);
    manager.shutdown()?;
    Ok(())
}

#[test]
fn a_client_that_never_authenticates_is_dropped_after_the_handshake_timeout() -> anyhow::Result<()>
{
    let timeout = Duration::from_millis(100);
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .handshake_timeout(timeout)
        .start()?;
    let Address::Unix(path) = manager.address() else {
        unreachable!("a private Unix socket by default")
    };
    let mut silent = std::os::unix::net::UnixStream::connect(path)?;
    silent.set_read_timeout(Some(DEADLINE))?;
    let started = Instant::now();
    // Whatever the manager sends first, it then closes the connection.
    let mut received = Vec::new();
    silent.read_to_end(&mut received)?;
    let after = started.elapsed();
    // Far below the default, which would apply had the setting been lost.
    assert!(
        after < DEFAULT_HANDSHAKE_TIMEOUT / 2,
        "closed after {after:?}, not within the {timeout:?} asked for"
    );
    // Clients that do authenticate are served as usual.
    let value = manager
        .connect()?
        .with_timeout(DEADLINE)
        .value("v", &1_i64)?;
    assert_eq!(value.add(1)?, 2);
    manager.shutdown()?;
    Ok(())
}

#[test]
fn a_malformed_limit_in_the_environment_is_a_clear_start_error() -> anyhow::Result<()> {
    let key = AuthKey::random()?;
    for (variable, value, what) in [
        (ENV_MAX_FRAME, "16MiB", "a number of bytes"),
        (ENV_MAX_FRAME, "-1", "a number of bytes"),
        (ENV_HANDSHAKE_TIMEOUT_MS, "5s", "a number of milliseconds"),
        (ENV_HANDSHAKE_TIMEOUT_MS, "", "a number of milliseconds"),
    ] {
        // The child of a ManagerProcess, started by hand to give it a bad
        // environment (the builder only writes good ones).
        let mut command = plain_worker(SERVER_ENTRY);
        command
            .env("MANAGER_AUTHKEY", key.to_hex())
            .env_remove(ENV_MAX_FRAME)
            .env_remove(ENV_HANDSHAKE_TIMEOUT_MS)
            .env(variable, value);
        let mut child = Proc::spawn(command)?;
        let line = child.next_line()?;
        assert_eq!(
            line,
            format!("error: {variable}: `{value}` is not {what}"),
            "{variable}={value:?}"
        );
        let (status, _) = child.wait()?;
        assert_eq!(status.code(), Some(1), "{variable}={value:?}: {status}");
    }
    Ok(())
}
