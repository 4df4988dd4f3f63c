//! Linux-specific socket calls of the bridge, kept in one place.
//!
//! A Unix socket the manager listens on is created owner-only (mode 0600)
//! by `bind` itself ([`bind_private_unix_listener`]), so there is no moment
//! when another user could connect to it; the server notices a peer that
//! hung up without reading from it ([`peer_hung_up`]). An inspection
//! reports the manager's resident memory ([`resident_set_bytes`]).
//! The server counts the descriptors it has sent and a client has not read
//! yet, which it tells by the bytes a socket holds unread
//! ([`unread_bytes`]).
//!
//! Every connection's socket is registered with its runtime here
//! ([`register`], for the types that own their descriptor,
//! [`OwnedSocket`]), read into its buffer's unused room without zeroing it
//! first ([`recv_into`]) and written without `SIGPIPE` ([`send`]).
//!
//! A shared memory block's descriptor travels beside a reply frame: the
//! server sends the frame with the descriptor attached to its first byte
//! ([`send_with_fd`], `SCM_RIGHTS`), and the client reads every reply with
//! `recvmsg` ([`recv_with_fds`]), keeping the descriptors that come, in
//! order. The server reads requests with plain reads, so a descriptor a
//! client sends it is closed by the kernel, never taken.

#![allow(unsafe_code)]

use std::collections::VecDeque;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd};
use std::os::fd::{BorrowedFd, OwnedFd};

use tokio::io::unix::AsyncFd;
use tokio::io::{Interest, ReadBuf};

/// The most descriptors one read takes. The server attaches one to a
/// `sendmsg` and Linux never returns the descriptors of two sends from one
/// read, so one is enough; the room for more only tolerates other kernels.
pub(crate) const MAX_FDS_PER_READ: usize = 4;

/// A socket that owns its descriptor: it stays open, and the same, until
/// the value is dropped, as registering it with a runtime requires
/// ([`register`]).
///
/// # Safety
///
/// `as_raw_fd` returns the same open descriptor for as long as the value
/// lives, and nothing reachable through a shared reference to it closes
/// or replaces that descriptor: [`register`], a safe function, relies on
/// it (`AsyncFd::register_with_interest`'s contract).
pub(crate) unsafe trait OwnedSocket: AsFd + AsRawFd + Send + Sync + 'static {}

// SAFETY: std's streams own their descriptor (an `OwnedFd`) and close it
// only when dropped.
unsafe impl OwnedSocket for std::os::unix::net::UnixStream {}
// SAFETY: as above.
unsafe impl OwnedSocket for std::net::TcpStream {}

/// Registers `socket` with the current thread's runtime for `interest`
/// alone.
///
/// # Errors
///
/// The OS's.
///
/// # Panics
///
/// Outside a tokio runtime with I/O enabled.
pub(crate) fn register<T: OwnedSocket>(socket: T, interest: Interest) -> io::Result<AsyncFd<T>> {
    // SAFETY: an `OwnedSocket` owns its descriptor, which stays open and
    // the same until it is dropped, and the `AsyncFd` drops it only after
    // deregistering it.
    Ok(unsafe { AsyncFd::register_with_interest(socket, interest) }?)
}

/// Reads what the socket `socket` has into the unfilled part of `buf`,
/// without zeroing it first, and advances `buf` past what came; how many
/// bytes came (0 at the end). `WouldBlock` if nothing is there.
///
/// # Errors
///
/// The OS's.
pub(crate) fn recv_into(socket: BorrowedFd<'_>, buf: &mut ReadBuf<'_>) -> io::Result<usize> {
    use rustix::net::{RecvFlags, recv};

    // SAFETY: `recv` only writes bytes into this memory, it never makes
    // initialized bytes uninitialized again.
    let unfilled = unsafe { buf.unfilled_mut() };
    let ((filled, _), _) = recv(socket, unfilled, RecvFlags::DONTWAIT)?;
    let n = filled.len();
    // SAFETY: `recv` wrote the first `n` bytes of the unfilled part.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Ok(n)
}

/// Sends as much of `bytes` as the socket `socket` takes now; how many
/// went. `WouldBlock` if it takes nothing; a peer that has gone is an
/// error, never a `SIGPIPE`.
///
/// # Errors
///
/// The OS's.
pub(crate) fn send(socket: BorrowedFd<'_>, bytes: &[u8]) -> io::Result<usize> {
    use rustix::net::SendFlags;

    Ok(rustix::net::send(
        socket,
        bytes,
        SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
    )?)
}

