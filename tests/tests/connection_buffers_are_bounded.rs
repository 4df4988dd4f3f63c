//! What one connection can make the manager hold is bounded in bytes and
//! time: a client that pipelines requests for large values and never reads
//! the replies stops being read once `max_backlog_bytes` of replies wait
//! (and gets every reply, in order, once it reads); a frame begun must
//! arrive whole within `frame_timeout`, however slowly its bytes trickle
//! in, and the client is told why its connection is closed, while a client
//! streaming frames that each arrive in time is never closed. Other
//! connections are served throughout.

use std::time::Duration;

use manager::{Client, Limits, Manager};
use manager_core::ManagerError;
use manager_core::reply::Reply;
use manager_core::request::{NamespaceRequest, ObjectRequest, Request, RequestFrame, RequestId};
use manager_ipc::frame::encode_frame;
use tests::DEADLINE;
use tests::raw::RawConnection;

const VALUE: usize = 64 * 1024;
const BACKLOG: usize = 1 << 20;
const GETS: u64 = 400;

/// How many requests of `connection` the manager has read and not answered.
async fn in_flight(client: &Client, connection: u64) -> anyhow::Result<u64> {
    let snapshot = client.inspect().await?;
    let report = snapshot
        .connections
        .iter()
        .find(|c| c.id == connection)
        .ok_or_else(|| anyhow::anyhow!("connection {connection} not in the snapshot"))?;
    Ok(report.requests_in_flight)
}

#[test]
fn a_client_that_does_not_read_stops_being_read_at_its_byte_budget() -> anyhow::Result<()> {
    let manager = Manager::builder()
        .limits(Limits {
            max_backlog_bytes: BACKLOG,
            ..Limits::default()
        })
        .start()?;
    let address = manager.address().clone();
    let key = manager.authkey().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let good = Client::connect(&address, &key)
            .await?
            .with_timeout(DEADLINE);
        let ns = good.namespace("big").await?;
        ns.set("value", &vec![7_u8; VALUE]).await?;
        let target = ns.id();

        let mut greedy = RawConnection::open(&address, &key).await?;
        // All the requests in one write, which the socket buffers hold
        // whole. The manager reads them until its backlog is full, then
        // stops.
        let mut requests = Vec::new();
        for id in 1..=GETS {
            let frame = RequestFrame {
                id: RequestId(id),
                request: Request::Object {
                    target,
                    op: ObjectRequest::Namespace(NamespaceRequest::Get {
                        attribute: "value".into(),
                    }),
                },
            };
            encode_frame(&frame, &mut requests, 1024)?;
        }
        greedy.send_raw(&requests).await?;
        let full = (BACKLOG / VALUE) as u64;
        let bound = full + manager::limits::MAX_BATCH as u64 + 1;
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let mut pause = Duration::from_millis(1);
        while in_flight(&good, greedy.connection()).await? < full {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "backlog never filled"
            );
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        // However long it is watched, it never reads much further, and the
        // good client is served meanwhile.
        for round in 0..50 {
            let now = in_flight(&good, greedy.connection()).await?;
            assert!(
                now <= bound,
                "round {round}: {now} replies waiting, bound {bound}"
            );
            assert_eq!(ns.get::<Vec<u8>>("value").await?.len(), VALUE);
        }
        // Reading, the greedy client gets every reply, in order.
        for expected in 1..=GETS {
            let reply = greedy.recv().await?;
            assert_eq!(reply.id, RequestId(expected));
            let Ok(Reply::Value(value)) = reply.result else {
                panic!("reply {expected}: {:?}", reply.result);
            };
            // The value's encoding: its length, then its bytes.
            assert!(value.bytes().len() > VALUE, "{} bytes", value.bytes().len());
        }
        anyhow::Ok(())
    })?;
    manager.shutdown();
    Ok(())
}

/// Expects the manager's last word on `raw`'s connection, then its close.
async fn expect_closed_because(raw: &mut RawConnection, words: &str) -> anyhow::Result<()> {
    let last = raw.recv().await?;
    assert_eq!(last.id, RequestId::CONNECTION);
    let Err(ManagerError::BadRequest(reason)) = &last.result else {
        panic!("expected the reason, got {last:?}");
    };
    assert!(reason.contains(words), "{reason}");
    let after = raw.recv().await;
    assert!(after.is_err(), "still open: {after:?}");
    Ok(())
}

