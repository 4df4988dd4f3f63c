//! Shared memory blocks in one process: a block is created or found by
//! name, checked for its size and element type, listed and inspected with
//! its size and holders, removed by name (which frees the name at once);
//! sizes of 0, over the manager's limits and blocks past its count are
//! clear errors; and mapping over TCP is refused, by the client before it
//! asks and by the manager for a hand-made request.

use std::time::Duration;

use manager::inspect::KindDetail;
use manager::{Error, Limits, Manager, ManagerError, ObjectKind};
use manager_core::request::{Request, SharedMemoryRequest};
use tests::DEADLINE;

#[test]
fn a_block_is_created_found_checked_and_removed() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);

    let block = client.shared_memory("frame", 4096)?;
    assert_eq!(block.size()?, 4096);
    assert_eq!(*block.kind(), ObjectKind::SharedMemory);
    let mapping = block.map()?;
    assert_eq!(mapping.len(), 4096);
    assert!(mapping.to_vec(..).iter().all(|&b| b == 0), "zero-filled");
    mapping.write(100, b"abc");

    // Found by name: the same bytes.
    let again = client.shared_memory("frame", 4096)?.map()?;
    assert_eq!(again.to_vec(100..103), b"abc");

    // Another size is a clear error, naming both.
    let err = client.shared_memory("frame", 8192).unwrap_err();
    let Error::Manager(ManagerError::WrongSize {
        size, requested, ..
    }) = &err
    else {
        panic!("expected WrongSize, got {err:?}");
    };
    assert_eq!((*size, *requested), (4096, 8192));
    assert_eq!(
        err.to_string(),
        "shared memory `frame` is 4096 bytes long, not 8192"
    );

    // A typed array is refused as another element type of the same size.
    let counters = client.shared_array::<u64>("counters", 4)?;
    counters.set(3, 7);
    let err = client.shared_array::<f64>("counters", 4).unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::WrongType { .. })),
        "{err:?}"
    );
    assert_eq!(client.shared_array::<u64>("counters", 4)?.get(3), Some(7));

    // Listed and inspected: its size, and this connection holding three
    // mappings ("frame" twice).
    let listed = client.objects()?;
    assert!(
        listed
            .iter()
            .any(|o| o.name.as_str() == "frame" && o.kind == ObjectKind::SharedMemory)
    );
    let snapshot = client.inspect()?;
    let detail = snapshot
        .object("frame")
        .and_then(|o| o.detail.clone())
        .expect("frame is inspected");
    assert_eq!(
        detail.size,
        KindDetail::SharedMemory {
            size: 4096,
            mappings: 2
        }
    );
    assert_eq!(detail.holders.len(), 1);
    assert_eq!(detail.holders[0].connection, client.connection_id());
    assert_eq!(detail.holders[0].count, 2);
    assert_eq!(detail.bytes_held, 4096);
    assert_eq!(snapshot.totals.shared_memory_bytes, 4096 + 4 * 8);

    // Removing it frees the name at once: a new block of another size
    // takes it, while the old mappings still see the old bytes.
    assert!(client.remove("frame")?);
    let fresh = client.shared_memory("frame", 8192)?.map()?;
    assert_eq!(fresh.len(), 8192);
    assert!(fresh.to_vec(..).iter().all(|&b| b == 0));
    assert_eq!(mapping.to_vec(100..103), b"abc");
    // The old block serves its holders' unmaps only.
    let err = block.size().unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::ObjectGone { .. })),
        "{err:?}"
    );
    drop((mapping, again, fresh, counters));
    manager.shutdown();
    Ok(())
}

#[test]
fn sizes_of_zero_and_over_the_limits_are_clear_errors() -> anyhow::Result<()> {
    let manager = Manager::builder()
        .limits(Limits {
            max_shared_memory_block: 1 << 20,
            max_shared_memory: 3 << 20,
            ..Limits::default()
        })
        .start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);

    let err = client.shared_memory("empty", 0).unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::CreateFailed { .. })),
        "{err:?}"
    );
    assert!(err.to_string().contains("at least 1 byte, not 0"), "{err}");

    let err = client.shared_memory("huge", (1 << 20) + 1).unwrap_err();
    let Error::Manager(ManagerError::LimitReached { max, .. }) = &err else {
        panic!("expected LimitReached, got {err:?}");
    };
    assert_eq!(*max, 1 << 20);
    assert!(
        err.to_string().contains("bytes in one shared memory block"),
        "{err}"
    );

    // Three blocks of the largest size fit the total; a fourth does not,
    // until one has gone.
    for name in ["a", "b", "c"] {
        client.shared_memory(name, 1 << 20)?;
    }
    let err = client.shared_memory("d", 1).unwrap_err();
    let Error::Manager(ManagerError::LimitReached { max, .. }) = &err else {
        panic!("expected LimitReached, got {err:?}");
    };
    assert_eq!(*max, 3 << 20);
    // Nothing was made of the refused names.
    assert!(client.lookup("empty").is_err());
    assert!(client.lookup("huge").is_err());
    assert!(client.lookup("d").is_err());

    // An unmapped block goes with its removal; its bytes are free again
    // (its actor stops a moment after the registry answers).
    assert!(client.remove("a")?);
    tests::wait_until("the removed block's bytes are free", || {
        match client.shared_memory("d", 1 << 20) {
            Ok(_) => Ok(true),
            Err(Error::Manager(ManagerError::LimitReached { .. })) => Ok(false),
            Err(e) => Err(e.into()),
        }
    })?;
    manager.shutdown();

    // So is one block more than the count allows, whatever its size.
    let manager = Manager::builder()
        .limits(Limits {
            max_shared_memory_blocks: 2,
            ..Limits::default()
        })
        .start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    client.shared_memory("one", 1)?;
    client.shared_memory("two", 1)?;
    let err = client.shared_memory("three", 1).unwrap_err();
    let Error::Manager(ManagerError::LimitReached { max, .. }) = &err else {
        panic!("expected LimitReached, got {err:?}");
    };
    assert_eq!(*max, 2);
    assert!(err.to_string().contains("shared memory blocks"), "{err}");
    manager.shutdown();
    Ok(())
}

