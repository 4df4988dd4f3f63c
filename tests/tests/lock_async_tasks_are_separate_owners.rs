//! With the async proxies each tokio task is its own owner: tasks sharing
//! one connection exclude each other on an `RLock` (re-entrancy is per
//! task), and a guard dropped in a task releases the lock for the next.

use manager::proxy::current_owner;
use tests::{DEADLINE, SHARED, start_manager};

const TASKS: i64 = 4;
const ROUNDS: i64 = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_exclude_each_other_and_dropped_guards_release() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = manager.connect_async().await?.with_timeout(DEADLINE);
    let ns = client.namespace(SHARED).await?;
    let lock = client.rlock("counter").await?;
    ns.set("n", &0_i64).await?;

    // Held here, it is held against every task.
    let held = lock.lock().await?;
    let other = lock.clone();
    let (taken, owner) =
        tokio::spawn(async move { (other.try_acquire().await, current_owner()) }).await?;
    assert!(!taken?, "another task took a held rlock");
    assert_ne!(owner, current_owner());
    drop(held);

    // Read-modify-writes under guards that are only ever dropped.
    let tasks = (0..TASKS)
        .map(|_| {
            let (lock, ns) = (lock.clone(), ns.clone());
            tokio::spawn(async move {
                for _ in 0..ROUNDS {
                    let _guard = lock.lock().await?;
                    let n: i64 = ns.get("n").await?;
                    ns.set("n", &(n + 1)).await?;
                }
                anyhow::Ok(())
            })
        })
        .collect::<Vec<_>>();
    for task in tasks {
        task.await??;
    }
    assert_eq!(ns.get::<i64>("n").await?, TASKS * ROUNDS);
    // The last guard's release was sent before this request.
    assert!(!lock.locked().await?);
    Ok(())
}
