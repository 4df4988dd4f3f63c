//! A shared memory descriptor the manager sends stays in flight until its
//! client reads it. One connection may have `max_descriptors_unread` of
//! them: past that its mappings wait for it to read, while every other
//! client maps as before. All connections together may have
//! `max_descriptors_in_flight`: past that a mapping fails alone, with a
//! clear error, and its connection goes on.

mod server_support;

use manager::{AuthKey, Error, ManagerError, blocking};
use manager_core::reply::Reply;
use manager_core::request::{ObjectRequest, SharedMemoryRequest};
use server_support::{Proc, server_with_key};
use tests::raw::RawConnection;
use tests::{DEADLINE, wait_until};

/// Mappings a client that does not read asks for: many times its cap, and
/// fewer than one socket's buffer holds.
const HOARDED: usize = 160;

#[test]
fn a_client_that_does_not_read_is_held_to_its_cap_and_others_map() -> anyhow::Result<()> {
    let manager = Started::with_caps(4, 16)?;
    let (address, key, block) = (&manager.address, &manager.key, &manager.block);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut hoarder = runtime.block_on(async {
        let mut raw = RawConnection::open(address, key).await?;
        for _ in 0..HOARDED {
            raw.send(
                block.id(),
                ObjectRequest::SharedMemory(SharedMemoryRequest::Map),
            )
            .await?;
        }
        anyhow::Ok(raw)
    })?;
    // Had the hoarder been sent all it asked for, the manager's 16 would
    // be taken many times over; it holds at most its 4, so every other
    // mapping is handed over.
    for _ in 0..40 {
        let mapping = block.map()?;
        assert_eq!(mapping.to_vec(0..6), b"before");
    }
    // Inspection shows what the hoarder holds, on its connection and in
    // the manager's total.
    let unread = |connection: u64| -> anyhow::Result<(u64, u64)> {
        let snapshot = manager.client.inspect()?;
        let mine = snapshot
            .connections
            .iter()
            .find(|c| c.id == connection)
            .map_or(0, |c| c.descriptors_unread);
        Ok((mine, snapshot.totals.descriptors_in_flight))
    };
    wait_until(
        "inspection shows the hoarder's 4 unread descriptors",
        || {
            let (mine, all) = unread(hoarder.connection())?;
            anyhow::ensure!(mine <= 4, "the hoarder holds {mine}, over its cap");
            Ok(mine == 4 && all >= 4)
        },
    )?;

    // Nothing it asked for was refused: once it reads, the rest come.
    runtime.block_on(async {
        for n in 0..HOARDED {
            let reply = hoarder.recv().await?;
            match reply.result {
                Ok(Reply::Mapping { size: 4096, .. }) => {}
                other => anyhow::bail!("mapping {n} of the hoarder: {other:?}"),
            }
        }
        anyhow::Ok(())
    })?;
    wait_until("inspection shows the hoarder has read them all", || {
        Ok(unread(hoarder.connection())?.0 == 0)
    })?;
    Ok(())
}

#[test]
fn past_the_managers_cap_a_mapping_fails_alone() -> anyhow::Result<()> {
    let manager = Started::with_caps(4, 8)?;
    let (address, key, block) = (&manager.address, &manager.key, &manager.block);

    // Two clients that do not read take the manager's 8 between them.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut hoarders = runtime.block_on(async {
        let mut hoarders = Vec::new();
        for _ in 0..2 {
            hoarders.push(RawConnection::open(address, key).await?);
        }
        anyhow::Ok(hoarders)
    })?;
    let map = ObjectRequest::SharedMemory(SharedMemoryRequest::Map);
    wait_until(
        "a mapping is refused while the manager's cap is taken",
        || {
            // They keep asking, so a slot the other client frees once it
            // has read its mapping goes to them.
            runtime.block_on(async {
                for hoarder in &mut hoarders {
                    hoarder.send(block.id(), map.clone()).await?;
                }
                anyhow::Ok(())
            })?;
            match block.map() {
                Ok(mapping) => {
                    assert_eq!(mapping.to_vec(0..6), b"before");
                    drop(mapping);
                    // A round trip, so this client reads the reply to its
                    // unmap too: until it has read everything sent to it,
                    // its mapping still counts.
                    block.size()?;
                    Ok(false)
                }
                Err(Error::Manager(ManagerError::LimitReached { what, max })) => {
                    assert!(what.contains("descriptors in flight"), "{what}");
                    assert_eq!(max, 8);
                    Ok(true)
                }
                Err(e) => Err(anyhow::anyhow!(
                    "a client that reads its replies lost its connection: {e}"
                )),
            }
        },
    )?;
    // Only the mapping failed: the connection serves the next call.
    assert_eq!(block.size()?, 4096);

    drop(hoarders);
    wait_until("a mapping is handed over again", || match block.map() {
        Ok(mapping) => Ok(mapping.to_vec(0..6) == b"before"),
        Err(Error::Manager(ManagerError::LimitReached { .. })) => Ok(false),
        Err(e) => Err(e.into()),
    })?;
    Ok(())
}

/// A stand-alone manager with the given caps, and a block "frame" whose
/// first bytes a client has written.
struct Started {
    address: manager::Address,
    key: AuthKey,
    block: blocking::SharedMemory,
    client: blocking::Client,
    _server: Proc,
    _dir: tempfile::TempDir,
}

impl Started {
    fn with_caps(unread: usize, in_flight: usize) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let socket = dir.path().join("manager.sock");
        let key = AuthKey::random()?;
        let (unread, in_flight) = (unread.to_string(), in_flight.to_string());
        let command = server_with_key(
            &[
                "--unix",
                socket.to_str().expect("utf-8 path"),
                "--max-descriptors-unread",
                &unread,
                "--max-descriptors-in-flight",
                &in_flight,
            ],
            &key,
        );
        let (server, address) = Proc::start_server(command)?;
        let client = blocking::Client::connect(&address, &key)?.with_timeout(DEADLINE);
        let block = client.shared_memory("frame", 4096)?;
        block.map()?.write(0, b"before");
        Ok(Started {
            address,
            key,
            block,
            client,
            _server: server,
            _dir: dir,
        })
    }
}