#[test]
fn mapping_over_tcp_is_refused_with_a_clear_error() -> anyhow::Result<()> {
    let manager = Manager::builder().tcp("127.0.0.1:0".parse()?).start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    // The block itself may be made and inspected over TCP...
    let block = client.shared_memory("over-tcp", 4096)?;
    assert_eq!(block.size()?, 4096);
    // ...but not mapped: the client says so without asking.
    let err = block.map().unwrap_err();
    assert!(
        matches!(err, Error::SharedMemoryNeedsUnix { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("shared memory needs a Unix socket to a manager on this machine"),
        "{err}"
    );

    // A hand-made `Map` over TCP is refused by the manager, and the
    // holding it began is given back.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let err = runtime.block_on(async {
        let raw = manager::Client::connect(manager.address(), manager.authkey()).await?;
        let reply = raw
            .connection()
            .with_timeout(DEADLINE)
            .call(Request::Object {
                target: block.id(),
                op: SharedMemoryRequest::Map.into(),
            })
            .await;
        anyhow::Ok(reply.unwrap_err())
    })?;
    assert!(
        err.to_string().contains(
            "shared memory needs a Unix socket: a block's descriptor cannot travel over TCP"
        ),
        "{err}"
    );
    tests::wait_until("the refused mapping is given back", || {
        let snapshot = client.inspect()?;
        let detail = snapshot.object("over-tcp").and_then(|o| o.detail.clone());
        Ok(detail.is_some_and(|d| {
            d.size
                == KindDetail::SharedMemory {
                    size: 4096,
                    mappings: 0,
                }
                && d.holders.is_empty()
        }))
    })?;
    // The connection goes on serving.
    assert_eq!(block.with_timeout(Duration::from_secs(5)).size()?, 4096);
    manager.shutdown();
    Ok(())
}

/// A block made untyped (`shared_memory`) and then viewed as an array of
/// one element type by one process must not be viewed as another element
/// type (or as a shareable list) by another: the first typed view records
/// its type, as creating the block typed does. Otherwise an `f64` written
/// by one worker is read as a different `u64` value by another, with no
/// error naming the two types.
#[test]
fn an_untyped_block_once_viewed_typed_refuses_another_element_type() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let first = manager.connect()?.with_timeout(DEADLINE);
    let second = manager.connect()?.with_timeout(DEADLINE);

    let _untyped = first.shared_memory("plain", 64)?;
    let floats = first.shared_array::<f64>("plain", 8)?;
    floats.set(0, 1.5);

    // The same type, from another connection: the same values.
    assert_eq!(second.shared_array::<f64>("plain", 8)?.get(0), Some(1.5));

    // Another element type of the same size: a clear error naming both,
    // never 1.5's bits read as an integer.
    let err = match second.shared_array::<u64>("plain", 8) {
        Ok(ints) => panic!("an f64 array was viewed as u64, reading {:?}", ints.get(0)),
        Err(err) => err,
    };
    let Error::Manager(ManagerError::WrongType {
        stored, requested, ..
    }) = &err
    else {
        panic!("expected WrongType, got {err:?}");
    };
    assert!(stored.contains("f64"), "{err}");
    assert!(requested.contains("u64"), "{err}");

    // Nor as a shareable list, whose header would overwrite the floats.
    let err = match second.shareable_list("plain", 0, 0) {
        Ok(_) => panic!("an f64 array was laid out as a shareable list"),
        Err(err) => err,
    };
    assert!(
        matches!(err, Error::Manager(ManagerError::WrongType { .. })),
        "{err:?}"
    );
    assert_eq!(floats.get(0), Some(1.5));

    // The untyped view stays open to anyone.
    assert_eq!(second.shared_memory("plain", 64)?.map()?.len(), 64);
    manager.shutdown();
    Ok(())
}