/// Sends as much of `bytes` as the Unix socket `socket` takes now, with
/// `fd` attached to the first byte (`SCM_RIGHTS`); how many bytes went (at
/// least one on success: the descriptor went with them). `WouldBlock` if
/// the socket is full. Only the server sends descriptors.
#[cfg_attr(not(feature = "server"), allow(dead_code))]
pub(crate) fn send_with_fd(
    socket: BorrowedFd<'_>,
    bytes: &[u8],
    fd: BorrowedFd<'_>,
) -> io::Result<usize> {
    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags, sendmsg};

    let fds = [fd];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(io::Error::other(
            "no room for a descriptor in a control message",
        ));
    }
    let iov = [io::IoSlice::new(bytes)];
    let sent = sendmsg(
        socket,
        &iov,
        &mut control,
        SendFlags::DONTWAIT | SendFlags::NOSIGNAL,
    )?;
    Ok(sent)
}

/// Reads what the Unix socket `socket` has into `buf`, as a plain read
/// does, and appends the descriptors that came with those bytes to `fds`
/// (close-on-exec). `WouldBlock` if nothing is there.
///
/// # Errors
///
/// The OS's; `InvalidData` if more descriptors came than
/// [`MAX_FDS_PER_READ`] (the kernel closed the rest: the connection can
/// no longer tell which reply each belongs to).
pub(crate) fn recv_with_fds(
    socket: BorrowedFd<'_>,
    buf: &mut [u8],
    fds: &mut VecDeque<OwnedFd>,
) -> io::Result<usize> {
    use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, ReturnFlags, recvmsg};

    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS_PER_READ))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let mut iov = [io::IoSliceMut::new(buf)];
    let flags = RecvFlags::DONTWAIT;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let flags = flags | RecvFlags::CMSG_CLOEXEC;
    let got = recvmsg(socket, &mut iov, &mut control, flags)?;
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    // Dropping `control` closes whatever it still holds.
    if got.flags.contains(ReturnFlags::CTRUNC) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "more than {MAX_FDS_PER_READ} descriptors came with one read; the ones past it are lost"
            ),
        ));
    }
    Ok(got.bytes)
}

/// Whether the peer of the connected socket `fd` has hung up (closed or
/// shut down its end) or the socket has failed, without reading from it or
/// waiting. On Linux a peer's orderly close is seen before any byte
/// following it is read (`POLLRDHUP`); elsewhere only a full hang-up or an
/// error is.
#[cfg(feature = "server")]
pub(crate) fn peer_hung_up(fd: impl AsFd) -> bool {
    #[cfg(target_os = "linux")]
    const EVENTS: libc::c_short = libc::POLLRDHUP;
    #[cfg(not(target_os = "linux"))]
    const EVENTS: libc::c_short = 0;
    let fd: BorrowedFd<'_> = fd.as_fd();
    let mut poll = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: EVENTS,
        revents: 0,
    };
    // SAFETY: `poll` points to one valid pollfd that lives across the call;
    // the descriptor is borrowed, so it stays open; a zero timeout never
    // blocks.
    let ready = unsafe { libc::poll(&mut poll, 1, 0) };
    ready > 0 && poll.revents & (EVENTS | libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

/// How many bytes sent on the connected Unix socket `fd` its peer has not
/// read yet (`SIOCOUTQ`). A descriptor sent with some of them stays in
/// flight until they are read, so at 0 none is.
#[cfg(all(target_os = "linux", feature = "server"))]
pub(crate) fn unread_bytes(fd: impl AsFd) -> io::Result<usize> {
    let fd: BorrowedFd<'_> = fd.as_fd();
    let mut unread: libc::c_int = 0;
    // SAFETY: `SIOCOUTQ` (`TIOCOUTQ` on Linux) writes one `int`, which
    // `unread` is, and lives across the call; the descriptor is borrowed,
    // so it stays open.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCOUTQ, &mut unread) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(usize::try_from(unread).unwrap_or(0))
}

/// Elsewhere a socket's unread bytes cannot be told: as if all were read.
#[cfg(all(not(target_os = "linux"), feature = "server"))]
pub(crate) fn unread_bytes(_fd: impl AsFd) -> io::Result<usize> {
    Ok(0)
}

/// Listens on a new Unix domain socket at `path`, whose file `bind` creates
/// with mode 0600 (less any bits the umask removes; never more): on Linux
/// the file takes the mode of the socket's own inode, so the socket is
/// `fchmod`ed before it is bound, and no other user can connect to it at
/// any moment. The listener is close-on-exec and blocking.
///
/// # Errors
///
/// The OS's, as for [`std::os::unix::net::UnixListener::bind`]; `AddrInUse`
/// if `path` exists.
#[cfg(all(target_os = "linux", feature = "server"))]
pub(crate) fn bind_private_unix_listener(
    path: &std::path::Path,
) -> std::io::Result<std::os::unix::net::UnixListener> {
    use rustix::fs::{Mode, fchmod};
    use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

    let socket = rustix::net::socket_with(
        AddressFamily::UNIX,
        SocketType::STREAM,
        SocketFlags::CLOEXEC,
        None,
    )?;
    fchmod(&socket, Mode::RUSR | Mode::WUSR)?;
    rustix::net::bind(&socket, &SocketAddrUnix::new(path)?)?;
    // As std does on Linux: the kernel caps a negative backlog at
    // net.core.somaxconn.
    rustix::net::listen(&socket, -1)?;
    Ok(std::os::unix::net::UnixListener::from(socket))
}

/// Elsewhere the mode of a socket's inode does not carry over to its file:
/// the file is made 0600 right after `bind`.
#[cfg(all(not(target_os = "linux"), feature = "server"))]
pub(crate) fn bind_private_unix_listener(
    path: &std::path::Path,
) -> std::io::Result<std::os::unix::net::UnixListener> {
    use std::os::unix::fs::PermissionsExt;

    let listener = std::os::unix::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(listener)
}

/// This process's descriptor limit (`RLIMIT_NOFILE`, soft), which also
/// bounds the descriptors its user has in flight over Unix sockets (sent,
/// not yet received); `u64::MAX` if it cannot be read.
#[cfg(feature = "server")]
pub(crate) fn descriptor_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes one `rlimit`, which `limit` is.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0 {
        limit.rlim_cur
    } else {
        u64::MAX
    }
}

