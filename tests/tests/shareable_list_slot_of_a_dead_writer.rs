//! A `ShareableList` slot is taken by making its sequence word odd, and
//! given back by making it even. A writer killed between the two (SIGKILL
//! while it copies its item in) leaves the word odd: reads of that slot
//! fail after a second, saying so, and the next write waits a second and
//! takes the slot over, so the slot is not lost for good (the item the
//! killed writer was replacing is).
//!
//! The killed writer is simulated here through a raw mapping of the same
//! block: the word is left exactly as such a writer leaves it.

use manager::Manager;
use tests::DEADLINE;

/// Where slot 0's sequence word lies: after the list's 64-byte header.
const SLOT0_SEQUENCE: usize = 64;

#[test]
fn a_slot_whose_writer_died_mid_write_can_be_written_again() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let list = client.shareable_list("row", 1, 32)?;
    list.set(0, "kept")?;

    // The block as raw bytes, as another process maps it.
    let size = manager::shared_memory::ShareableList::block_size(1, 32).expect("small");
    let raw = client.shared_memory("row", size)?.map()?;
    let mut word = [0; 8];
    raw.read(SLOT0_SEQUENCE, &mut word);
    let sequence = u64::from_le_bytes(word);
    assert!(sequence.is_multiple_of(2), "the slot is free");
    // A writer takes the slot and is killed before it gives it back.
    raw.write(SLOT0_SEQUENCE, &(sequence + 1).to_le_bytes());

    // A read fails, saying the slot's writer may have died: so far as
    // documented.
    let err = list.get::<String>(0).unwrap_err();
    assert!(err.to_string().contains("mid-write"), "{err}");

    // A new item is writable into the slot once its writer is gone.
    list.set(0, "again")
        .map_err(|e| anyhow::anyhow!("the slot of a dead writer is lost for good: {e}"))?;
    assert_eq!(list.get::<String>(0)?, Some("again".to_owned()));
    manager.shutdown();
    Ok(())
}
