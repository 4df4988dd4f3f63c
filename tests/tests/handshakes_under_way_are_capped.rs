//! At most `max_handshakes` connections may be in their handshake at once:
//! one more closes the oldest handshake under way, so silent peers can
//! neither pile up tasks and buffers until their handshake deadline nor keep
//! a real client out by holding every slot.

use std::io::Read;
use std::os::unix::net::UnixStream;

use manager::{Address, Limits, Manager};
use tests::DEADLINE;

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
    // A third is greeted too: the oldest handshake made room, so the first
    // was closed (the rest of its greeting, then the end of the stream).
    let (_third, greeted_third) = greeted(path)?;
    assert!(greeted_third, "a third handshake was refused");
    let mut first = first;
    let mut rest = Vec::new();
    first.read_to_end(&mut rest)?;
    // A real client connects while silent peers hold every slot, and the
    // connected client is served meanwhile.
    let late = manager.connect()?.with_timeout(DEADLINE);
    late.namespace("ns")?.set("x", &2_u8)?;
    assert_eq!(client.namespace("ns")?.get::<u8>("x")?, 2);
    manager.shutdown();
    Ok(())
}
