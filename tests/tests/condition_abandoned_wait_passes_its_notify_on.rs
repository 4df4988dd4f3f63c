//! A condition `wait` whose caller gave up (its future dropped) but which a
//! notify picked before the client's cancel arrived takes its lock back;
//! both are given back: the holds it took back, and the notify, which
//! wakes another wait parked on the condition. The manager gives them back
//! when the cancel arrives after the grant; a client that read the reply
//! but whose caller had gone sends no cancel, only the give-back
//! (`GiveBack` with `pass_on_notify`, what `ObjectRequest::undo_for` says
//! for that reply), as the manager's own give-back of an undelivered
//! notified wait does; after a cancel, that give-back changes nothing. The
//! abandoned caller here is a raw connection that sends what the client
//! sends, so the race is pinned: the notify comes first.

use anyhow::ensure;
use manager::{Manager, blocking};
use manager_core::reply::Reply;
use manager_core::request::{ConditionRequest, ObjectRequest, Owner, Wait};
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

/// Takes the condition's lock as `owner`, then waits on it (unanswered).
async fn acquire_and_wait(
    raw: &mut RawConnection,
    id: manager_core::ObjectId,
    owner: Owner,
) -> anyhow::Result<ObjectRequest> {
    let took = raw
        .call(
            id,
            ObjectRequest::Condition(ConditionRequest::Acquire {
                owner,
                wait: Wait::For(DEADLINE),
            }),
        )
        .await?;
    ensure!(took == Ok(Reply::Bool(true)), "{took:?}");
    let wait = ObjectRequest::Condition(ConditionRequest::Wait {
        owner,
        wait: Wait::Forever,
    });
    raw.send(id, wait.clone()).await?;
    Ok(wait)
}

#[test]
fn a_notify_that_picks_an_abandoned_wait_wakes_a_live_one() -> anyhow::Result<()> {
    abandon(false)
}

#[test]
fn a_notify_that_picks_a_wait_cancelled_too_late_wakes_a_live_one() -> anyhow::Result<()> {
    abandon(true)
}

/// The abandoned wait's late grant is given back by its cancel (sent
/// after the grant), or else by its give-back.
fn abandon(cancel: bool) -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let observer = manager.connect()?.with_timeout(DEADLINE);
    let id = observer.condition("ready")?.id();
    let (mut abandoned, mut live) = rt.block_on(async {
        let mut abandoned = RawConnection::open(manager.address(), manager.authkey()).await?;
        let live = RawConnection::open(manager.address(), manager.authkey()).await?;
        let wait = acquire_and_wait(&mut abandoned, id, Owner(1)).await?;
        anyhow::Ok(((abandoned, wait), live))
    })?;
    sleepers(&observer, 1)?;
    // A live wait, second in line.
    rt.block_on(acquire_and_wait(&mut live, id, Owner(2)))?;
    sleepers(&observer, 2)?;
    // One notify: the abandoned wait is first and takes the lock back.
    let other = observer.condition("ready")?;
    assert!(other.acquire_timeout(DEADLINE)?);
    assert_eq!(other.notify(1)?, 1);
    other.release()?;
    rt.block_on(async {
        let (raw, wait) = &mut abandoned;
        let late = raw.recv().await?;
        let Ok(reply) = &late.result else {
            anyhow::bail!("the abandoned wait was not granted: {late:?}");
        };
        // Its caller had given up: the client gives back what it took.
        let undo = wait
            .undo_for(reply)
            .ok_or_else(|| anyhow::anyhow!("nothing to give back for {reply:?}"))?;
        ensure!(
            matches!(
                undo,
                ObjectRequest::Condition(ConditionRequest::GiveBack {
                    holds: 1,
                    pass_on_notify: true,
                    wait,
                    ..
                }) if wait == late.id
            ),
            "{undo:?}"
        );
        if cancel {
            raw.send(id, ObjectRequest::Cancel { request: late.id })
                .await?;
            let cancelled = raw.recv().await?;
            ensure!(cancelled.result == Ok(Reply::Bool(false)), "{cancelled:?}");
        }
        raw.send(id, undo).await?;
        let given = raw.recv().await?;
        let holds = if cancel { 0 } else { 1 };
        ensure!(given.result == Ok(Reply::Count(holds)), "{given:?}");
        // The notify reaches the live wait.
        let woke = live.recv().await?;
        ensure!(
            woke.result
                == Ok(Reply::Woken {
                    notified: true,
                    holds: 1,
                    wait: woke.id,
                }),
            "the live wait was never woken: the notify went to the abandoned wait and was dropped: {woke:?}"
        );
        anyhow::Ok(())
    })?;
    Ok(())
}
