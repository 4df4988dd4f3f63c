//! A refused `Ack { task_done: true }` (`TooManyReleases`) changes
//! nothing: the item stays in flight for its receiver, which can still
//! acknowledge or requeue it, and which gives it back if it dies.

use manager_core::reply::Reply;
use manager_core::request::{ObjectRequest, QueueRequest, Wait};
use manager_core::{Encoded, ManagerError};
use tests::raw::RawConnection;
use tests::start_manager;

fn q(request: QueueRequest) -> ObjectRequest {
    ObjectRequest::Queue(request)
}

#[test]
fn a_refused_task_done_ack_leaves_the_item_in_flight() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = manager::Client::connect(manager.address(), manager.authkey()).await?;
        let queue = client.joinable_queue::<u64>("jobs", None).await?;
        let id = queue.id();
        let mut raw = RawConnection::open(manager.address(), manager.authkey()).await?;
        let put = q(QueueRequest::Put {
            value: Encoded::encode(&7u64)?,
            wait: Wait::No,
        });
        assert_eq!(raw.call(id, put).await?, Ok(Reply::Done));
        let receipt = match raw
            .call(
                id,
                q(QueueRequest::Receive {
                    expect: None,
                    wait: Wait::No,
                }),
            )
            .await?
        {
            Ok(Reply::Delivery { receipt, .. }) => receipt,
            other => anyhow::bail!("{other:?}"),
        };
        // Some other code of the process called task_done() once too often.
        assert_eq!(
            raw.call(id, q(QueueRequest::TaskDone)).await?,
            Ok(Reply::Done)
        );
        let ack = raw
            .call(
                id,
                q(QueueRequest::Ack {
                    receipt,
                    task_done: true,
                }),
            )
            .await?;
        assert!(
            matches!(ack, Err(ManagerError::TooManyReleases { .. })),
            "{ack:?}"
        );
        // The ack failed, so the item must still be this connection's to
        // give back.
        let requeue = raw.call(id, q(QueueRequest::Requeue { receipt })).await?;
        assert_eq!(
            requeue,
            Ok(Reply::Done),
            "the Ack answered an error but had already acknowledged the item"
        );
        anyhow::Ok(())
    })
}
