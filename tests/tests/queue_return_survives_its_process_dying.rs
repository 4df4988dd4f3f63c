//! An item a client gives back (`QueueRequest::Return`, what the
//! client library sends for a get whose caller gave up after the item was
//! taken) must not be lost when that client's process dies.
//!
//! Returns wait for room, so a return into a full bounded queue parks; if
//! the returning process then dies, the parked return's item goes back to
//! the front (past the bound), as a dead consumer's unacknowledged items
//! do. Dropped with the connection, it would be lost: the item was taken
//! out of the queue by a get the caller never saw, and in a joinable queue
//! it would still count as unfinished, so `join` would never return.

use manager_core::reply::{RegistryReply, Reply};
use manager_core::request::{ObjectRequest, QueueRequest, RegistryRequest, Wait};
use manager_core::{Encoded, ObjectSpec, WireName};
use tests::raw::RawConnection;
use tests::{start_manager, until_parked};

fn put(n: u32) -> anyhow::Result<ObjectRequest> {
    Ok(ObjectRequest::Queue(QueueRequest::Put {
        value: Encoded::encode(&n)?,
        wait: Wait::No,
    }))
}

fn get() -> ObjectRequest {
    ObjectRequest::Queue(QueueRequest::Get { wait: Wait::No })
}

#[test]
fn a_return_waiting_for_room_survives_its_process_dying() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let observer = manager::Client::connect(manager.address(), manager.authkey()).await?;
        let mut producer = RawConnection::open(manager.address(), manager.authkey()).await?;
        let created = producer
            .call_registry(RegistryRequest::CreateOrGet {
                name: WireName::new("jobs"),
                spec: ObjectSpec::JoinableQueue { maxsize: Some(1) },
            })
            .await?;
        let Ok(Reply::Registry(RegistryReply::Object(info))) = created else {
            anyhow::bail!("not created: {created:?}");
        };
        let q = info.id;
        assert_eq!(producer.call(q, put(1)?).await?, Ok(Reply::Done));

        // A worker takes item 1 ...
        let mut worker = RawConnection::open(manager.address(), manager.authkey()).await?;
        assert_eq!(
            worker.call(q, get()).await?,
            Ok(Reply::Value(Encoded::encode(&1_u32)?))
        );
        // ... the producer fills the room it left ...
        assert_eq!(producer.call(q, put(2)?).await?, Ok(Reply::Done));
        // ... and the worker's library gives item 1 back (its caller gave
        // up): the queue is full, so the return waits for room.
        worker
            .send(
                q,
                ObjectRequest::Queue(QueueRequest::Return {
                    value: Encoded::encode(&1_u32)?,
                }),
            )
            .await?;
        until_parked(&observer, "jobs", 1).await?;
        // The worker process dies (SIGKILL: its socket just closes).
        drop(worker);
        until_parked(&observer, "jobs", 0).await?;

        // Both items must still come out, the returned one first: it goes
        // back to the front, where it was taken from.
        let returned = producer.call(q, get()).await?;
        assert!(
            returned == Ok(Reply::Value(Encoded::encode(&1_u32)?)),
            "the returned item was lost with its dead returner: {returned:?} \
             (expected item 1; Empty means it is gone, and the joinable queue's \
             unfinished count will never reach 0)"
        );
        assert_eq!(
            producer.call(q, get()).await?,
            Ok(Reply::Value(Encoded::encode(&2_u32)?))
        );
        anyhow::Ok(())
    })
}
