//! A client that streams well-formed frames, each of which arrives
//! whole within a few milliseconds, must not be closed by `frame_timeout`
//! just because the socket's reads never end on a frame boundary.

use std::time::Duration;

use manager::{Limits, Manager};
use manager_core::name::WireName;
use manager_core::request::{RegistryRequest, Request, RequestFrame, RequestId};
use manager_ipc::frame::encode_frame;
use tests::raw::RawConnection;

#[test]
fn frames_that_each_arrive_in_time_are_not_timed_out() -> anyhow::Result<()> {
    let frame_timeout = Duration::from_millis(1000);
    let manager = Manager::builder()
        .limits(Limits {
            frame_timeout,
            ..Limits::default()
        })
        .start()?;
    let address = manager.address().clone();
    let key = manager.authkey().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut raw = RawConnection::open(&address, &key).await?;
        let frame = |id: u64| {
            let mut out = Vec::new();
            let request = Request::Registry(RegistryRequest::Lookup {
                name: WireName::new("nothing-here".to_owned()),
            });
            encode_frame(
                &RequestFrame {
                    id: RequestId(id),
                    request,
                },
                &mut out,
                1 << 20,
            )
            .unwrap();
            out
        };
        // Every 20 ms: the second half of frame k, then the first half of
        // frame k + 1. Each frame is whole 20 ms after its first byte.
        let first = frame(1);
        let half = first.len() / 2;
        raw.send_raw(&first[..half]).await?;
        let started = std::time::Instant::now();
        let mut id = 1;
        while started.elapsed() < 2 * frame_timeout {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let this = frame(id);
            let next = frame(id + 1);
            let mut chunk = this[half..].to_vec();
            chunk.extend_from_slice(&next[..half]);
            let _ = raw.send_raw(&chunk).await;
            let reply = raw.recv().await?;
            anyhow::ensure!(
                reply.id == RequestId(id),
                "after {:?} and {id} whole frames, got {reply:?}",
                started.elapsed()
            );
            id += 1;
        }
        anyhow::Ok(())
    })?;
    manager.shutdown();
    Ok(())
}
