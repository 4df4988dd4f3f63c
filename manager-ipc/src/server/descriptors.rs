//! Descriptors in flight: shared memory descriptors the manager has sent
//! and its clients have not read yet, counted per connection and over all
//! of them.
//!
//! Linux keeps a descriptor sent over a Unix socket open, and counts it
//! against the sender, until the receiver reads the bytes it came with;
//! past the sender's open-file limit `sendmsg` fails (`ETOOMANYREFS`).
//! Without a cap of its own, one client that maps and never reads would
//! take that allowance from every other.
//!
//! So each connection's writer counts what it sent, and the manager counts
//! the sum. A connection's count starts again from zero once its socket
//! holds nothing unread (`SIOCOUTQ`): the kernel lets go of a descriptor
//! when the bytes it came with are read, so then none is in flight. The
//! count errs high, never low: a later reply the client has not read yet
//! (the answer to an unmap a blocking client sent without waiting, read
//! with its next call) keeps its descriptors counted until it is read. An
//! idle writer with descriptors unread looks soon after it sent them, then
//! less often (at most every 50 ms); a writer at its cap looks the same
//! way. A connection that ends with descriptors unread (the manager closed
//! it; its client is still there) keeps them counted, by a task that holds
//! its socket, until its client reads or closes.
//!
//! # Backpressure
//!
//! A connection at [`Limits::max_descriptors_unread`] waits until its
//! client has read what was sent, as a connection whose client does not
//! read its replies does: its later replies wait behind the mapping, its
//! requests stop being read once they fill its backlog, and nothing fails.
//! Only the client that does not read is held up.
//!
//! # Over all connections
//!
//! A mapping that would take the manager past
//! [`Limits::max_descriptors_in_flight`] fails alone with
//! [`ManagerError::LimitReached`]; the connection goes on. That takes
//! `max_descriptors_in_flight / max_descriptors_unread` connections that
//! do not read (authenticated ones: they hold the key).
//!
//! [`Limits::max_descriptors_unread`]: crate::Limits::max_descriptors_unread
//! [`Limits::max_descriptors_in_flight`]: crate::Limits::max_descriptors_in_flight

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use manager_core::ManagerError;

use super::state::ConnectionCounters;
use crate::transport::SendFd;

/// The longest a connection at its cap waits before it looks at its
/// socket again.
const LONGEST_LOOK: Duration = Duration::from_millis(50);

/// One connection's descriptors in flight, and its share of the
/// manager's. What it counts is given back to the manager's count when it
/// drops.
#[derive(Debug)]
pub(super) struct InFlight {
    /// Sent on this connection and perhaps not read yet.
    unread: usize,
    /// Where `unread` is shown to inspection, if anywhere.
    shown: Option<Arc<ConnectionCounters>>,
    max_unread: usize,
    /// The manager's count over all connections.
    all: Arc<AtomicUsize>,
    max_all: usize,
    /// The connection's socket (a duplicate of its descriptor, made when
    /// the first descriptor is sent, so a connection that maps nothing
    /// holds no second descriptor), to keep counting what its client has
    /// not read once the connection is over (see [`InFlight`]'s `Drop`).
    socket: Option<OwnedFd>,
}

impl InFlight {
    /// A connection's count, none in flight yet, within the manager's
    /// count `all`.
    pub(super) fn new(all: Arc<AtomicUsize>, max_unread: usize, max_all: usize) -> Self {
        InFlight {
            unread: 0,
            shown: None,
            max_unread: max_unread.max(1),
            all,
            max_all,
            socket: None,
        }
    }

    /// Shows this connection's count in `counters` (for inspection) as it
    /// changes.
    pub(super) fn shown_in(mut self, counters: Arc<ConnectionCounters>) -> Self {
        self.shown = Some(counters);
        self
    }

