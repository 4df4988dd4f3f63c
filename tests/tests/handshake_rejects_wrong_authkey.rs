//! A client with the wrong key is refused with a clear error; a peer that
//! never finishes its handshake is cut off at the deadline; other clients
//! are served all along.

use std::time::Duration;

use manager::{Address, AuthKey, Error, Manager, blocking};
use manager_ipc::handshake::HandshakeError;
use std::io::Read;
use tests::DEADLINE;

#[test]
fn wrong_authkey_is_rejected_and_others_are_served() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let good = manager.connect()?.with_timeout(DEADLINE);
    let ns = good.namespace("ns")?;
    ns.set("before", &1_i64)?;

    let wrong = AuthKey::from_bytes(*b"not the key")?;
    let err = blocking::Client::connect(manager.address(), &wrong).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Handshake {
                cause: HandshakeError::Rejected(_),
                ..
            }
        ),
        "unexpected error: {err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("authentication failed"), "{message}");
    assert!(
        message.contains(&manager.address().to_string()),
        "{message}"
    );

    // The good client's connection was never disturbed.
    ns.set("after", &2_i64)?;
    assert_eq!(ns.get::<i64>("before")? + ns.get::<i64>("after")?, 3);
    Ok(())
}

#[test]
fn silent_peer_is_cut_off_at_the_handshake_deadline() -> anyhow::Result<()> {
    let manager = Manager::builder()
        .handshake_timeout(Duration::from_millis(200))
        .start()?;
    let Address::Unix(path) = manager.address().clone() else {
        unreachable!()
    };
    let good = manager.connect()?.with_timeout(DEADLINE);
    let mut silent = std::os::unix::net::UnixStream::connect(&path)?;
    silent.set_read_timeout(Some(DEADLINE))?;
    // Served while the silent peer holds its connection open.
    good.namespace("ns")?.add("n", 1)?;
    // The manager sends its hello, then gives up on us: end of stream.
    let mut sink = Vec::new();
    let read = silent.read_to_end(&mut sink);
    assert!(
        read.is_ok(),
        "the manager never closed a silent handshake: {read:?}"
    );
    assert_eq!(good.namespace("ns")?.get::<i64>("n")?, 1);
    Ok(())
}
