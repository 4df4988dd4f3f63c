//! A list-shaped reply longer than a frame (keys, values, items, snapshots,
//! slices, set operations, the registry's listing, an inspection) reaches
//! its caller whole, in order, in parts that each fit the frame limit; and a
//! connection has one such reply under way at a time, so a client that
//! pipelines snapshots without reading them makes the manager hold one.

use std::collections::BTreeSet;
use std::time::Duration;

use manager::{Client, Manager, ManagerProcess};
use manager_core::reply::Reply;
use manager_core::request::{ListRequest, ObjectRequest, Request, RequestFrame, RequestId};
use manager_ipc::frame::encode_frame;
use tests::raw::RawConnection;
use tests::{DEADLINE, worker_program};

/// The child's frame limit: every list below is several frames long.
const MAX_FRAME: usize = 16 * 1024;
const ITEMS: usize = 2_000;

#[test]
fn every_list_longer_than_a_frame_is_read_whole() -> anyhow::Result<()> {
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .max_frame(MAX_FRAME)
        .start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    let payload = |i: usize| vec![(i % 251) as u8; 32];

    let dict = client.dict::<String, Vec<u8>>("dict")?;
    let list = client.list::<Vec<u8>>("list")?;
    let set = client.set::<String>("set")?;
    let ns = client.namespace("ns")?;
    let keys: Vec<String> = (0..ITEMS).map(|i| format!("key{i:05}")).collect();
    let values: Vec<Vec<u8>> = (0..ITEMS).map(payload).collect();
    // Filled in requests that each fit a frame.
    for chunk in (0..ITEMS).collect::<Vec<_>>().chunks(100) {
        dict.update(chunk.iter().map(|&i| (keys[i].clone(), values[i].clone())))?;
        list.extend(chunk.iter().map(|&i| &values[i]))?;
        for &i in chunk {
            set.add(&keys[i])?;
            ns.set(&keys[i], &values[i])?;
        }
    }
    for i in 0..ITEMS {
        client.lock(&format!("lock{i:05}"))?;
    }

    let mut got_keys = dict.keys()?;
    got_keys.sort();
    assert_eq!(got_keys, keys);
    assert_eq!(dict.values()?.len(), ITEMS);
    let mut items = dict.items()?;
    items.sort();
    assert_eq!(
        items,
        keys.iter().cloned().zip(values.clone()).collect::<Vec<_>>()
    );

    assert_eq!(list.snapshot()?, values, "in order");
    assert_eq!(list.slice(Some(10), Some(-10))?, values[10..ITEMS - 10]);

    let members: BTreeSet<String> = set.snapshot()?.into_iter().collect();
    assert_eq!(members, keys.iter().cloned().collect());

    assert_eq!(ns.names()?, keys, "sorted");
    let snapshot = ns.snapshot()?;
    assert_eq!(snapshot.len(), ITEMS);
    assert_eq!(
        snapshot.get::<Vec<u8>>(&keys[ITEMS - 1])?,
        values[ITEMS - 1]
    );

    // The registry: ITEMS locks and the four collections.
    let listed = client.objects()?;
    assert_eq!(listed.len(), ITEMS + 4);
    assert!(
        listed.windows(2).all(|w| w[0].name < w[1].name),
        "sorted by name"
    );
    let inspected = client.inspect()?;
    assert_eq!(inspected.objects.len(), ITEMS + 4);
    assert!(inspected.object("lock01999").is_some());
    assert!(!inspected.connections.is_empty());

    // The connection still serves ordinary requests.
    assert_eq!(dict.len()?, ITEMS);
    manager.shutdown()?;
    Ok(())
}

/// How many requests of `connection` the manager has read and not answered.
async fn in_flight(client: &Client, connection: u64) -> anyhow::Result<u64> {
    let snapshot = client.inspect().await?;
    let report = snapshot
        .connection(connection)
        .ok_or_else(|| anyhow::anyhow!("connection {connection} not in the snapshot"))?;
    Ok(report.requests_in_flight)
}

#[test]
fn pipelined_snapshots_are_taken_one_at_a_time() -> anyhow::Result<()> {
    // 4 MiB a snapshot: far more than a socket buffer holds, and 16 of
    // them fit the default byte budget, so only the one-at-a-time rule
    // keeps the manager from reading further.
    const VALUE: usize = 64 * 1024;
    const LEN: usize = 64;
    const SNAPSHOTS: u64 = 30;
    let manager = Manager::builder().start()?;
    let address = manager.address().clone();
    let key = manager.authkey().clone();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let good = Client::connect(&address, &key)
            .await?
            .with_timeout(DEADLINE);
        let list = good.list::<Vec<u8>>("big").await?;
        for i in 0..LEN {
            list.append(&vec![i as u8; VALUE]).await?;
        }
        let target = list.id();

        let mut greedy = RawConnection::open(&address, &key).await?;
        let mut requests = Vec::new();
        for id in 1..=SNAPSHOTS {
            let frame = RequestFrame {
                id: RequestId(id),
                request: Request::Object {
                    target,
                    op: ObjectRequest::List(ListRequest::Snapshot),
                },
            };
            encode_frame(&frame, &mut requests, 1024)?;
        }
        greedy.send_raw(&requests).await?;
        // The first is taken at once; the second waits for it to be
        // written, which it cannot be while the client does not read.
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let mut pause = Duration::from_millis(1);
        while in_flight(&good, greedy.connection()).await? < 2 {
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "the snapshots were never read"
            );
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        for round in 0..50 {
            let now = in_flight(&good, greedy.connection()).await?;
            assert!(
                now <= 2,
                "round {round}: {now} snapshots read and unanswered"
            );
            assert_eq!(list.len().await?, LEN);
        }
        // Reading, the client gets every snapshot whole, in order.
        for expected in 1..=SNAPSHOTS {
            let reply = greedy.recv_whole().await?;
            assert_eq!(reply.id, RequestId(expected));
            let Ok(Reply::Values(values)) = reply.result else {
                panic!("reply {expected}: {:?}", reply.result);
            };
            assert_eq!(values.len(), LEN);
            assert_eq!(
                values[LEN - 1].decode::<Vec<u8>>("item")?,
                vec![(LEN - 1) as u8; VALUE]
            );
        }
        anyhow::Ok(())
    })?;
    manager.shutdown();
    Ok(())
}
