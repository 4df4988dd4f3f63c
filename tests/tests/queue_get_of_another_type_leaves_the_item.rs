//! A `get` of the wrong type takes nothing: the manager checks the front
//! item's type before removing it, answers `WrongType`, and the item stays
//! at the front for a consumer of the right type. This holds for a get that
//! finds the item there, for one parked on an empty queue when the item
//! arrives, and for a consumer process built with the wrong type, which
//! fails on the first job instead of draining the queue.

use std::pin::pin;

use manager::{Error, ManagerError, WorkerError};
use tests::queues::Consume;
use tests::{DEADLINE, connect, poll_once, start_manager, worker_program};

fn is_wrong_type<T>(result: &Result<T, Error>, queue: &str) -> bool {
    matches!(
        result,
        Err(Error::Manager(ManagerError::WrongType { what, stored, requested }))
            if *what == format!("queue `{queue}`") && stored == "u64" && requested.contains("String")
    )
}

#[test]
fn a_get_of_another_type_takes_nothing() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    let jobs = client.queue::<u64>("jobs", None)?;
    for n in 1..=3 {
        jobs.put(&n)?;
    }
    let wrong = client.queue::<String>("jobs", None)?;
    assert!(is_wrong_type(&wrong.get_nowait(), "jobs"));
    assert!(is_wrong_type(&wrong.try_get(), "jobs"));
    // A waiting get is refused at once too: the item is there.
    assert!(is_wrong_type(&wrong.get(), "jobs"));
    let err = wrong.get_timeout(DEADLINE).unwrap_err();
    assert_eq!(
        err.to_string(),
        "queue `jobs` holds a value of type `u64`, not `String`"
    );

    assert_eq!(jobs.len()?, 3, "nothing was taken");
    for n in 1..=3 {
        assert_eq!(jobs.get_nowait()?, n);
    }
    Ok(())
}

#[test]
fn a_parked_get_of_another_type_is_refused_when_the_item_comes() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let wrong = manager.connect_async().await?.with_timeout(DEADLINE);
        let right = manager.connect_async().await?.with_timeout(DEADLINE);
        let producer = manager.connect_async().await?.with_timeout(DEADLINE);
        let wrong = wrong.queue::<String>("jobs", None).await?;
        let right = right.queue::<u64>("jobs", None).await?;
        let jobs = producer.queue::<u64>("jobs", None).await?;

        // Parks a get of the wrong type first, then one of the right type.
        // Each `len` on the getter's own connection is applied after its
        // get, so once it is answered, that get is parked.
        let mut wrong_get = pin!(wrong.get());
        assert!(poll_once(&mut wrong_get).await.is_none());
        assert_eq!(wrong.len().await?, 0);
        let mut right_get = pin!(right.get());
        assert!(poll_once(&mut right_get).await.is_none());
        assert_eq!(right.len().await?, 0);

        jobs.put(&7).await?;
        assert!(is_wrong_type(&wrong_get.await, "jobs"));
        assert_eq!(right_get.await?, 7, "the item went to the next getter");

        // With only a getter of the wrong type parked, the item enters the
        // queue and waits there.
        let mut wrong_get = pin!(wrong.get());
        assert!(poll_once(&mut wrong_get).await.is_none());
        assert_eq!(wrong.len().await?, 0);
        jobs.put(&8).await?;
        assert!(is_wrong_type(&wrong_get.await, "jobs"));
        assert_eq!(jobs.len().await?, 1);
        assert_eq!(right.get_nowait().await?, 8);
        anyhow::Ok(())
    })
}

#[test]
fn a_consumer_process_of_another_type_destroys_no_job() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let client = connect(&manager)?;
    // The `consume` entry reads `Option<u64>`; these jobs are `Option<i64>`.
    let jobs = client.queue::<Option<i64>>("jobs", None)?;
    for n in 1..=5 {
        jobs.put(&Some(n))?;
    }
    let err = manager
        .launcher()
        .spawn_program(
            worker_program!(),
            "consume",
            &Consume {
                queue: "jobs".into(),
                results: "results".into(),
                index: 0,
            },
        )?
        .join_timeout(DEADLINE)
        .unwrap_err();
    assert!(
        matches!(err, WorkerError::EntryFailed { .. }),
        "the consumer fails on its first get: {err}"
    );
    assert_eq!(jobs.len()?, 5, "every job is still there");
    for n in 1..=5 {
        assert_eq!(jobs.get_nowait()?, Some(n));
    }
    Ok(())
}