    /// Sets this connection's count, and shows it.
    fn set_unread(&mut self, unread: usize) {
        self.unread = unread;
        if let Some(counters) = &self.shown {
            counters
                .descriptors_unread
                .store(unread as u64, Ordering::Relaxed);
        }
    }

    /// Takes room for one more descriptor sent on `socket`: waits while
    /// this connection has [`InFlight::max_unread`] unread (see the
    /// [module docs](self)). Once it returns `Ok`, the descriptor is
    /// counted; if it is not sent after all, [`InFlight::unsent`] takes it
    /// back.
    ///
    /// # Errors
    ///
    /// `Ok(Err(LimitReached))` if all connections together have
    /// `max_all` in flight; `Err` if the socket failed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is counted until it returns.
    pub(super) async fn room<W: SendFd>(
        &mut self,
        socket: &W,
    ) -> std::io::Result<Result<(), ManagerError>> {
        let mut look = Duration::from_millis(1);
        while self.unread >= self.max_unread {
            self.read_yet(socket)?;
            if self.unread < self.max_unread {
                break;
            }
            if socket.peer_hung_up() {
                return Err(std::io::ErrorKind::ConnectionAborted.into());
            }
            // Nothing tells when a peer reads; look again soon, less often
            // the longer it does not.
            tokio::time::sleep(look).await;
            look = (look * 2).min(LONGEST_LOOK);
        }
        if self.socket.is_none() {
            self.socket = socket.duplicate();
        }
        if !self.take_one() {
            // Perhaps this connection's own are read by now.
            self.read_yet(socket)?;
            if !self.take_one() {
                return Ok(Err(self.full()));
            }
        }
        Ok(Ok(()))
    }

