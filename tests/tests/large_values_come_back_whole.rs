//! Large values (from just under the 64 KiB at which the manager stops
//! copying them to nearly a whole frame) come back byte for byte, however
//! they are read: a get, a dict's values in parts, a list snapshot, queue
//! gets in either direction. A worker process writes them; the test's own
//! client reads them; then the test puts them and a worker reads them.

use manager::blocking;
use tests::containers::{LARGE_LENGTHS, large_value};
use tests::{connect, run_workers, start_manager, worker_program};

fn check(what: &str, i: usize, got: &[u8]) -> anyhow::Result<()> {
    let len = LARGE_LENGTHS[i];
    anyhow::ensure!(
        got.len() == len,
        "{what} {i}: {} bytes, not {len}",
        got.len()
    );
    anyhow::ensure!(
        got == large_value(i, len),
        "{what} {i} of {len} bytes differs"
    );
    Ok(())
}

#[test]
fn large_values_come_back_byte_for_byte_every_way() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client: blocking::Client = connect(&manager)?;
    run_workers(&manager, worker_program!(), "large_values_put", ["large"])?;

    let dict = client.dict::<u64, Vec<u8>>("large-dict")?;
    for i in 0..LARGE_LENGTHS.len() {
        let got = dict.get(&(i as u64))?;
        check("dict get", i, &got.unwrap_or_default())?;
    }
    // Larger than a frame in all: it comes in parts.
    let values = dict.values()?;
    anyhow::ensure!(
        values.len() == LARGE_LENGTHS.len(),
        "{} values",
        values.len()
    );
    for (i, value) in values.iter().enumerate() {
        check("dict values", i, value)?;
    }
    let list = client.list::<Vec<u8>>("large-list")?;
    for (i, value) in list.snapshot()?.iter().enumerate() {
        check("list snapshot", i, value)?;
    }
    let queue = client.queue::<Vec<u8>>("large-queue", None)?;
    for i in 0..LARGE_LENGTHS.len() {
        check("queue get", i, &queue.get()?)?;
    }

    let back = client.queue::<Vec<u8>>("large-back", None)?;
    for (i, len) in LARGE_LENGTHS.into_iter().enumerate() {
        back.put(&large_value(i, len))?;
    }
    run_workers(
        &manager,
        worker_program!(),
        "large_values_get",
        ["large-back"],
    )?;
    anyhow::ensure!(back.qsize()? == 0, "the worker took every value");
    Ok(())
}
