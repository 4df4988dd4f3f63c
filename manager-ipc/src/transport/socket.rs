//! [`Socket`]: a connected socket on the current runtime, and its two
//! halves, [`ReadHalf`] and [`WriteHalf`].
//!
//! It is tokio's stream with two costs of a round trip taken out, both in
//! reading.
//!
//! # Reading
//!
//! - A read goes into the buffer's unused room as it is, not zeroed first
//!   ([`platform::recv_into`]).
//! - A read that returns less than it had room for has emptied the socket,
//!   so the readiness is cleared without a second read that would only say
//!   so (`EAGAIN`). tokio's streams do this for plain reads; the client's
//!   reads with descriptors ([`recvmsg`](platform::recv_with_fds)) could
//!   not, and made that second read on every reply. A read that took a
//!   descriptor may stop short of what the socket holds, so it does not
//!   count as emptying it. A hang-up is kept: a reader that cleared its
//!   readiness still sees the end that came with the bytes.
//!
//! One read stops short without emptying the socket and is taken for one
//! that did: the manager's plain read of bytes a client sent with a
//! descriptor attached (the kernel drops the descriptor and ends the read
//! after them), or up to an out-of-band mark. The bytes behind wait for
//! that client's next send or hang-up, as they did with tokio's streams.
//! Our clients never send either; a client that does delays only its own
//! requests (a frame it leaves unfinished meets the frame timeout).
//!
//! # Why it is watched for writing too
//!
//! The socket is registered for reading and writing, edge-triggered, as
//! tokio registers its own. Then, each time the peer reads what this side
//! wrote, the kernel reports the socket writable and wakes this side's
//! runtime, which finds nothing to do. Registered for reading only (writes
//! go straight to the non-blocking socket, and a duplicate of the
//! descriptor is watched for room only while a write waits), a blocking
//! call on one CPU made 3 `epoll_wait`s instead of 5 and cost 2.2x its raw
//! socket floor instead of 2.5x (`same` placement, docs/benchmarks.md). But
//! with the client and the manager on two CPUs of this VM, whose idle
//! vCPUs halt, that wake-up is what brings the other side's CPU out of halt
//! before the next frame comes: without it, every single call got 20%
//! slower (1.0x the floor to 1.2x, `split`). Processes on separate cores
//! are the common case, so the spurious wake stays.
//!
//! # Closing
//!
//! Dropping a [`WriteHalf`] shuts the socket down for writing, as tokio's
//! owned write halves do, so the peer reads the end even while this side
//! still reads. The descriptor closes when both halves are gone.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

use crate::platform::{self, OwnedSocket};

/// A connected socket (a `std` Unix or TCP stream, non-blocking) on the
/// current runtime; see the module docs.
#[derive(Debug)]
pub(crate) struct Socket<T: OwnedSocket> {
    read: ReadHalf<T>,
    write: WriteHalf<T>,
}

impl<T: OwnedSocket> Socket<T> {
    /// Registers `socket` with the current thread's runtime.
    ///
    /// # Errors
    ///
    /// The OS's, if it cannot be made non-blocking or registered.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime with I/O enabled.
    pub(crate) fn new(socket: T) -> io::Result<Self>
    where
        T: NonBlocking,
    {
        socket.set_nonblocking()?;
        let io = Arc::new(platform::register(
            socket,
            Interest::READABLE | Interest::WRITABLE,
        )?);
        Ok(Socket {
            read: ReadHalf { io: io.clone() },
            write: WriteHalf { io },
        })
    }

    /// The two halves; the socket closes when both are dropped.
    pub(crate) fn into_split(self) -> (ReadHalf<T>, WriteHalf<T>) {
        (self.read, self.write)
    }

    /// The socket itself.
    pub(crate) fn get_ref(&self) -> &T {
        self.read.io.get_ref()
    }
}

impl<T: OwnedSocket> AsFd for Socket<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

/// A socket that can be switched to non-blocking mode.
pub(crate) trait NonBlocking {
    /// Makes the socket's calls return `WouldBlock` rather than wait.
    fn set_nonblocking(&self) -> io::Result<()>;
}

impl NonBlocking for std::os::unix::net::UnixStream {
    fn set_nonblocking(&self) -> io::Result<()> {
        std::os::unix::net::UnixStream::set_nonblocking(self, true)
    }
}

impl NonBlocking for std::net::TcpStream {
    fn set_nonblocking(&self) -> io::Result<()> {
        std::net::TcpStream::set_nonblocking(self, true)
    }
}

impl<T: OwnedSocket + Unpin> AsyncRead for Socket<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().read).poll_read(cx, buf)
    }
}

impl<T: OwnedSocket + Unpin> AsyncWrite for Socket<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().write).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().write).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().write).poll_shutdown(cx)
    }
}

/// The reading half of a [`Socket`].
#[derive(Debug)]
pub(crate) struct ReadHalf<T: OwnedSocket> {
    io: Arc<AsyncFd<T>>,
}