    /// Resolves once the client has read every descriptor sent to it
    /// (never, while none is unread): looks at the socket soon after a
    /// send, less often the longer the client does not read. A socket that
    /// fails is left for the writer to find.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub(super) async fn read<W: SendFd>(&mut self, socket: &W) {
        let mut look = Duration::from_millis(1);
        while self.unread > 0 {
            tokio::time::sleep(look).await;
            look = (look * 2).min(LONGEST_LOOK);
            match self.read_yet(socket) {
                Ok(()) if self.unread == 0 => return,
                Ok(()) => {}
                Err(_) => break,
            }
        }
        std::future::pending::<()>().await;
    }

    /// The descriptor [`InFlight::room`] made room for was not sent.
    pub(super) fn unsent(&mut self) {
        if self.unread > 0 {
            self.set_unread(self.unread - 1);
            self.all.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// How many descriptors sent on this connection may be unread.
    #[cfg(test)]
    pub(super) fn unread(&self) -> usize {
        self.unread
    }

    /// Takes one from the manager's count if there is room.
    fn take_one(&mut self) -> bool {
        let taken = self
            .all
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |all| {
                (all < self.max_all).then_some(all + 1)
            })
            .is_ok();
        self.set_unread(self.unread + usize::from(taken));
        taken
    }

    /// Forgets this connection's count if its client has read everything
    /// sent to it.
    fn read_yet<W: SendFd>(&mut self, socket: &W) -> std::io::Result<()> {
        if self.unread > 0 && socket.unread_bytes()? == 0 {
            self.all.fetch_sub(self.unread, Ordering::AcqRel);
            self.set_unread(0);
        }
        Ok(())
    }

    fn full(&self) -> ManagerError {
        tracing::warn!(
            max = self.max_all,
            "too many descriptors in flight to clients"
        );
        ManagerError::LimitReached {
            what: "descriptors in flight to clients (sent, not yet read, over all connections)"
                .to_owned(),
            max: u64::try_from(self.max_all).unwrap_or(u64::MAX),
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // What is still in the peer's socket stays in flight (the kernel
        // counts it against the manager) until the peer reads or closes
        // it, even once the manager has closed its end: a client that
        // makes the manager close its connection (a bad frame) and never
        // reads would otherwise take it out of the manager's count, again
        // on every new connection. So it stays counted until then, by a
        // task that holds the socket, shut down so the client sees the
        // end, and looks at it as a waiting writer does.
        let unread = std::mem::take(&mut self.unread);
        let socket = self.socket.take();
        if unread == 0 {
            return;
        }
        let all = self.all.clone();
        let release = move || {
            all.fetch_sub(unread, Ordering::AcqRel);
        };
        let (Some(socket), Ok(runtime)) = (socket, tokio::runtime::Handle::try_current()) else {
            release();
            return;
        };
        let socket = std::os::unix::net::UnixStream::from(socket);
        let _ = socket.shutdown(std::net::Shutdown::Both);
        runtime.spawn(async move {
            let mut look = Duration::from_millis(1);
            loop {
                match crate::platform::unread_bytes(&socket) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                tokio::time::sleep(look).await;
                look = (look * 2).min(LONGEST_LOOK);
            }
            drop(socket);
            release();
        });
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use tokio::io::AsyncReadExt;

    use super::*;
    use crate::transport::{Socket, StdUnix};

    /// Two connected sockets on this runtime.
    fn pair() -> (Socket<StdUnix>, Socket<StdUnix>) {
        let (a, b) = StdUnix::pair().expect("pair");
        (
            Socket::new(a).expect("register"),
            Socket::new(b).expect("register"),
        )
    }

    const WAIT: Duration = Duration::from_secs(10);

    fn memfd() -> std::os::fd::OwnedFd {
        rustix::fs::memfd_create("in-flight", rustix::fs::MemfdFlags::CLOEXEC).expect("memfd")
    }

    #[tokio::test]
    async fn a_connection_at_its_cap_waits_until_its_client_reads() {
        let (server, client) = pair();
        let (mut client_read, _client_write) = client.into_split();
        let (_server_read, server_write) = server.into_split();
        let all = Arc::new(AtomicUsize::new(0));
        let mut in_flight = InFlight::new(all.clone(), 2, 100);
        let fd = memfd();
        for _ in 0..2 {
            assert!(in_flight.room(&server_write).await.expect("socket").is_ok());
            let sent = server_write
                .send_with_fd(b"x", fd.as_fd())
                .await
                .expect("send");
            assert_eq!(sent, 1);
        }
        assert_eq!(all.load(Ordering::Acquire), 2);

        // The third waits while nothing is read...
        {
            let third = in_flight.room(&server_write);
            tokio::pin!(third);
            assert!(
                tokio::time::timeout(Duration::from_millis(20), &mut third)
                    .await
                    .is_err(),
                "room was made while the client had read nothing"
            );
            // ...and goes once the client has read both.
            // One byte a read: a read stops where a descriptor's bytes
            // begin, and tokio takes a short read to mean the socket is
            // drained.
            for _ in 0..2 {
                let mut got = [0; 1];
                client_read.read_exact(&mut got).await.expect("read");
            }
            let made = tokio::time::timeout(WAIT, third)
                .await
                .expect("room in time");
            assert!(made.expect("socket").is_ok());
        }
        assert_eq!(in_flight.unread(), 1);
        assert_eq!(all.load(Ordering::Acquire), 1);
        // The room made is not used: nothing is left in flight, and the
        // connection's end gives nothing back later.
        in_flight.unsent();
        drop(in_flight);
        assert_eq!(all.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn an_idle_writer_notices_that_its_client_read() {
        let (server, client) = pair();
        let (mut client_read, _client_write) = client.into_split();
        let (_server_read, server_write) = server.into_split();
        let all = Arc::new(AtomicUsize::new(0));
        let mut in_flight = InFlight::new(all.clone(), 8, 8);
        let fd = memfd();
        assert!(in_flight.room(&server_write).await.expect("socket").is_ok());
        server_write
            .send_with_fd(b"z", fd.as_fd())
            .await
            .expect("send");
        assert_eq!(all.load(Ordering::Acquire), 1);
        let mut got = [0; 1];
        client_read.read_exact(&mut got).await.expect("read");
        tokio::time::timeout(WAIT, in_flight.read(&server_write))
            .await
            .expect("noticed in time");
        assert_eq!(in_flight.unread(), 0);
        assert_eq!(all.load(Ordering::Acquire), 0);
        // With nothing unread there is nothing to notice.
        assert!(
            tokio::time::timeout(Duration::from_millis(5), in_flight.read(&server_write))
                .await
                .is_err()
        );
    }

    /// A connection that ends while its client, still connected, has not
    /// read its descriptors keeps them counted until the client reads
    /// (or closes): they are still in flight, against the manager.
    #[tokio::test]
    async fn an_ended_connections_unread_descriptors_stay_counted_until_read() {
        let (server, client) = pair();
        let (mut client_read, _client_write) = client.into_split();
        let (server_read, server_write) = server.into_split();
        let all = Arc::new(AtomicUsize::new(0));
        let mut in_flight = InFlight::new(all.clone(), 8, 8);
        let fd = memfd();
        for _ in 0..2 {
            assert!(in_flight.room(&server_write).await.expect("socket").is_ok());
            server_write
                .send_with_fd(b"w", fd.as_fd())
                .await
                .expect("send");
        }
        // The connection ends: the writer (with its count) and the socket
        // go.
        drop(in_flight);
        drop((server_read, server_write));
        tokio::task::yield_now().await;
        assert_eq!(all.load(Ordering::Acquire), 2, "unread, still in flight");
        for _ in 0..2 {
            let mut got = [0; 1];
            client_read.read_exact(&mut got).await.expect("read");
        }
        // The client sees the end once it has read.
        let mut rest = Vec::new();
        tokio::time::timeout(WAIT, client_read.read_to_end(&mut rest))
            .await
            .expect("the end in time")
            .expect("read");
        assert!(rest.is_empty());
        tokio::time::timeout(WAIT, async {
            while all.load(Ordering::Acquire) != 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("given back once read");
    }

    #[tokio::test]
    async fn past_the_managers_cap_a_mapping_fails_alone() {
        let (server, _client) = pair();
        let (_read, write) = server.into_split();
        let all = Arc::new(AtomicUsize::new(3));
        let mut in_flight = InFlight::new(all.clone(), 8, 3);
        match in_flight.room(&write).await.expect("socket") {
            Err(ManagerError::LimitReached { what, max }) => {
                assert!(what.contains("descriptors in flight"), "{what}");
                assert_eq!(max, 3);
            }
            other => panic!("expected LimitReached, got {other:?}"),
        }
        assert_eq!(all.load(Ordering::Acquire), 3);
        // Room made and not used is given back.
        all.store(2, Ordering::Release);
        assert!(in_flight.room(&write).await.expect("socket").is_ok());
        assert_eq!(all.load(Ordering::Acquire), 3);
        in_flight.unsent();
        assert_eq!(all.load(Ordering::Acquire), 2);
        assert_eq!(in_flight.unread(), 0);
    }

    #[tokio::test]
    async fn a_client_that_read_everything_frees_its_share_at_the_managers_cap() {
        let (server, client) = pair();
        let (mut client_read, _client_write) = client.into_split();
        let (_server_read, server_write) = server.into_split();
        let all = Arc::new(AtomicUsize::new(0));
        let mut in_flight = InFlight::new(all.clone(), 8, 1);
        let fd = memfd();
        assert!(in_flight.room(&server_write).await.expect("socket").is_ok());
        server_write
            .send_with_fd(b"y", fd.as_fd())
            .await
            .expect("send");
        let mut got = [0; 1];
        client_read.read_exact(&mut got).await.expect("read");
        // At the manager's cap, but all of it this connection's and read.
        assert!(in_flight.room(&server_write).await.expect("socket").is_ok());
        assert_eq!(all.load(Ordering::Acquire), 1);
    }
}
