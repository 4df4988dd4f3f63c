//! The two transports, Unix domain sockets and TCP, behind one trait so the
//! handshake, the bridge and the client are written once.
//!
//! Both run on [`Socket`] (see [`socket`] for what it does that tokio's
//! streams do not).

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::Address;
use crate::platform;

mod socket;

pub(crate) use socket::Socket;
use socket::{Drained, ReadHalf, WriteHalf};

/// A connected Unix socket, as `std` has it.
pub(crate) type StdUnix = std::os::unix::net::UnixStream;
/// A connected TCP socket, as `std` has it.
pub(crate) type StdTcp = std::net::TcpStream;

/// A connected byte stream that splits into owned halves, and is made on
/// the thread whose runtime serves it from its `std` twin.
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

    /// Attaches a detached socket to the current thread's runtime.
    #[cfg(feature = "server")]
    fn from_std(socket: Self::Std) -> io::Result<Self>
    where
        Self: Sized;
}

impl Stream for Socket<StdUnix> {
    type Read = ReadHalf<StdUnix>;
    type Write = WriteHalf<StdUnix>;
    type ClientRead = FdReader;
    #[cfg(feature = "server")]
    type Std = StdUnix;

    fn into_split(self) -> (Self::Read, Self::Write) {
        Socket::into_split(self)
    }

    fn client_read(read: Self::Read, fds: ReceivedFds) -> FdReader {
        FdReader { half: read, fds }
    }

    #[cfg(feature = "server")]
    fn from_std(socket: Self::Std) -> io::Result<Self> {
        Socket::new(socket)
    }
}

impl Stream for Socket<StdTcp> {
    type Read = ReadHalf<StdTcp>;
    type Write = WriteHalf<StdTcp>;
    type ClientRead = ReadHalf<StdTcp>;
    #[cfg(feature = "server")]
    type Std = StdTcp;

    fn into_split(self) -> (Self::Read, Self::Write) {
        Socket::into_split(self)
    }

    /// Nothing but bytes comes over TCP.
    fn client_read(read: Self::Read, _fds: ReceivedFds) -> Self::ClientRead {
        read
    }

    #[cfg(feature = "server")]
    fn from_std(socket: Self::Std) -> io::Result<Self> {
        Socket::new(socket)
    }
}

/// A stream of either transport, as a client opens it.
pub(crate) enum AnyStream {
    Unix(Socket<StdUnix>),
    Tcp(Socket<StdTcp>),
}

/// Opens a connection to `address`.
pub(crate) async fn connect(address: &Address) -> io::Result<AnyStream> {
    match address {
        Address::Unix(path) => {
            let stream = tokio::net::UnixStream::connect(path).await?;
            Ok(AnyStream::Unix(Socket::new(stream.into_std()?)?))
        }
        Address::Tcp(addr) => {
            let stream = tokio::net::TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            Ok(AnyStream::Tcp(Socket::new(stream.into_std()?)?))
        }
    }
}

/// The write half of either transport, written without awaiting
/// ([`AnyWriteHalf::try_write`]) by the client's outbox.
#[derive(Debug)]
pub(crate) enum AnyWriteHalf {
    Unix(WriteHalf<StdUnix>),
    Tcp(WriteHalf<StdTcp>),
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

impl From<WriteHalf<StdUnix>> for AnyWriteHalf {
    fn from(half: WriteHalf<StdUnix>) -> Self {
        AnyWriteHalf::Unix(half)
    }
}

impl From<WriteHalf<StdTcp>> for AnyWriteHalf {
    fn from(half: WriteHalf<StdTcp>) -> Self {
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
    half: ReadHalf<StdUnix>,
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
        let fds = &this.fds;
        this.half.poll_read_with(cx, buf, |socket, buf| {
            let room = buf.remaining().min(MAX_READ);
            let into = buf.initialize_unfilled_to(room);
            let mut fds = fds.lock().unwrap_or_else(|e| e.into_inner());
            let before = fds.len();
            let n = platform::recv_with_fds(socket, into, &mut fds)?;
            buf.advance(n);
            // A read that took descriptors stops after their bytes even
            // with more behind them.
            Ok(if n > 0 && n < room && fds.len() == before {
                Drained::Yes
            } else {
                Drained::Unknown
            })
        })
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

impl SendFd for WriteHalf<StdUnix> {
    async fn send_with_fd<'a>(
        &'a self,
        bytes: &'a [u8],
        fd: std::os::fd::BorrowedFd<'a>,
    ) -> io::Result<usize> {
        self.send_with(|socket| platform::send_with_fd(socket, bytes, fd))
            .await
    }

    fn duplicate(&self) -> Option<OwnedFd> {
        self.fd().try_clone_to_owned().ok()
    }

    fn unread_bytes(&self) -> io::Result<usize> {
        #[cfg(feature = "server")]
        {
            platform::unread_bytes(self.fd())
        }
        #[cfg(not(feature = "server"))]
        Ok(0)
    }

    fn peer_hung_up(&self) -> bool {
        #[cfg(feature = "server")]
        {
            platform::peer_hung_up(self.fd())
        }
        #[cfg(not(feature = "server"))]
        false
    }
}

impl SendFd for WriteHalf<StdTcp> {
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
            platform::peer_hung_up(self.fd())
        }
        #[cfg(not(feature = "server"))]
        false
    }
}
