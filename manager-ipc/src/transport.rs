//! The two transports, Unix domain sockets and TCP, behind one trait so the
//! handshake, the bridge and the client are written once.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpStream, UnixStream, tcp, unix};

use crate::Address;
use crate::platform;

/// A connected byte stream that splits into owned halves, and moves to
/// another thread's runtime as its std twin.
pub(crate) trait Stream: AsyncRead + AsyncWrite + AsFd + Unpin + Send + 'static {
    type Read: AsyncRead + Unpin + Send + 'static;
    type Write: AsyncWrite + Unpin + Send + Into<AnyWriteHalf> + SendFd + 'static;
    /// The read half as a client reads replies with it: on a Unix socket,
    /// one that also takes the descriptors that come beside them.
    type ClientRead: AsyncRead + Unpin + Send + 'static;
    /// The same socket, detached from any runtime.
    #[cfg(feature = "server")]
    type Std: Send + 'static;

    fn into_split(self) -> (Self::Read, Self::Write);

    /// The client's reader of `read`, putting the descriptors that come
    /// into `fds`.
    fn client_read(read: Self::Read, fds: ReceivedFds) -> Self::ClientRead;

    /// Detaches the socket from this thread's runtime (the server hands a
    /// connection to another of its threads).
    #[cfg(feature = "server")]
    fn into_std(self) -> io::Result<Self::Std>;

    /// Attaches a detached socket to the current thread's runtime.
    #[cfg(feature = "server")]
    fn from_std(socket: Self::Std) -> io::Result<Self>
    where
        Self: Sized;
}

impl Stream for UnixStream {
    type Read = unix::OwnedReadHalf;
    type Write = unix::OwnedWriteHalf;
    type ClientRead = FdReader;
    #[cfg(feature = "server")]
    type Std = std::os::unix::net::UnixStream;

    fn into_split(self) -> (Self::Read, Self::Write) {
        UnixStream::into_split(self)
    }

    fn client_read(read: Self::Read, fds: ReceivedFds) -> FdReader {
        FdReader { half: read, fds }
    }

    #[cfg(feature = "server")]
    fn into_std(self) -> io::Result<Self::Std> {
        UnixStream::into_std(self)
    }

    #[cfg(feature = "server")]
    fn from_std(socket: Self::Std) -> io::Result<Self> {
        // `into_std` leaves the socket non-blocking, as tokio needs it.
        UnixStream::from_std(socket)
    }
}

impl Stream for TcpStream {
    type Read = tcp::OwnedReadHalf;
    type Write = tcp::OwnedWriteHalf;
    type ClientRead = tcp::OwnedReadHalf;
    #[cfg(feature = "server")]
    type Std = std::net::TcpStream;

    fn into_split(self) -> (Self::Read, Self::Write) {
        TcpStream::into_split(self)
    }

    /// Nothing but bytes comes over TCP.
    fn client_read(read: Self::Read, _fds: ReceivedFds) -> Self::ClientRead {
        read
    }

    #[cfg(feature = "server")]
    fn into_std(self) -> io::Result<Self::Std> {
        TcpStream::into_std(self)
    }

    #[cfg(feature = "server")]
    fn from_std(socket: Self::Std) -> io::Result<Self> {
        TcpStream::from_std(socket)
    }
}

/// A stream of either transport, as a client opens it.
pub(crate) enum AnyStream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

/// Opens a connection to `address`.
pub(crate) async fn connect(address: &Address) -> io::Result<AnyStream> {
    match address {
        Address::Unix(path) => Ok(AnyStream::Unix(UnixStream::connect(path).await?)),
        Address::Tcp(addr) => {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(AnyStream::Tcp(stream))
        }
    }
}

/// The write half of either transport, written without awaiting
/// ([`AnyWriteHalf::try_write`]) by the client's outbox.
#[derive(Debug)]
pub(crate) enum AnyWriteHalf {
    Unix(unix::OwnedWriteHalf),
    Tcp(tcp::OwnedWriteHalf),
}

impl AnyWriteHalf {
    /// Writes what the socket takes now; `WouldBlock` if nothing.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            AnyWriteHalf::Unix(w) => w.try_write(buf),
            AnyWriteHalf::Tcp(w) => w.try_write(buf),
        }
    }

    /// Waits until the socket may take more bytes.
    pub(crate) async fn writable(&self) -> io::Result<()> {
        match self {
            AnyWriteHalf::Unix(w) => w.writable().await,
            AnyWriteHalf::Tcp(w) => w.writable().await,
        }
    }
}

impl From<unix::OwnedWriteHalf> for AnyWriteHalf {
    fn from(half: unix::OwnedWriteHalf) -> Self {
        AnyWriteHalf::Unix(half)
    }
}

