//! An `acquire` whose caller gave up (its future dropped, or its deadline
//! passed) but which the manager grants afterwards is released again, so
//! the lock is not left held by a caller that believes it failed.

use std::time::Duration;

use manager::Manager;
use tests::{DEADLINE, wait_until};

#[test]
fn a_lock_granted_after_its_caller_gave_up_is_released() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let holder = manager.connect()?.with_timeout(DEADLINE).lock("L")?;
    holder.acquire()?;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let client = rt.block_on(manager.connect_async())?;
    let lock = rt.block_on(client.lock("L"))?;
    rt.block_on(async {
        // The acquire is sent and parked; the caller stops waiting for it.
        let gave_up = tokio::time::timeout(Duration::from_millis(50), lock.acquire()).await;
        assert!(gave_up.is_err(), "the lock was free while held");
    });
    let objects = manager.connect()?.with_timeout(DEADLINE);
    wait_until("the abandoned acquire is parked", || {
        Ok(objects
            .objects()?
            .iter()
            .any(|o| o.name.as_str() == "L" && o.messages_handled >= 2))
    })?;

    // The manager hands the lock to the abandoned acquire, whose client
    // gives it straight back.
    holder.release()?;
    wait_until("the lock is free again", || Ok(!holder.locked()?))?;
    assert!(holder.try_acquire()?);
    drop(client);
    Ok(())
}
