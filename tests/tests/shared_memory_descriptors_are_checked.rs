//! The client's side of a descriptor beside a reply, against a fake
//! manager that misbehaves: a mapping whose descriptor does not come fails
//! that one call with a protocol error; a descriptor no reply announces is
//! closed; the connection goes on serving, and a mapping whose descriptor
//! does come maps the manager's bytes. And the other way: a real manager
//! takes no descriptor a client attaches to a request.

use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use manager::{AuthKey, Error, ObjectKind, blocking};
use manager_core::reply::{AttachedFd, ObjectInfo, RegistryReply, Reply, ReplyFrame};
use manager_core::request::{
    RegistryRequest, Request, RequestFrame, RequestId, SharedMemoryRequest,
};
use manager_core::{ObjectId, ObjectName, codec};
use manager_ipc::frame::{FrameBuffer, FrameError, HANDSHAKE_MAX_FRAME, encode_frame};
use manager_ipc::handshake::{self, Session};
use tests::{DEADLINE, wait_until};
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};

/// A sealed memfd of `size` bytes starting with `head`.
fn block(name: &str, size: u64, head: &[u8]) -> anyhow::Result<OwnedFd> {
    use rustix::fs::{MemfdFlags, SealFlags, fcntl_add_seals, ftruncate, memfd_create};
    let fd = memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)?;
    ftruncate(&fd, size)?;
    rustix::io::write(&fd, head)?;
    fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW)?;
    Ok(fd)
}

/// Writes `frame` to `stream` with `fd` attached to its first byte, as
/// the manager sends a block (or a hostile client would); a short frame
/// into an empty socket goes whole.
async fn send_with_fd(
    stream: &mut UnixStream,
    frame: &[u8],
    fd: BorrowedFd<'_>,
) -> anyhow::Result<()> {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, sendmsg};
    let fds = [fd];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    assert!(control.push(SendAncillaryMessage::ScmRights(&fds)));
    stream.writable().await?;
    let sent = sendmsg(
        stream.as_fd(),
        &[IoSlice::new(frame)],
        &mut control,
        SendFlags::empty(),
    )?;
    anyhow::ensure!(sent == frame.len(), "sent {sent} of {}", frame.len());
    Ok(())
}

/// Writes `reply` for request `id`, with `fd` attached if given.
async fn answer(
    stream: &mut UnixStream,
    id: RequestId,
    result: Reply,
    fd: Option<BorrowedFd<'_>>,
) -> anyhow::Result<()> {
    let mut frame = Vec::new();
    encode_frame(
        &ReplyFrame {
            id,
            result: Ok(result),
        },
        &mut frame,
        1 << 20,
    )?;
    match fd {
        None => stream.write_all(&frame).await?,
        Some(fd) => send_with_fd(stream, &frame, fd).await?,
    }
    Ok(())
}

