//! At most `max_handshakes` connections may be in their handshake at once:
//! one more is closed at once, before the manager says a word, so silent
//! peers cannot pile up tasks and buffers until their handshake deadline.
//! Authenticated clients are not held up by the cap once connected, and a
//! slot frees as soon as a silent peer goes.

use std::io::Read;
use std::os::unix::net::UnixStream;

use manager_ipc::{Address, Limits, Manager};
use tests::{DEADLINE, wait_until};

/// Connects and reads the manager's first bytes: `Some` if it greeted,
/// `None` if it closed the connection without a word.
fn greeted(path: &std::path::Path) -> anyhow::Result<(UnixStream, bool)> {
    let mut stream = UnixStream::connect(path)?;
    stream.set_read_timeout(Some(DEADLINE))?;
    let mut first = [0_u8; 8];
    let n = stream.read(&mut first)?;
    Ok((stream, n > 0))
}

#[test]
fn one_handshake_over_the_cap_is_closed_at_once() -> anyhow::Result<()> {
    let manager = Manager::builder()
        .limits(Limits {
            max_handshakes: 2,
            handshake_timeout: DEADLINE * 4,
            ..Limits::default()
        })
        .start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let Address::Unix(path) = manager.address() else {
        unreachable!("a private Unix socket by default")
    };
    // Two silent peers take both slots (each was greeted, so accepted).
    let (first, greeted_first) = greeted(path)?;
    let (_second, greeted_second) = greeted(path)?;
    assert!(greeted_first && greeted_second);
    // A third is closed without a word.
    let (_third, greeted_third) = greeted(path)?;
    assert!(!greeted_third, "a third handshake was let in");
    // The connected client is served meanwhile.
    client.namespace("ns")?.set("x", &1_u8)?;
    // Once a silent peer goes, its slot frees.
    drop(first);
    let mut kept = Vec::new();
    wait_until("a handshake slot frees", || {
        let (stream, ok) = greeted(path)?;
        kept.push(stream);
        Ok(ok)
    })?;
    manager.shutdown();
    Ok(())
}
