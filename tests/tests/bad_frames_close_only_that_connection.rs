//! Garbage, a truncated frame and an oversized frame each close only the
//! connection that sent them; the manager keeps serving everyone else and
//! loses no data.

use manager::{Address, Manager};
use manager_ipc::frame::{FrameBuffer, HANDSHAKE_MAX_FRAME};
use manager_ipc::handshake;
use tests::DEADLINE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Opens a raw connection; authenticates it first if `authenticate`.
async fn raw(manager: &Manager, authenticate: bool) -> anyhow::Result<UnixStream> {
    let Address::Unix(path) = manager.address() else {
        unreachable!()
    };
    let mut stream = UnixStream::connect(path).await?;
    if authenticate {
        let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
        handshake::initiate(&mut stream, &mut buf, manager.authkey()).await?;
    }
    Ok(stream)
}

/// Sends `bytes`, then expects the manager to close the connection.
async fn expect_closed(mut stream: UnixStream, bytes: &[u8]) -> anyhow::Result<()> {
    stream.write_all(bytes).await?;
    let mut rest = Vec::new();
    match tokio::time::timeout(DEADLINE, stream.read_to_end(&mut rest)).await {
        Ok(_) => Ok(()),
        Err(_) => anyhow::bail!(
            "the manager kept a connection open after {} bad bytes",
            bytes.len()
        ),
    }
}

#[test]
fn each_bad_input_closes_only_its_own_connection() -> anyhow::Result<()> {
    let manager = Manager::builder().max_frame(64 * 1024).start()?;
    let good = manager.connect()?.with_timeout(DEADLINE);
    let ns = good.namespace("data")?;
    ns.set("kept", &"safe".to_string())?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        // Garbage instead of a handshake.
        expect_closed(raw(&manager, false).await?, b"GET / HTTP/1.1\r\n\r\n").await?;
        // A frame of garbage after a valid handshake.
        let mut garbage = 40_u32.to_le_bytes().to_vec();
        garbage.extend([0xff; 40]);
        expect_closed(raw(&manager, true).await?, &garbage).await?;
        // A header announcing more than the maximum frame size.
        expect_closed(raw(&manager, true).await?, &(1_u32 << 31).to_le_bytes()).await?;
        // A truncated frame: the header promises 100 bytes, 10 come, then EOF.
        let mut stream = raw(&manager, true).await?;
        let mut truncated = 100_u32.to_le_bytes().to_vec();
        truncated.extend([0; 10]);
        stream.write_all(&truncated).await?;
        stream.shutdown().await?;
        let mut rest = Vec::new();
        tokio::time::timeout(DEADLINE, stream.read_to_end(&mut rest)).await??;
        anyhow::Ok(())
    })?;

    // The good connection and its data survived all of it.
    assert_eq!(ns.get::<String>("kept")?, "safe");
    ns.add("still-serving", 1)?;
    assert_eq!(
        manager
            .connect()?
            .namespace("data")?
            .get::<i64>("still-serving")?,
        1
    );
    Ok(())
}

#[test]
fn a_request_over_the_managers_frame_limit_fails_alone() -> anyhow::Result<()> {
    let manager = Manager::builder().max_frame(4 * 1024).start()?;
    let ns = manager
        .connect()?
        .with_timeout(DEADLINE)
        .namespace("data")?;
    // The client learned the manager's limit in the handshake and refuses
    // to send the frame, so the connection stays up.
    let err = ns.set("big", &vec![7_u8; 8 * 1024]).unwrap_err();
    assert!(matches!(err, manager::Error::Encode(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains("exceeds the maximum of 4096 bytes"),
        "{err}"
    );
    ns.set("small", &vec![7_u8; 1024])?;
    assert_eq!(ns.get::<Vec<u8>>("small")?.len(), 1024);
    Ok(())
}
