//! A manager process gives memory back to the system: after a client has
//! filled it with large and small values and the objects are removed, its
//! resident memory returns to within twice what it was at the start. (A
//! process that is only a manager fixes glibc's mmap threshold and trims
//! its heaps every few seconds.)

use manager::ManagerProcess;
use tests::{DEADLINE, wait_until, worker_program};

/// A process's resident memory, in KiB.
fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmRSS for {pid}"))
}

#[test]
fn resident_memory_returns_near_the_start_once_objects_are_removed() -> anyhow::Result<()> {
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .start()?;
    let pid = manager.pid();
    let client = manager.connect()?.with_timeout(DEADLINE);
    // Warm up what every connection uses, then take the start.
    client.namespace("warm")?.set("x", &1_u8)?;
    client.remove("warm")?;
    let start = rss_kib(pid)?;

    let big = client.namespace("big")?;
    for i in 0..48 {
        big.set(&format!("v{i}"), &vec![i as u8; 1 << 20])?;
    }
    let small = client.list::<String>("small")?;
    for chunk in 0..20 {
        let items: Vec<String> = (0..5_000).map(|i| format!("item {chunk}-{i}")).collect();
        small.extend(&items)?;
    }
    let filled = rss_kib(pid)?;
    assert!(
        filled > start + 40 * 1024,
        "start {start} KiB, filled {filled} KiB"
    );

    assert!(client.remove("big")?);
    assert!(client.remove("small")?);
    let mut now = filled;
    wait_until("the manager's memory goes back near its start", || {
        now = rss_kib(pid)?;
        Ok(now <= 2 * start)
    })
    .map_err(|e| {
        e.context(format!(
            "start {start} KiB, filled {filled} KiB, now {now} KiB"
        ))
    })?;
    manager.shutdown()?;
    Ok(())
}

/// Many small objects created and removed by a connection that stays open:
/// the connection does not keep what the removed objects held.
#[test]
fn memory_of_many_removed_objects_comes_back_while_their_creator_stays() -> anyhow::Result<()> {
    const OBJECTS: usize = 20_000;
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .start()?;
    let pid = manager.pid();
    let address = manager.address().clone();
    let key = manager.authkey().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = manager::Client::connect(&address, &key)
            .await?
            .with_timeout(DEADLINE);
        client.namespace("warm").await?.set("x", &1_u8).await?;
        client.remove("warm").await?;
        let start = rss_kib(pid)?;
        // Pipelined, a few hundred calls at a time.
        for chunk in (0..OBJECTS).collect::<Vec<_>>().chunks(500) {
            let mut calls = tokio::task::JoinSet::new();
            for i in chunk {
                let client = client.clone();
                let name = format!("o{i}");
                calls.spawn(async move { client.namespace(&name).await.map(drop) });
            }
            while let Some(made) = calls.join_next().await {
                made??;
            }
        }
        let filled = rss_kib(pid)?;
        for chunk in (0..OBJECTS).collect::<Vec<_>>().chunks(500) {
            let mut calls = tokio::task::JoinSet::new();
            for i in chunk {
                let client = client.clone();
                let name = format!("o{i}");
                calls.spawn(async move { client.remove(&name).await });
            }
            while let Some(removed) = calls.join_next().await {
                anyhow::ensure!(removed??, "an object was not there to remove");
            }
        }
        // Still connected, still in use.
        client.namespace("after").await?.set("x", &2_u8).await?;
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let now = rss_kib(pid)?;
            if now <= 2 * start {
                break;
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "start {start} KiB, filled {filled} KiB, now {now} KiB"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        anyhow::Ok(())
    })?;
    manager.shutdown()?;
    Ok(())
}