/// The resident set size of this process, in bytes: the `VmRSS` line of
/// `/proc/self/status`. `None` if it cannot be read or parsed.
#[cfg(all(target_os = "linux", feature = "server"))]
pub(crate) fn resident_set_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    vm_rss(&status)
}

/// Elsewhere the resident set size is not reported.
#[cfg(all(not(target_os = "linux"), feature = "server"))]
pub(crate) fn resident_set_bytes() -> Option<u64> {
    None
}

/// The `VmRSS:   1234 kB` line of a `/proc/PID/status` text, in bytes.
#[cfg(any(all(target_os = "linux", feature = "server"), test))]
fn vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?;
    let kib = line.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn descriptors_arrive_in_order_with_their_bytes_and_close_on_exec() {
        use std::os::fd::AsFd;
        use std::os::unix::net::UnixStream;

        use rustix::fs::{MemfdFlags, fstat, memfd_create};
        use rustix::io::{FdFlags, fcntl_getfd};

        let (server, client) = UnixStream::pair().unwrap();
        let first = memfd_create("first", MemfdFlags::empty()).unwrap();
        let second = memfd_create("second", MemfdFlags::empty()).unwrap();
        assert_eq!(
            send_with_fd(server.as_fd(), b"ab", first.as_fd()).unwrap(),
            2
        );
        assert_eq!(
            send_with_fd(server.as_fd(), b"cd", second.as_fd()).unwrap(),
            2
        );

        let mut fds = VecDeque::new();
        let mut buf = [0; 16];
        // One read never takes the descriptors of two sends.
        let n = recv_with_fds(client.as_fd(), &mut buf, &mut fds).unwrap();
        assert_eq!(&buf[..n], b"ab");
        assert_eq!(fds.len(), 1);
        let n = recv_with_fds(client.as_fd(), &mut buf, &mut fds).unwrap();
        assert_eq!(&buf[..n], b"cd");
        assert_eq!(fds.len(), 2);
        for (got, sent) in fds.iter().zip([&first, &second]) {
            assert_eq!(fstat(got).unwrap().st_ino, fstat(sent).unwrap().st_ino);
            assert!(fcntl_getfd(got).unwrap().contains(FdFlags::CLOEXEC));
        }
        // Nothing more: a read that would block says so.
        let e = recv_with_fds(client.as_fd(), &mut buf, &mut fds).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn vm_rss_reads_the_status_line_in_bytes() {
        let status = "Name:\tmanager\nVmPeak:\t  9000 kB\nVmRSS:\t    1234 kB\nThreads:\t4\n";
        assert_eq!(vm_rss(status), Some(1234 * 1024));
        assert_eq!(vm_rss("Name:\tx\n"), None);
        assert_eq!(vm_rss("VmRSS:\tlots kB\n"), None);
    }

    #[cfg(all(target_os = "linux", feature = "server"))]
    #[test]
    fn this_process_has_a_resident_set() {
        let rss = resident_set_bytes().expect("/proc/self/status has VmRSS");
        assert!(rss > 1024 * 1024, "{rss}");
    }
}
