//! Worker entries for the shared memory tests
//! (`tests/shared_memory_*.rs`): each maps a block by name and writes,
//! checks or holds it.

use anyhow::{Context, ensure};
use manager::launcher::Entries;
use manager::proxy::{Shared, SharedMemory};

use crate::client;

/// Adds this family's entries.
pub(crate) fn register(entries: Entries) -> Entries {
    entries
        .entry("shm_fill", shm_fill)
        .entry("shm_check", shm_check)
        .entry("shm_hold", shm_hold)
        .entry("shm_count", shm_count)
        .entry("shm_list_fill", shm_list_fill)
        .entry("shm_attach_check", shm_attach_check)
}

/// Attaches the block its token names, maps it and checks that its first
/// `n` bytes are `byte`.
fn shm_attach_check((token, n, byte): (Shared<SharedMemory>, usize, u8)) -> anyhow::Result<()> {
    let block = client()?.attach(&token).context("attach the block")?;
    let mapping = block.map()?;
    ensure!(
        mapping.to_vec(..n).iter().all(|&b| b == byte),
        "the block does not hold {byte:#x}"
    );
    Ok(())
}

/// Opens the shareable list `name` (`len` slots of `slot_size` bytes) and
/// puts a `String`, an `i64` and an `f64` in its first three slots.
fn shm_list_fill((name, len, slot_size): (String, usize, usize)) -> anyhow::Result<()> {
    let list = client()?.shareable_list(&name, len, slot_size)?;
    list.set(0, &format!("from {}", std::process::id()))?;
    list.set(1, &-42_i64)?;
    list.set(2, &2.5_f64)?;
    Ok(())
}

/// The value element `i` of a block filled with `seed` holds.
pub(crate) fn pattern(seed: u64, i: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ i as u64
}

/// Maps the `u64` array `name` of `len` elements and writes
/// `pattern(seed, i)` into every element.
fn shm_fill((name, len, seed): (String, usize, u64)) -> anyhow::Result<()> {
    let array = client()?.shared_array::<u64>(&name, len)?;
    let values: Vec<u64> = (0..len).map(|i| pattern(seed, i)).collect();
    array.copy_from(0, &values);
    Ok(())
}

/// Maps the `u64` array `name` of `len` elements and checks that every
/// element holds `pattern(seed, i)`.
fn shm_check((name, len, seed): (String, usize, u64)) -> anyhow::Result<()> {
    let array = client()?.shared_array::<u64>(&name, len)?;
    let values = array.to_vec(..);
    for (i, value) in values.into_iter().enumerate() {
        ensure!(value == pattern(seed, i), "element {i} holds {value:#x}");
    }
    Ok(())
}

/// Maps the block `name` of `size` bytes, writes `byte` all over it, sets
/// the event `ready` and waits for the event `release` (a test kills it
/// meanwhile), then checks its bytes are still there.
fn shm_hold((name, size, byte): (String, usize, u8)) -> anyhow::Result<()> {
    let client = client()?;
    let mapping = client.shared_memory(&name, size)?.map()?;
    mapping.fill(.., byte);
    client.event(&format!("{name}-ready"))?.set()?;
    let released = client
        .event(&format!("{name}-release"))?
        .wait()
        .context("wait for the release")?;
    ensure!(released, "not released");
    ensure!(
        mapping.to_vec(..).iter().all(|&b| b == byte),
        "the block changed under its holder"
    );
    Ok(())
}

/// Adds 1 to element 0 of the `u64` array `name` (of `len` elements)
/// `times` times, atomically.
fn shm_count((name, len, times): (String, usize, u64)) -> anyhow::Result<()> {
    let array = client()?.shared_array::<u64>(&name, len)?;
    for _ in 0..times {
        array.atomics()[0].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
    Ok(())
}