impl From<tcp::OwnedWriteHalf> for AnyWriteHalf {
    fn from(half: tcp::OwnedWriteHalf) -> Self {
        AnyWriteHalf::Tcp(half)
    }
}

/// The descriptors a client's connection has received beside its reply
/// frames and not yet given to a reply, oldest first.
pub(crate) type ReceivedFds = Arc<Mutex<VecDeque<OwnedFd>>>;

/// The read half of a client's Unix socket, read with `recvmsg`: the
/// bytes go to the reader as from any read half, the descriptors that
/// come with them into the connection's [`ReceivedFds`]
/// (see [`platform::recv_with_fds`]).
#[derive(Debug)]
pub(crate) struct FdReader {
    half: unix::OwnedReadHalf,
    fds: ReceivedFds,
}

impl AsyncRead for FdReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        /// Bytes zeroed for one read at most (`recvmsg` needs initialized
        /// memory); the reader's buffer is rarely emptier than this.
        const MAX_READ: usize = 256 * 1024;
        let this = self.get_mut();
        let stream: &UnixStream = this.half.as_ref();
        loop {
            ready!(stream.poll_read_ready(cx))?;
            let room = buf.remaining().min(MAX_READ);
            let into = buf.initialize_unfilled_to(room);
            let read = stream.try_io(Interest::READABLE, || {
                let mut fds = this.fds.lock().unwrap_or_else(|e| e.into_inner());
                platform::recv_with_fds(stream.as_fd(), into, &mut fds)
            });
            match read {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// A write half that can send a descriptor beside its bytes: a Unix
/// socket's. The server's writer sends a shared memory block's this way
/// (a client never does).
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) trait SendFd {
    /// Writes at least the first byte of `bytes` (waiting until the socket
    /// takes some) with `fd` attached to it; how many bytes went.
    ///
    /// # Errors
    ///
    /// The OS's; `Unsupported` on a transport that cannot carry a
    /// descriptor (TCP).
    fn send_with_fd<'a>(
        &'a self,
        bytes: &'a [u8],
        fd: std::os::fd::BorrowedFd<'a>,
    ) -> impl Future<Output = io::Result<usize>> + Send + 'a;

    /// How many bytes written here the peer has not read yet; 0 on a
    /// transport that carries no descriptors.
    ///
    /// # Errors
    ///
    /// The OS's.
    fn unread_bytes(&self) -> io::Result<usize>;

    /// Whether the peer has hung up, without reading or waiting.
    fn peer_hung_up(&self) -> bool;

    /// A duplicate of the socket's descriptor, on a transport that carries
    /// descriptors (to look at what the peer has not read once this half
    /// is gone); `None` otherwise or if it cannot be made.
    fn duplicate(&self) -> Option<OwnedFd>;
}

impl SendFd for unix::OwnedWriteHalf {
    async fn send_with_fd<'a>(
        &'a self,
        bytes: &'a [u8],
        fd: std::os::fd::BorrowedFd<'a>,
    ) -> io::Result<usize> {
        let stream: &UnixStream = self.as_ref();
        stream
            .async_io(Interest::WRITABLE, || {
                platform::send_with_fd(stream.as_fd(), bytes, fd)
            })
            .await
    }

    fn duplicate(&self) -> Option<OwnedFd> {
        let stream: &UnixStream = self.as_ref();
        stream.as_fd().try_clone_to_owned().ok()
    }

    fn unread_bytes(&self) -> io::Result<usize> {
        #[cfg(feature = "server")]
        {
            let stream: &UnixStream = self.as_ref();
            platform::unread_bytes(stream)
        }
        #[cfg(not(feature = "server"))]
        Ok(0)
    }

    fn peer_hung_up(&self) -> bool {
        #[cfg(feature = "server")]
        {
            let stream: &UnixStream = self.as_ref();
            platform::peer_hung_up(stream)
        }
        #[cfg(not(feature = "server"))]
        false
    }
}

impl SendFd for tcp::OwnedWriteHalf {
    async fn send_with_fd<'a>(
        &'a self,
        _bytes: &'a [u8],
        _fd: std::os::fd::BorrowedFd<'a>,
    ) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "a descriptor cannot travel over TCP",
        ))
    }

    fn unread_bytes(&self) -> io::Result<usize> {
        Ok(0)
    }

    fn duplicate(&self) -> Option<OwnedFd> {
        None
    }

    fn peer_hung_up(&self) -> bool {
        #[cfg(feature = "server")]
        {
            let stream: &tokio::net::TcpStream = self.as_ref();
            platform::peer_hung_up(stream)
        }
        #[cfg(not(feature = "server"))]
        false
    }
}
