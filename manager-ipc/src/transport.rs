//! The two transports, Unix domain sockets and TCP, behind one trait so the
//! handshake, the bridge and the client are written once.

use std::io;
use std::os::fd::AsFd;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream, tcp, unix};

use crate::Address;

/// A connected byte stream that splits into owned halves, and moves to
/// another thread's runtime as its std twin.
pub(crate) trait Stream: AsyncRead + AsyncWrite + AsFd + Unpin + Send + 'static {
    type Read: AsyncRead + Unpin + Send + 'static;
    type Write: AsyncWrite + Unpin + Send + Into<AnyWriteHalf> + 'static;
    /// The same socket, detached from any runtime.
    #[cfg(feature = "server")]
    type Std: Send + 'static;

    fn into_split(self) -> (Self::Read, Self::Write);

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
    #[cfg(feature = "server")]
    type Std = std::os::unix::net::UnixStream;

    fn into_split(self) -> (Self::Read, Self::Write) {
        UnixStream::into_split(self)
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
    #[cfg(feature = "server")]
    type Std = std::net::TcpStream;

    fn into_split(self) -> (Self::Read, Self::Write) {
        TcpStream::into_split(self)
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
