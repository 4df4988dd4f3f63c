//! Over a manager-wide limit, the one request or connection over it is
//! refused with a clear, typed error, and the manager goes on serving: a
//! connection over `max_connections` is refused in the handshake with the
//! reason, a create over `max_objects` fails with `LimitReached`, and both
//! work again once something has gone.

use manager::{Error, Limits, Manager};
use manager_core::ManagerError;
use tests::{DEADLINE, wait_until};

#[test]
fn a_connection_over_the_limit_is_refused_with_the_reason() -> anyhow::Result<()> {
    let manager = Manager::builder()
        .limits(Limits {
            max_connections: 2,
            ..Limits::default()
        })
        .start()?;
    let first = manager.connect()?.with_timeout(DEADLINE);
    let second = manager.connect()?.with_timeout(DEADLINE);
    let err = manager.connect().unwrap_err();
    assert!(matches!(err, Error::Handshake { .. }), "{err:?}");
    assert!(
        err.to_string()
            .ends_with(": too many connections: the limit is 2"),
        "{err}"
    );
    // Those connected are served as before.
    first.namespace("ns")?.set("x", &1_u8)?;
    assert_eq!(second.namespace("ns")?.get::<u8>("x")?, 1);
    // Once one has gone, a new one is taken (the manager frees the slot
    // when it sees the close, which no event here announces).
    drop(first);
    let mut third = None;
    wait_until("a slot is free again", || {
        third = manager.connect().ok();
        Ok(third.is_some())
    })?;
    let third = third.expect("connected").with_timeout(DEADLINE);
    assert_eq!(third.namespace("ns")?.get::<u8>("x")?, 1);
    manager.shutdown();
    Ok(())
}

#[test]
fn a_create_over_the_object_limit_fails_alone() -> anyhow::Result<()> {
    let manager = Manager::builder()
        .limits(Limits {
            max_objects: 3,
            ..Limits::default()
        })
        .start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    for name in ["a", "b", "c"] {
        client.namespace(name)?;
    }
    let err = client.list::<u8>("d").unwrap_err();
    let Error::Manager(ManagerError::LimitReached { what, max }) = &err else {
        panic!("expected LimitReached, got {err:?}");
    };
    assert_eq!((what.as_str(), *max), ("objects", 3));
    assert_eq!(err.to_string(), "too many objects: the limit is 3");
    // Getting an object that exists is no create: it still works.
    client.namespace("a")?.set("x", &1_u8)?;
    // The connection goes on, and a removal makes room.
    assert!(client.remove("b")?);
    client.list::<u8>("d")?.append(&7)?;
    assert_eq!(client.objects()?.len(), 3);
    manager.shutdown();
    Ok(())
}
