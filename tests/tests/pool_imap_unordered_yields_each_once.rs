//! `imap_unordered` yields every result exactly once.

use std::collections::BTreeMap;

use manager::pool::Pool;
use tests::{start_manager, worker_program};

#[test]
fn imap_unordered_yields_every_result_once() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let pool = Pool::builder(&manager)
        .workers(4)
        .program(worker_program!())
        .build()?;
    let mut counts = BTreeMap::new();
    for result in pool.imap_unordered::<u64, u64>("square", 0..500_u64)? {
        *counts.entry(result?).or_insert(0_u32) += 1;
    }
    let expected: BTreeMap<u64, u32> = (0..500_u64).map(|x| (x * x, 1)).collect();
    assert_eq!(counts, expected);
    Ok(())
}
