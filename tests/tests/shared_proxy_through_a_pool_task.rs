//! A pool task's argument may hold a proxy's token: each task attaches in
//! its worker and appends to the list the caller shared.

use manager::pool::Pool;
use tests::{connect, start_manager, worker_program};

#[test]
fn pool_tasks_append_to_a_shared_list() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let list = client.list::<u64>("results")?;
    let token = list.share();
    let pool = Pool::builder(&manager)
        .workers(2)
        .program(worker_program!())
        .build()?;

    let pids: Vec<u32> = pool.map(
        "shared_list_append",
        (0..20_u64).map(|n| (token.clone(), n)),
    )?;
    assert!(pids.iter().all(|&pid| pid != std::process::id()));
    let pid: u32 = pool.apply("shared_list_append", &(token, 20_u64))?;
    assert_ne!(pid, std::process::id());

    let mut seen = list.snapshot()?;
    seen.sort_unstable();
    assert_eq!(seen, (0..=20).collect::<Vec<_>>());
    pool.close()?;
    Ok(())
}
