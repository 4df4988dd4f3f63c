//! A condition `wait` whose caller gave up (its future dropped) but which a
//! notify then picks takes its lock back, and the client gives back both:
//! the lock, released completely, and the notify, which wakes another wait
//! parked on the condition (`ReleaseAll` with `pass_on_notify`), as the
//! manager's own give-back of an undelivered notified wait does.

use anyhow::ensure;
use manager_core::reply::Reply;
use manager_core::request::{ConditionRequest, ObjectRequest, Owner, Wait};
use manager_ipc::{Client, Manager, blocking};
use tests::raw::RawConnection;
use tests::{DEADLINE, wait_until};

fn sleepers(observer: &blocking::Client, n: u64) -> anyhow::Result<()> {
    wait_until(&format!("{n} wait(s) parked"), || {
        let snapshot = observer.inspect()?;
        Ok(snapshot
            .object("ready")
            .and_then(|o| o.detail.as_ref())
            .is_some_and(|d| d.waiters == n))
    })
}

#[test]
fn a_notify_that_picks_an_abandoned_wait_wakes_a_live_one() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let client: Client = rt.block_on(manager.connect_async())?;
    let observer = manager.connect()?.with_timeout(DEADLINE);
    let condition = rt.block_on(client.condition("ready"))?;
    let id = condition.id();
    // The first wait: its caller gives up while it sleeps.
    let task = rt.spawn(async move {
        condition.acquire().await?;
        condition.wait().await
    });
    sleepers(&observer, 1)?;
    task.abort();
    let _ = rt.block_on(task);
    // A live wait, second in line.
    let mut live = rt.block_on(RawConnection::open(manager.address(), manager.authkey()))?;
    rt.block_on(async {
        let took = live
            .call(
                id,
                ObjectRequest::Condition(ConditionRequest::Acquire {
                    owner: Owner(1),
                    wait: Wait::For(DEADLINE),
                }),
            )
            .await?;
        ensure!(took == Ok(Reply::Bool(true)), "{took:?}");
        live.send(
            id,
            ObjectRequest::Condition(ConditionRequest::Wait {
                owner: Owner(1),
                wait: Wait::Forever,
            }),
        )
        .await?;
        anyhow::Ok(())
    })?;
    sleepers(&observer, 2)?;
    // One notify: the abandoned wait is first; its client gives the lock
    // back. The notify must then reach the live wait.
    let other = observer.condition("ready")?;
    assert!(other.acquire_timeout(DEADLINE)?);
    assert_eq!(other.notify(1)?, 1);
    other.release()?;
    let woke = rt.block_on(live.recv());
    assert!(
        matches!(&woke, Ok(frame) if frame.result == Ok(Reply::Bool(true))),
        "the live wait was never woken: the notify went to the abandoned wait and was dropped: {woke:?}"
    );
    Ok(())
}