impl<T: OwnedSocket> ReadHalf<T> {
    /// Reads with `read`, which must make one non-blocking read of the
    /// socket into `buf` and say whether the socket may hold more than it
    /// took (see the module docs, *Reading*).
    pub(crate) fn poll_read_with(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        mut read: impl FnMut(BorrowedFd<'_>, &mut ReadBuf<'_>) -> io::Result<Drained>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.io.poll_read_ready(cx))?;
            match guard.try_io(|io| read(io.get_ref().as_fd(), buf)) {
                Ok(Ok(Drained::Yes)) => {
                    guard.clear_ready();
                    return Poll::Ready(Ok(()));
                }
                Ok(Ok(Drained::Unknown)) => return Poll::Ready(Ok(())),
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                // Readiness was cleared: wait for the next.
                Err(_would_block) => continue,
            }
        }
    }
}

/// Whether a read emptied the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Drained {
    /// It took less than it had room for, and stopped for no other reason.
    Yes,
    /// It may have stopped short of what the socket holds.
    Unknown,
}

impl<T: OwnedSocket + Unpin> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_read_with(cx, buf, |fd, buf| {
            let room = buf.remaining();
            let n = platform::recv_into(fd, buf)?;
            Ok(if n > 0 && n < room {
                Drained::Yes
            } else {
                Drained::Unknown
            })
        })
    }
}

/// The writing half of a [`Socket`]; dropping it shuts the socket down for
/// writing.
#[derive(Debug)]
pub(crate) struct WriteHalf<T: OwnedSocket> {
    io: Arc<AsyncFd<T>>,
}

impl<T: OwnedSocket> WriteHalf<T> {
    /// The socket's descriptor.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }

    /// Sends what the socket takes of `buf` now, never waiting;
    /// `WouldBlock` if it takes nothing (or is not known to have room).
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io(Interest::WRITABLE, |io| platform::send(io.as_fd(), buf))
    }

    /// Waits until the socket may have room (or has failed), since the
    /// last write it refused.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub(crate) async fn writable(&self) -> io::Result<()> {
        self.io.writable().await?.retain_ready();
        Ok(())
    }

    /// Sends with `send`, a non-blocking send on the socket, until it takes
    /// something, waiting for room while the socket is full.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is sent unless the future completes.
    pub(crate) async fn send_with(
        &self,
        mut send: impl FnMut(BorrowedFd<'_>) -> io::Result<usize>,
    ) -> io::Result<usize> {
        self.io
            .async_io(Interest::WRITABLE, |io| send(io.as_fd()))
            .await
    }
}

impl<T: OwnedSocket> Drop for WriteHalf<T> {
    fn drop(&mut self) {
        // The peer reads the end; the socket may already be closed by its
        // peer, which is no error here.
        let _ = rustix::net::shutdown(self.fd(), rustix::net::Shutdown::Write);
    }
}

