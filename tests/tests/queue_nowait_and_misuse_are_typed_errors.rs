//! `put_nowait` on a full queue, `get_nowait` on an empty one, timed waits
//! that end, wrong types and kinds are typed errors naming the queue, for
//! that call only: checked from a worker process (blocking proxy) and from
//! the main process (async proxy).

use std::time::Duration;

use manager::{Error, ManagerError};
use manager_core::request::{ObjectRequest, QueueRequest};
use tests::{DEADLINE, run_workers, start_manager, worker_program};

#[test]
fn misuse_fails_only_that_call_with_a_typed_error() -> anyhow::Result<()> {
    let manager = start_manager()?;
    run_workers(
        &manager,
        worker_program!(),
        "queue_errors",
        ["checked".to_owned()],
    )?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = manager.connect_async().await?.with_timeout(DEADLINE);
        let queue = client.queue::<u64>("main", Some(1)).await?;

        let empty = queue.get_nowait().await.unwrap_err();
        assert!(
            matches!(&empty, Error::Manager(ManagerError::Empty { .. })),
            "{empty:?}"
        );
        assert_eq!(empty.to_string(), "queue `main` is empty");
        assert_eq!(queue.try_get().await?, None);

        queue.put_nowait(&1).await?;
        let full = queue.put_nowait(&2).await.unwrap_err();
        assert!(
            matches!(&full, Error::Manager(ManagerError::Full { .. })),
            "{full:?}"
        );
        assert_eq!(full.to_string(), "queue `main` is full");
        let full = queue
            .put_timeout(&3, Duration::from_millis(20))
            .await
            .unwrap_err();
        assert!(matches!(full, Error::Manager(ManagerError::Full { .. })));

        // A plain queue has no task_done or join; the proxy has no such
        // methods, so ask through the raw handle.
        let raw = client
            .object("main", manager::ObjectSpec::Queue { maxsize: None })
            .await?;
        match raw.call(ObjectRequest::Queue(QueueRequest::TaskDone)).await {
            Err(Error::Manager(ManagerError::Unsupported { operation, .. })) => {
                assert_eq!(operation, "task_done");
            }
            other => panic!("task_done on a plain queue: {other:?}"),
        }

        // None of that disturbed the queue or the connection.
        assert_eq!(queue.len().await?, 1);
        assert_eq!(queue.get().await?, 1);
        let empty = queue
            .get_timeout(Duration::from_millis(20))
            .await
            .unwrap_err();
        assert!(matches!(empty, Error::Manager(ManagerError::Empty { .. })));
        Ok(())
    })
}
