//! An item taken with a receipt (`receive`) and never acknowledged goes
//! back to the queue when its taker dies, at every step of the taker's
//! life: its reply written but not read, read but not started on, half
//! worked on. A live consumer then receives it, and `join` counts it once.
//! An acknowledged item does not come back; a dropped delivery gives its
//! item back; only the receiving connection may acknowledge.

use manager::{Error, ManagerError, WorkerError};
use manager_core::request::{ObjectRequest, QueueRequest, Wait};
use tests::queues::{Holding, ReceiveAndHold};
use tests::raw::RawConnection;
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

/// A worker receives item 7, gets as far as `holding`, and is SIGKILLed
/// and reaped there.
fn killed_while(holding: Holding) -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let jobs = client.joinable_queue::<u64>("jobs", None)?;
    let there = client.event("there")?;
    jobs.put(&7)?;
    let mut worker = manager.launcher().spawn_program(
        worker_program!(),
        "receive_and_hold",
        &ReceiveAndHold {
            queue: "jobs".into(),
            holding,
            announce: "there".into(),
        },
    )?;
    anyhow::ensure!(there.wait()?, "the worker did not get there in time");
    assert!(jobs.is_empty()?, "the item is in flight, not in the queue");
    worker.kill()?;
    assert!(matches!(
        worker.join().unwrap_err(),
        WorkerError::Killed { signal: 9, .. }
    ));
    if holding == Holding::Acknowledged {
        // Acknowledged and done: nothing comes back, the queue is joined.
        assert!(jobs.join_timeout(DEADLINE)?);
        assert_eq!(jobs.try_get()?, None);
        return Ok(());
    }
    // A live consumer receives it, and one task_done finishes the queue's
    // work: the item is not a new task.
    let again = jobs.receive_timeout(DEADLINE)?;
    assert_eq!(*again, 7);
    again.task_done()?;
    assert!(jobs.join_timeout(DEADLINE)?);
    assert!(jobs.is_empty()?);
    if holding == Holding::Working {
        assert_eq!(client.namespace(SHARED)?.get::<i64>("partial")?, 7);
    }
    Ok(())
}

#[test]
fn killed_after_reading_the_reply() -> anyhow::Result<()> {
    killed_while(Holding::JustRead)
}

#[test]
fn killed_in_the_middle_of_the_work() -> anyhow::Result<()> {
    killed_while(Holding::Working)
}

#[test]
fn acknowledged_then_killed_is_not_redelivered() -> anyhow::Result<()> {
    killed_while(Holding::Acknowledged)
}

/// The reply is written into the taker's socket and the taker dies before
/// reading it: the item is in that socket's buffer, gone with it, and the
/// manager still gives it back.
#[test]
fn dies_before_reading_the_reply() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let jobs = client.joinable_queue::<u64>("jobs", None)?;
    jobs.put(&7)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut doomed = runtime.block_on(RawConnection::open(manager.address(), manager.authkey()))?;
    runtime.block_on(doomed.send(
        jobs.id(),
        ObjectRequest::Queue(QueueRequest::Receive {
            expect: None,
            wait: Wait::Forever,
        }),
    ))?;
    // The manager has written the reply once inspection counts it served.
    let connection = doomed.connection();
    wait_until("the reply has been written", || {
        let snapshot = client.inspect()?;
        Ok(snapshot
            .connections
            .iter()
            .any(|c| c.id == connection && c.requests_served == 1))
    })?;
    assert!(jobs.is_empty()?);
    drop(doomed);
    let again = jobs.receive_timeout(DEADLINE)?;
    assert_eq!(*again, 7);
    again.task_done()?;
    assert!(jobs.join_timeout(DEADLINE)?);
    Ok(())
}

#[test]
fn dropped_delivery_gives_the_item_back_and_only_its_taker_acks() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let other = connect(&manager)?;
    let jobs = client.queue::<u64>("jobs", None)?;
    jobs.put(&1)?;
    jobs.put(&2)?;
    let first = jobs.receive()?;
    assert_eq!((*first, jobs.len()?), (1, 1));
    drop(first);
    // Back at the front, before 2.
    let first = jobs.receive()?;
    assert_eq!(*first, 1);
    let receipt = first.receipt();
    // Another connection cannot acknowledge what this one received.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut stranger =
        runtime.block_on(RawConnection::open(manager.address(), manager.authkey()))?;
    let refused = runtime.block_on(stranger.call(
        jobs.id(),
        ObjectRequest::Queue(QueueRequest::Ack {
            receipt,
            task_done: false,
        }),
    ))?;
    assert!(
        matches!(refused, Err(ManagerError::NotHeld { .. })),
        "{refused:?}"
    );
    assert_eq!(first.ack()?, 1);
    // Acknowledged: nothing comes back, even when this connection closes.
    drop(jobs);
    drop(client);
    let jobs = other.queue::<u64>("jobs", None)?;
    assert_eq!(jobs.get_timeout(DEADLINE)?, 2);
    assert_eq!(jobs.try_get()?, None);
    // A plain queue has no task_done.
    jobs.put(&3)?;
    let third = jobs.receive()?;
    let err = third.task_done().unwrap_err();
    assert!(
        matches!(err, Error::Manager(ManagerError::Unsupported { .. })),
        "{err}"
    );
    Ok(())
}
