//! [`RawConnection`]: one authenticated connection that speaks the protocol
//! frame by frame, for tests that must control exactly what is sent and when
//! the connection dies.
//!
//! Dropping a `RawConnection` closes its socket at once, without a word to
//! the manager: to the manager that is what a process killed with SIGKILL
//! looks like (the kernel closes its sockets), only faster to repeat.

use anyhow::{Context, bail};
use manager::{Address, AuthKey};
use manager_core::reply::{Reply, ReplyFrame};
use manager_core::request::{ObjectRequest, RegistryRequest, Request, RequestFrame, RequestId};
use manager_core::{ManagerError, ObjectId};
use manager_ipc::frame::{FrameBuffer, HANDSHAKE_MAX_FRAME, encode_frame};
use manager_ipc::handshake;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, UnixStream};

use crate::DEADLINE;

/// A Unix stream whose reads wait for readiness only when the socket is
/// empty. A read stops where the bytes a descriptor came with begin (the
/// kernel closes the descriptor, as nothing here takes it), and tokio's
/// own `poll_read` takes such a short read to mean the socket is drained
/// and waits for more to arrive, which may never happen.
struct WholeReads(UnixStream);

impl AsyncRead for WholeReads {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let stream = &self.0;
        loop {
            std::task::ready!(stream.poll_read_ready(cx))?;
            match stream.try_read(buf.initialize_unfilled()) {
                Ok(n) => {
                    buf.advance(n);
                    return std::task::Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => return std::task::Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for WholeReads {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

/// The receive buffer of a TCP connection (the kernel doubles it).
const RECV_BUFFER: u32 = 64 * 1024;

/// A byte stream of either transport.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One connection to a manager, driven frame by frame.
pub struct RawConnection {
    stream: Box<dyn Io>,
    buf: FrameBuffer,
    max_frame: usize,
    next_id: u64,
    connection: u64,
}

impl std::fmt::Debug for RawConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawConnection")
            .field("next_id", &self.next_id)
            .finish_non_exhaustive()
    }
}

impl RawConnection {
    /// Connects to `address` and authenticates with `key`.
    pub async fn open(address: &Address, key: &AuthKey) -> anyhow::Result<Self> {
        let mut stream: Box<dyn Io> = match address {
            Address::Unix(path) => Box::new(WholeReads(UnixStream::connect(path).await?)),
            Address::Tcp(addr) => {
                let socket = if addr.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                // A small, fixed receive buffer: a connection that stops
                // reading stalls the manager's writer after little data.
                socket.set_recv_buffer_size(RECV_BUFFER)?;
                let stream = socket.connect(*addr).await?;
                stream.set_nodelay(true)?;
                Box::new(stream)
            }
        };
        let mut buf = FrameBuffer::new(HANDSHAKE_MAX_FRAME);
        let session =
            tokio::time::timeout(DEADLINE, handshake::initiate(&mut stream, &mut buf, key))
                .await
                .context("handshake timed out")??;
        buf.set_max_frame(session.max_frame + manager_ipc::frame::REPLY_HEADROOM);
        Ok(RawConnection {
            stream,
            buf,
            max_frame: session.max_frame,
            next_id: 1,
            connection: session.connection,
        })
    }

    /// The manager's number for this connection, as inspection shows it.
    pub fn connection(&self) -> u64 {
        self.connection
    }

    /// Sends `op` to object `target` without waiting for its reply; returns
    /// the request's id.
    pub async fn send(&mut self, target: ObjectId, op: ObjectRequest) -> anyhow::Result<RequestId> {
        self.send_request(Request::Object { target, op }).await
    }

    /// Sends `request` without waiting for its reply; returns its id.
    pub async fn send_request(&mut self, request: Request) -> anyhow::Result<RequestId> {
        let id = RequestId(self.next_id);
        self.next_id += 1;
        let mut out = Vec::new();
        let frame = RequestFrame { id, request };
        encode_frame(&frame, &mut out, self.max_frame)?;
        self.stream.write_all(&out).await?;
        Ok(id)
    }

    /// Writes `bytes` as they are: hand-made frames, a header alone, or
    /// anything else a hostile client might send.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> anyhow::Result<()> {
        self.stream.write_all(bytes).await?;
        Ok(())
    }

    /// The next reply, whatever its id.
    pub async fn recv(&mut self) -> anyhow::Result<ReplyFrame> {
        let read = async {
            loop {
                if let Some(frame) = self.buf.next_frame()? {
                    return anyhow::Ok(manager_core::codec::decode::<ReplyFrame>(&frame)?);
                }
                if !self.buf.fill(&mut self.stream).await? {
                    bail!("the manager closed the connection");
                }
            }
        };
        tokio::time::timeout(DEADLINE, read)
            .await
            .with_context(|| format!("no reply within {DEADLINE:?}"))?
    }

    /// The next reply whole: the parts of a long reply are read and joined
    /// (see [`manager_core::reply::parts`]).
    pub async fn recv_whole(&mut self) -> anyhow::Result<ReplyFrame> {
        let mut parts = Vec::new();
        loop {
            let ReplyFrame { id, result } = self.recv().await?;
            match result {
                Ok(manager_core::reply::Reply::More(part)) => parts.push((id, part)),
                result => {
                    anyhow::ensure!(
                        parts.iter().all(|(of, _)| *of == id),
                        "parts of another reply came before reply {id:?}"
                    );
                    let parts = parts.into_iter().map(|(_, part)| part).collect();
                    let result = match result {
                        Ok(reply) => Ok(reply.after_parts(parts)?),
                        Err(e) => Err(e),
                    };
                    return Ok(ReplyFrame { id, result });
                }
            }
        }
    }

    /// Waits until some bytes of a reply have arrived, and takes what one
    /// read brings (a large reply stays mostly unread).
    pub async fn wait_for_bytes(&mut self) -> anyhow::Result<()> {
        match tokio::time::timeout(DEADLINE, self.buf.fill(&mut self.stream)).await {
            Ok(Ok(true)) => Ok(()),
            Ok(Ok(false)) => bail!("the manager closed the connection"),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => bail!("no reply within {DEADLINE:?}"),
        }
    }

    /// Sends `op` to `target` and waits for its reply; replies to earlier
    /// requests that come first are an error.
    pub async fn call(
        &mut self,
        target: ObjectId,
        op: ObjectRequest,
    ) -> anyhow::Result<Result<Reply, ManagerError>> {
        self.call_request(Request::Object { target, op }).await
    }

    /// Sends `request` to the registry and waits for its reply, as
    /// [`RawConnection::call`] does.
    pub async fn call_registry(
        &mut self,
        request: RegistryRequest,
    ) -> anyhow::Result<Result<Reply, ManagerError>> {
        self.call_request(Request::Registry(request)).await
    }

    async fn call_request(
        &mut self,
        request: Request,
    ) -> anyhow::Result<Result<Reply, ManagerError>> {
        let id = self.send_request(request).await?;
        let reply = self.recv().await?;
        if reply.id != id {
            bail!("expected the reply to {id:?}, got one to {:?}", reply.id);
        }
        Ok(reply.result)
    }
}