/// The fake manager: one connection, answered by the script in the
/// module docs.
async fn fake_manager(listener: UnixListener, key: AuthKey) -> anyhow::Result<()> {
    let (mut stream, _) = listener.accept().await?;
    let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
    let session = Session {
        connection: 1,
        manager: 7,
        max_frame: 1 << 20,
    };
    handshake::accept(&mut stream, &mut buf, &key, session, || Ok(())).await?;
    buf.set_max_frame(1 << 20);
    let stray = block("stray-fd", 4096, b"")?;
    let good = block("good-fd", 4096, b"hi")?;
    let mut maps = 0;
    loop {
        let frame = loop {
            if let Some(frame) = buf.next_frame()? {
                break frame;
            }
            match buf.fill(&mut stream).await {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                // The client hung up with an answer (to its last unmap)
                // unread: its kernel resets the connection.
                Err(FrameError::Io(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return Ok(());
                }
                Err(e) => return Err(e.into()),
            }
        };
        let RequestFrame { id, request } = codec::decode(&frame)?;
        match request {
            Request::Registry(RegistryRequest::CreateOrGet { name, .. }) => {
                let info = ObjectInfo {
                    id: ObjectId(1),
                    name: ObjectName::new(name.as_str())?,
                    kind: ObjectKind::SharedMemory,
                    created: true,
                };
                let reply = Reply::Registry(RegistryReply::Object(info));
                answer(&mut stream, id, reply, None).await?;
            }
            Request::Object { op, .. } => match op.try_into() {
                Ok(SharedMemoryRequest::Map) => {
                    maps += 1;
                    let reply = Reply::Mapping {
                        size: 4096,
                        fd: AttachedFd::none(),
                    };
                    // The first comes without its descriptor.
                    let fd = (maps > 1).then(|| good.as_fd());
                    answer(&mut stream, id, reply, fd).await?;
                }
                Ok(SharedMemoryRequest::Size) => {
                    // A descriptor nothing announces.
                    answer(&mut stream, id, Reply::Count(4096), Some(stray.as_fd())).await?;
                }
                _ => answer(&mut stream, id, Reply::Done, None).await?,
            },
            Request::Registry(_) => answer(&mut stream, id, Reply::Done, None).await?,
        }
    }
}

#[test]
fn descriptors_beside_replies_are_checked() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("fake.sock");
    let key = AuthKey::random()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let listener = runtime.block_on(async { UnixListener::bind(&path) })?;
    let server = std::thread::spawn({
        let key = key.clone();
        move || match runtime.block_on(fake_manager(listener, key)) {
            // The client hung up while an answer (to its last unmap) was
            // on its way.
            Err(e)
                if e.downcast_ref::<std::io::Error>().is_some_and(|e| {
                    e.kind() == std::io::ErrorKind::BrokenPipe
                        || e.kind() == std::io::ErrorKind::ConnectionReset
                }) =>
            {
                Ok(())
            }
            other => other,
        }
    });

    let address = manager::Address::Unix(path);
    let client = blocking::Client::connect(&address, &key)?.with_timeout(DEADLINE);
    let block = client.shared_memory("fake", 4096)?;

    // No descriptor came: that call fails, as a protocol error.
    let err = block.map().unwrap_err();
    assert!(matches!(err, Error::Protocol { .. }), "{err:?}");
    assert!(err.to_string().contains("descriptor did not come"), "{err}");

    // A descriptor no reply announces is closed; the call is answered.
    assert_eq!(block.size()?, 4096);
    wait_until("the stray descriptor is closed", || {
        Ok(tests::memfds_named("stray-fd")? == 1)
    })?;

    // The connection goes on: a mapping whose descriptor comes works, and
    // the client keeps no copy of the descriptor.
    let mapping = block.map()?;
    assert_eq!(mapping.to_vec(0..2), b"hi");
    assert_eq!(
        tests::memfds_named("good-fd")?,
        1,
        "only the fake manager's own"
    );

    drop((mapping, block, client));
    server.join().expect("the fake manager ran")?;
    Ok(())
}

#[test]
fn the_manager_never_takes_a_descriptor_from_a_client() -> anyhow::Result<()> {
    let manager = manager::Manager::start()?;
    let manager::Address::Unix(path) = manager.address().clone() else {
        anyhow::bail!("a Unix socket was asked for");
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let mut stream = UnixStream::connect(&path).await?;
        let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
        let session = handshake::initiate(&mut stream, &mut buf, manager.authkey()).await?;
        buf.set_max_frame(session.max_frame + manager_ipc::frame::REPLY_HEADROOM);
        // A request with a descriptor attached, as a hostile client would
        // send one.
        let offered = block("offered-to-the-manager", 4096, b"")?;
        let mut frame = Vec::new();
        encode_frame(
            &RequestFrame {
                id: RequestId(1),
                request: Request::Registry(RegistryRequest::List),
            },
            &mut frame,
            session.max_frame,
        )?;
        send_with_fd(&mut stream, &frame, offered.as_fd()).await?;
        drop(offered);
        // Answered as any request is...
        let reply: ReplyFrame = buf.read_one(&mut stream).await?;
        assert_eq!(reply.id, RequestId(1));
        assert!(reply.result.is_ok(), "{reply:?}");
        anyhow::Ok(())
    })?;
    // ...and the descriptor went nowhere: the manager (this process) holds
    // no copy, since it reads requests with plain reads and the kernel
    // closes what comes with them.
    wait_until("the offered descriptor is closed", || {
        Ok(tests::memfds_named("offered-to-the-manager")? == 0)
    })?;
    manager.shutdown();
    Ok(())
}
