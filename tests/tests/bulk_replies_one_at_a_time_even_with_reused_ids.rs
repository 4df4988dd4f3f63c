//! A connection has one bulk reply (one inspection) under way at a time,
//! even for a client that reuses request ids.
//!
//! The writer ends the bulk reply under way only when it writes the reply
//! marked as its answer, not any reply with the bulk request's id. A client
//! that sends each `Inspect` followed by a cheap request with the same id
//! gets the cheap reply written first; were that to end "the bulk under
//! way", the reader would read on and start the next inspection while the
//! previous one is still gathering, and inspections would pile up, each a
//! task asking every object for a report and holding a snapshot.

use manager_core::reply::{RegistryReply, Reply};
use manager_core::request::{
    ListRequest, ObjectRequest, RegistryRequest, Request, RequestFrame, RequestId,
};
use manager_core::{ObjectSpec, WireName};
use manager_ipc::frame::encode_frame;
use tests::raw::RawConnection;
use tests::{connect, start_manager};

/// Objects each inspection asks about: several windows of 256.
const OBJECTS: usize = 1024;
const PIPELINED: u64 = 40;

#[test]
fn reused_ids_do_not_let_inspections_pile_up() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let setup = connect(&manager)?;
    for i in 0..OBJECTS {
        setup.list::<u32>(&format!("o{i:04}"))?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let most = runtime.block_on(async {
        let mut raw = RawConnection::open(manager.address(), manager.authkey()).await?;
        let me = raw.connection();
        let created = raw
            .call_registry(RegistryRequest::CreateOrGet {
                name: WireName::new("cheap"),
                spec: ObjectSpec::List,
            })
            .await?;
        let Ok(Reply::Registry(RegistryReply::Object(info))) = created else {
            anyhow::bail!("not created: {created:?}");
        };
        // Inspect with id k, then a cheap request with the same id k.
        let mut out = Vec::new();
        for k in 1000..1000 + PIPELINED {
            for request in [
                Request::Registry(RegistryRequest::Inspect),
                Request::Object {
                    target: info.id,
                    op: ObjectRequest::List(ListRequest::Len),
                },
            ] {
                let frame = RequestFrame {
                    id: RequestId(k),
                    request,
                };
                encode_frame(&frame, &mut out, 1 << 20)?;
            }
        }
        raw.send_raw(&out).await?;
        let mut most = 0;
        for _ in 0..2 * PIPELINED {
            let reply = raw.recv_whole().await?;
            if let Ok(Reply::Registry(RegistryReply::Snapshot(snapshot))) = reply.result {
                let in_flight = snapshot.connection(me).map_or(0, |c| c.requests_in_flight);
                most = most.max(in_flight);
            }
        }
        anyhow::Ok(most)
    })?;
    // One inspection under way, the cheap request after it, and the next
    // inspection waiting for it: a handful at most.
    assert!(
        most <= 4,
        "{most} requests in flight in a snapshot: the reader ran ahead, \
         inspections were not taken one at a time"
    );
    Ok(())
}