#[test]
fn a_begun_frame_must_arrive_within_the_frame_timeout() -> anyhow::Result<()> {
    let frame_timeout = Duration::from_millis(300);
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
        let good = Client::connect(&address, &key).await?.with_timeout(DEADLINE);
        let ns = good.namespace("ns").await?;

        // A header that announces 16 MiB, a few bytes, then silence.
        let mut silent = RawConnection::open(&address, &key).await?;
        let mut bytes = (16_u32 << 20).to_le_bytes().to_vec();
        bytes.extend([0; 10]);
        silent.send_raw(&bytes).await?;
        ns.set("x", &1_u8).await?;
        expect_closed_because(&mut silent, "not completed within 300ms").await?;

        // A frame whose bytes keep coming, one every 20 ms: the deadline
        // counts from its first byte, not from the last.
        let mut trickling = RawConnection::open(&address, &key).await?;
        trickling.send_raw(&1000_u32.to_le_bytes()).await?;
        let started = tokio::time::Instant::now();
        let mut ticks = tokio::time::interval(Duration::from_millis(20));
        let reason = loop {
            tokio::select! {
                _ = ticks.tick() => {
                    // The manager may have closed it already.
                    let _ = trickling.send_raw(&[0]).await;
                    anyhow::ensure!(started.elapsed() < DEADLINE, "never closed");
                }
                last = trickling.recv() => break last?,
            }
        };
        assert!(started.elapsed() >= frame_timeout);
        assert_eq!(reason.id, RequestId::CONNECTION);
        assert!(
            matches!(&reason.result, Err(ManagerError::BadRequest(r)) if r.contains("not completed")),
            "{reason:?}"
        );
        // The good client never noticed.
        ns.set("x", &2_u8).await?;
        assert_eq!(ns.get::<u8>("x").await?, 2);

        // A client streaming frames that each arrive whole within 20 ms,
        // its reads never ending on a frame's boundary: the deadline
        // restarts with every frame, so it is never closed.
        let mut streaming = RawConnection::open(&address, &key).await?;
        let target = ns.id();
        let frame = |id: u64| -> anyhow::Result<Vec<u8>> {
            let frame = RequestFrame {
                id: RequestId(id),
                request: Request::Object {
                    target,
                    op: ObjectRequest::Namespace(NamespaceRequest::Get {
                        attribute: "x".into(),
                    }),
                },
            };
            let mut out = Vec::new();
            encode_frame(&frame, &mut out, 1024)?;
            Ok(out)
        };
        // Each tick: the second half of frame k, then the first half of
        // frame k + 1 (ids below 128 keep every frame the same length).
        let half = frame(1)?.len() / 2;
        streaming.send_raw(&frame(1)?[..half]).await?;
        let started = tokio::time::Instant::now();
        let mut ticks = tokio::time::interval(Duration::from_millis(20));
        let mut id = 1;
        while started.elapsed() < 3 * frame_timeout {
            ticks.tick().await;
            let mut chunk = frame(id)?[half..].to_vec();
            chunk.extend_from_slice(&frame(id + 1)?[..half]);
            streaming.send_raw(&chunk).await?;
            let reply = streaming.recv().await?;
            anyhow::ensure!(
                reply.id == RequestId(id) && reply.result.is_ok(),
                "after {:?} and {id} whole frames: {reply:?}",
                started.elapsed()
            );
            id += 1;
        }
        anyhow::Ok(())
    })?;
    manager.shutdown();
    Ok(())
}

#[test]
fn a_frame_over_the_limit_is_answered_with_the_reason() -> anyhow::Result<()> {
    let manager = Manager::builder().max_frame(4096).start()?;
    let address = manager.address().clone();
    let key = manager.authkey().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut raw = RawConnection::open(&address, &key).await?;
        raw.send_raw(&(1_u32 << 20).to_le_bytes()).await?;
        expect_closed_because(&mut raw, "exceeds the maximum of 4096 bytes").await?;
        // Undecodable bytes in a frame of a good size.
        let mut raw = RawConnection::open(&address, &key).await?;
        raw.send_raw(&[3, 0, 0, 0, 0xff, 0xff, 0xff]).await?;
        expect_closed_because(&mut raw, "bad frame").await?;
        anyhow::Ok(())
    })?;
    manager.shutdown();
    Ok(())
}
