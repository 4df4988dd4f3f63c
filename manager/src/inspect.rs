//! Inspecting a running manager from any authenticated client:
//! [`Client::inspect`] returns a [`ManagerSnapshot`] of every object (its
//! counters, mailbox depth, parked waiters, size, holders and latency), every live
//! connection (its peer, requests served and in flight, what it holds) and
//! totals (uptime, connections, request rate, versions).
//!
//! The request travels over the client's own connection like any other, so
//! the manager goes on serving while it answers. Objects too busy to report
//! within the manager's inspection deadline come back with `detail: None`.
//!
//! # Examples
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use manager::inspect::KindDetail;
//!
//! let manager = manager::Manager::start()?;
//! let client = manager::Client::connect(manager.address(), manager.authkey()).await?;
//! let jobs = client.queue::<u32>("jobs", None).await?;
//! jobs.put(&1).await?;
//! jobs.put(&2).await?;
//!
//! let snapshot = client.inspect().await?;
//! let detail = snapshot.object("jobs").and_then(|o| o.detail.as_ref()).unwrap();
//! assert!(matches!(detail.size, KindDetail::Queue { len: 2, .. }));
//! let me = snapshot.connection(client.connection_id()).unwrap();
//! assert!(matches!(
//!     me.peer,
//!     manager::inspect::Peer::Unix { pid: Some(pid), .. } if pid == std::process::id()
//! ));
//! assert_eq!(snapshot.totals.protocol_version, manager::PROTOCOL_VERSION);
//! # Ok(())
//! # }
//! ```

use std::future::Future;

use manager_core::request::RegistryRequest;

pub use manager_core::inspect::{
    ConnectionReport, HeldObject, Holding, KindDetail, Latency, ManagerSnapshot, ObjectDetail,
    ObjectReport, Peer, Totals, UnixMillis,
};

use crate::mode::Mode;
use crate::{Client, Error};

impl<M: Mode> Client<M> {
    /// What the manager holds now: every object, every live connection,
    /// totals. One request on this connection, answered while the manager
    /// goes on serving.
    ///
    /// # Errors
    ///
    /// The errors of every call ([`Error::ManagerGone`], [`Error::Timeout`]
    /// on a handle with a timeout, ...); [`Error::Manager`] with
    /// `ReplyTooLarge` if the snapshot does not fit in one frame.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it changes nothing on the manager.
    pub fn inspect(&self) -> M::Answer<impl Future<Output = Result<ManagerSnapshot, Error>>> {
        self.mode()
            .answer(self.ask_registry(RegistryRequest::inspect()))
    }
}