impl<T: OwnedSocket + Unpin> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.io.poll_write_ready(cx))?;
            match guard.try_io(|io| platform::send(io.get_ref().as_fd(), buf)) {
                Ok(sent) => return Poll::Ready(sent),
                // Readiness was cleared: wait for the next.
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Every write went to the socket.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(
            rustix::net::shutdown(self.fd(), rustix::net::Shutdown::Write).map_err(io::Error::from),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::AsFd;
    use std::time::Duration;

    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::frame::{FrameBuffer, FrameError, encode_frame};
    use crate::transport::{FdReader, ReceivedFds, StdTcp, StdUnix};

    const WAIT: Duration = Duration::from_secs(10);

    /// Reads from `reader` until `want` bytes came, each read bounded.
    async fn read_all<R: AsyncRead + Unpin>(reader: &mut R, want: usize) -> Vec<u8> {
        let mut got = Vec::new();
        while got.len() < want {
            let mut room = Vec::with_capacity(64 * 1024);
            let n = tokio::time::timeout(WAIT, reader.read_buf(&mut room))
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "a read waited {WAIT:?} with {} of {want} bytes read",
                        got.len()
                    )
                })
                .expect("read");
            assert!(n > 0, "end of stream after {} of {want} bytes", got.len());
            got.extend_from_slice(&room);
        }
        got
    }

    /// Reads once more and expects the end of the stream.
    async fn read_end<R: AsyncRead + Unpin>(reader: &mut R) {
        let mut rest = Vec::with_capacity(1024);
        let n = tokio::time::timeout(WAIT, reader.read_buf(&mut rest))
            .await
            .expect("the end is seen in time")
            .expect("read");
        assert_eq!(n, 0, "bytes after the end: {rest:?}");
    }

    /// A client's reader on one end of a socket pair, the descriptors it
    /// takes, and the other end, the server's.
    fn client_reader() -> (StdUnix, FdReader, ReceivedFds, WriteHalf<StdUnix>) {
        let (server, client) = StdUnix::pair().expect("pair");
        let (read, write) = Socket::new(client).expect("register").into_split();
        let fds = ReceivedFds::default();
        let reader = FdReader {
            half: read,
            fds: fds.clone(),
        };
        (server, reader, fds, write)
    }

    /// The manager's plain reader on one end of a socket pair, and the
    /// other end, a client's.
    fn server_reader() -> (StdUnix, ReadHalf<StdUnix>, WriteHalf<StdUnix>) {
        let (server, client) = StdUnix::pair().expect("pair");
        let (read, write) = Socket::new(server).expect("register").into_split();
        (client, read, write)
    }

    /// The client reads with `recvmsg`: bytes before a descriptor, the
    /// descriptor's own, and bytes after it (Linux stops a read after the
    /// descriptor's), then the end, all arrive, with the server still
    /// connected between them.
    #[tokio::test]
    async fn a_client_reads_past_a_descriptor_and_sees_the_end() {
        let (mut server, mut reader, fds, _write) = client_reader();
        let (attached, _other) = StdUnix::pair().expect("pair");
        server.write_all(b"before").expect("write");
        let sent = platform::send_with_fd(server.as_fd(), b"with", attached.as_fd()).expect("send");
        assert_eq!(sent, 4);
        server.write_all(b"after").expect("write");
        assert_eq!(read_all(&mut reader, 15).await, b"beforewithafter");
        assert_eq!(fds.lock().unwrap().len(), 1);
        drop(server);
        read_end(&mut reader).await;
    }

    /// Two replies with descriptors back to back, the hang-up behind them:
    /// every read stops after a descriptor's bytes, and none is lost.
    #[tokio::test]
    async fn a_client_reads_descriptors_back_to_back_then_the_end() {
        let (server, mut reader, fds, _write) = client_reader();
        let (attached, _other) = StdUnix::pair().expect("pair");
        platform::send_with_fd(server.as_fd(), b"one", attached.as_fd()).expect("send");
        platform::send_with_fd(server.as_fd(), b"two", attached.as_fd()).expect("send");
        drop(server);
        assert_eq!(read_all(&mut reader, 6).await, b"onetwo");
        assert_eq!(fds.lock().unwrap().len(), 2);
        read_end(&mut reader).await;
    }

    /// The manager's plain reads of a client that attached a descriptor
    /// (ours never do) and then hung up: the end comes after every byte.
    #[tokio::test]
    async fn a_plain_read_past_a_descriptor_sees_the_rest_and_the_end() {
        let (mut client, mut read, _write) = server_reader();
        let (attached, _other) = StdUnix::pair().expect("pair");
        client.write_all(b"before").expect("write");
        platform::send_with_fd(client.as_fd(), b"with", attached.as_fd()).expect("send");
        client.write_all(b"after").expect("write");
        drop(client);
        assert_eq!(read_all(&mut read, 15).await, b"beforewithafter");
        read_end(&mut read).await;
    }

    /// TCP: bytes and the peer's hang-up that come together are both read.
    #[tokio::test]
    async fn tcp_bytes_then_the_end_arrive() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut peer = StdTcp::connect(listener.local_addr().expect("addr")).expect("connect");
        let (accepted, _) = listener.accept().expect("accept");
        let (mut read, _write) = Socket::new(accepted).expect("register").into_split();
        peer.write_all(b"hello").expect("write");
        drop(peer);
        assert_eq!(read_all(&mut read, 5).await, b"hello");
        read_end(&mut read).await;
    }

    /// A frame larger than the shared buffer (its own, `Limit`ed to the
    /// frame's end) written in odd pieces while it is read, with the next
    /// frame right behind it, then a frame cut short by the hang-up.
    #[tokio::test]
    async fn a_large_frame_in_pieces_then_a_cut_frame() {
        let (mut client, mut read, _write) = server_reader();
        let big = "x".repeat(3 * 1024 * 1024 + 7);
        let mut bytes = Vec::new();
        encode_frame(&big, &mut bytes, usize::MAX).expect("encode");
        encode_frame("small", &mut bytes, usize::MAX).expect("encode");
        let mut cut = Vec::new();
        encode_frame("cut short", &mut cut, usize::MAX).expect("encode");
        bytes.extend_from_slice(&cut[..cut.len() - 3]);
        let writer = std::thread::spawn(move || {
            for piece in bytes.chunks(7001) {
                client.write_all(piece).expect("write");
            }
            // Dropped: the hang-up.
        });
        let mut frames = FrameBuffer::new(usize::MAX);
        let got: String = tokio::time::timeout(WAIT, frames.read_one(&mut read))
            .await
            .expect("the large frame in time")
            .expect("read");
        assert!(got == big, "the large frame came back different");
        let got: String = tokio::time::timeout(WAIT, frames.read_one(&mut read))
            .await
            .expect("the small frame in time")
            .expect("read");
        assert_eq!(got, "small");
        let end = tokio::time::timeout(WAIT, frames.read_one::<String, _>(&mut read))
            .await
            .expect("the end in time");
        assert!(matches!(end, Err(FrameError::Truncated { .. })), "{end:?}");
        writer.join().expect("writer");
    }
}
