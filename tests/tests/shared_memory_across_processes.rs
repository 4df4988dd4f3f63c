//! Shared memory between real worker processes: bytes one worker writes
//! another reads; atomic counters lose no update; and a worker killed with
//! SIGKILL while it maps a block frees nothing early (a block removed by
//! name keeps its memory while a holder lives) and leaks nothing (the
//! manager's memfds return to where they were once the block is removed
//! and its last holder has gone).

use std::sync::atomic::Ordering;

use manager::inspect::KindDetail;
use manager::{Error, ManagerError};
use tests::{DEADLINE, connect, run_workers, start_manager, wait_until, worker_program};

/// How many descriptors of block `name` this process (which runs the
/// embedded manager) has open.
fn memfds_of(name: &str) -> anyhow::Result<usize> {
    tests::memfds_named(&format!("manager-shm:{name}"))
}

#[test]
fn data_written_by_one_worker_is_read_by_another() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let program = worker_program!();
    let len = 1 << 16;
    let name = "handover".to_owned();
    run_workers(&manager, program, "shm_fill", [(name.clone(), len, 7_u64)])?;
    // The writer has exited and its mapping with it; the block stays.
    run_workers(&manager, program, "shm_check", [(name.clone(), len, 7_u64)])?;
    let array = client.shared_array::<u64>(&name, len)?;
    assert_eq!(
        array.get(5),
        Some(7_u64.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 5)
    );

    // Four workers count at once through the atomic view: nothing lost.
    let counter = client.shared_array::<u64>("counter", 1)?;
    run_workers(
        &manager,
        program,
        "shm_count",
        (0..4).map(|_| ("counter".to_owned(), 1_usize, 10_000_u64)),
    )?;
    assert_eq!(counter.atomics()[0].load(Ordering::SeqCst), 40_000);
    manager.shutdown();
    Ok(())
}

#[test]
fn a_killed_holder_frees_nothing_early_and_leaks_nothing() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let name = "held-by-the-dead";
    let size = 1 << 20;
    assert_eq!(memfds_of(name)?, 0);
    client.shared_memory(name, size)?;
    assert_eq!(memfds_of(name)?, 1);

    let ready = client.event(&format!("{name}-ready"))?;
    let mut holder =
        manager
            .launcher()
            .spawn_program(worker_program!(), "shm_hold", &(name, size, 0xAB_u8))?;
    assert!(
        ready.wait_timeout(DEADLINE)?,
        "the holder did not map the block"
    );

    // The inspection names the holder's connection.
    let snapshot = client.inspect()?;
    let detail = snapshot
        .object(name)
        .and_then(|o| o.detail.clone())
        .expect("inspected");
    assert_eq!(
        detail.size,
        KindDetail::SharedMemory {
            size: size as u64,
            mappings: 1
        }
    );
    let holder_connection = detail.holders[0].connection;
    assert!(
        snapshot
            .connections
            .iter()
            .any(|c| c.id == holder_connection),
        "the holder is a live connection"
    );

    // Removed by name while mapped: the name is free at once, the memory
    // is not freed under its holder.
    assert!(client.remove(name)?);
    let other = client.shared_memory(name, 4096)?;
    assert_eq!(memfds_of(name)?, 2, "the old block lives on for its holder");
    // Not listed any more, but its bytes still count in the totals.
    let snapshot = client.inspect()?;
    assert!(snapshot.object(name).is_some_and(|o| o.id == other.id()));
    assert_eq!(snapshot.totals.shared_memory_bytes, size as u64 + 4096);
    assert!(client.remove(name)?);
    drop(other);
    wait_until("the unmapped new block is freed", || {
        Ok(memfds_of(name)? == 1)
    })?;

    // Killed while it maps the block: the block goes with it.
    holder.kill()?;
    wait_until("the dead holder's block is freed", || {
        Ok(memfds_of(name)? == 0)
    })?;
    assert_eq!(client.inspect()?.totals.shared_memory_bytes, 0);
    let err = client.lookup(name).unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::NoSuchObject { .. })),
        "{err:?}"
    );
    manager.shutdown();
    Ok(())
}

