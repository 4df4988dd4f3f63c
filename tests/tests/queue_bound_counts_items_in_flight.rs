//! A bounded queue holds at most `maxsize` items, queued or received with
//! a receipt and not yet acknowledged: a connection that receives without
//! acknowledging cannot let producers put without limit, and what it held
//! comes back within the bound when it closes.

use manager_core::Encoded;
use manager_core::reply::Reply;
use manager_core::request::{ObjectRequest, QueueRequest, Wait};
use tests::raw::RawConnection;
use tests::start_manager;

const ROUNDS: u64 = 1_000;

#[test]
fn items_in_flight_count_toward_the_bound() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let client = manager::Client::connect(manager.address(), manager.authkey()).await?;
        let queue = client.queue::<u64>("bounded", Some(1)).await?;
        let id = queue.id();
        let mut raw = RawConnection::open(manager.address(), manager.authkey()).await?;
        let mut full_seen = false;
        for n in 0..ROUNDS {
            // A put that does not wait: the bound must refuse it at some point.
            let put = raw
                .call(
                    id,
                    ObjectRequest::Queue(QueueRequest::Put {
                        value: Encoded::encode(&n)?,
                        wait: Wait::No,
                    }),
                )
                .await?;
            if put.is_err() {
                full_seen = true;
                break;
            }
            let got = raw
                .call(
                    id,
                    ObjectRequest::Queue(QueueRequest::Receive {
                        expect: None,
                        wait: Wait::No,
                    }),
                )
                .await?;
            anyhow::ensure!(matches!(got, Ok(Reply::Delivery { .. })), "{got:?}");
        }
        anyhow::ensure!(
            full_seen,
            "a queue of maxsize 1 took {ROUNDS} puts without being full"
        );
        drop(raw);
        // The one item it held comes back; nothing else was let in.
        assert_eq!(queue.get_timeout(tests::DEADLINE).await?, 0);
        assert_eq!(queue.len().await?, 0);
        anyhow::Ok(())
    })
}