#[test]
fn a_holder_that_exits_and_one_that_unmaps_end_their_holdings() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let name = "unmapped";
    let block = client.shared_memory(name, 4096)?;
    let mine = block.map()?;
    // A worker maps it (through `shared_array`) and exits.
    run_workers(
        &manager,
        worker_program!(),
        "shm_fill",
        [(name.to_owned(), 512_usize, 1_u64)],
    )?;
    // The block was made untyped; the worker's typed view of it was
    // accepted (512 `u64`s are 4096 bytes) and wrote through.
    let second = u64::from_ne_bytes(mine.to_vec(8..16).try_into().expect("8 bytes"));
    assert_eq!(second, 1_u64.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 1);
    // The worker's holding ended with its process; this one's remains.
    wait_until("only this process holds the block", || {
        let snapshot = client.inspect()?;
        let detail = snapshot.object(name).and_then(|o| o.detail.clone());
        Ok(detail.is_some_and(|d| {
            d.holders.len() == 1 && d.holders[0].connection == client.connection_id()
        }))
    })?;
    assert_eq!(memfds_of(name)?, 1);
    // Removed while this process maps it: kept until the mapping drops.
    assert!(client.remove(name)?);
    assert_eq!(memfds_of(name)?, 1);
    drop(mine);
    wait_until("the block is freed after its last unmap", || {
        Ok(memfds_of(name)? == 0)
    })?;
    manager.shutdown();
    Ok(())
}

#[test]
fn a_shareable_list_keeps_its_items_types_across_processes() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let list = client.shareable_list("row", 4, 64)?;
    run_workers(
        &manager,
        worker_program!(),
        "shm_list_fill",
        [("row".to_owned(), 4_usize, 64_usize)],
    )?;
    let text = list.get::<String>(0)?.expect("slot 0 is set");
    assert!(text.starts_with("from "), "{text}");
    assert_eq!(list.get::<i64>(1)?, Some(-42));
    // Integers read across widths, as stored values do.
    assert_eq!(list.get::<i32>(1)?, Some(-42));
    assert_eq!(list.get::<f64>(2)?, Some(2.5));
    assert_eq!(list.get::<u8>(3)?, None);
    assert_eq!(list.type_name(1)?.as_deref(), Some("i64"));

    // A typed read of the wrong type is refused, naming both types, and
    // the item stays.
    let err = list.get::<i64>(0).unwrap_err();
    let Error::Manager(ManagerError::WrongType {
        stored, requested, ..
    }) = &err
    else {
        panic!("expected WrongType, got {err:?}");
    };
    assert_eq!(
        (stored.as_str(), requested.as_str()),
        ("alloc::string::String", "i64")
    );
    assert_eq!(
        err.to_string(),
        "slot 0 of shareable list `row` holds a value of type `String`, not `i64`"
    );
    let err = list.get::<u32>(1).unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::DoesNotFit { .. })),
        "{err:?}"
    );
    assert_eq!(list.get::<String>(0)?, Some(text));

    // Bounded: an item too large for its slot, an index past the end.
    let err = list.set(3, &"x".repeat(100)).unwrap_err();
    assert!(matches!(err, Error::View { .. }), "{err:?}");
    assert!(
        err.to_string().contains("does not fit a slot of 64 bytes"),
        "{err}"
    );
    let err = list.get::<i64>(4).unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::IndexOutOfRange { .. })),
        "{err:?}"
    );
    // Another layout of the same name is refused.
    let err = client.shareable_list("row", 8, 24).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Manager(ManagerError::WrongType { .. } | ManagerError::WrongSize { .. })
        ),
        "{err:?}"
    );
    manager.shutdown();
    Ok(())
}

#[test]
fn a_shared_token_of_a_block_is_mapped_in_a_worker() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let block = client.shared_memory("by-token", 4096)?;
    block.map()?.fill(..100, 0x5A);
    run_workers(
        &manager,
        worker_program!(),
        "shm_attach_check",
        [(block.share(), 100_usize, 0x5A_u8)],
    )?;
    manager.shutdown();
    Ok(())
}
