//! [`AttachedFd`]: a file descriptor that travels beside a reply frame,
//! never inside it.
//!
//! A [`Reply::Mapping`](super::Reply::Mapping) hands the caller a shared
//! memory block's descriptor. The manager's writer sends the frame of such
//! a reply with the descriptor attached (`SCM_RIGHTS` on a Unix socket);
//! the client's reader takes the descriptors that arrive, in order, and
//! puts the next one into the reply that announces one. In the frame's
//! bytes the descriptor is skipped: a decoded reply holds none until the
//! reader attaches it.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;

/// A descriptor carried beside a reply, or none (a reply just decoded, or
/// one whose descriptor did not arrive).
///
/// Shared, not duplicated: the manager hands out the block's own
/// descriptor, which stays open while any reply holds it. Two
/// `AttachedFd`s always compare equal: a reply's equality is that of its
/// bytes, which do not hold the descriptor.
#[derive(Clone, Default)]
pub struct AttachedFd(Option<Arc<OwnedFd>>);

impl AttachedFd {
    /// No descriptor.
    pub fn none() -> Self {
        AttachedFd(None)
    }

    /// `fd`, shared.
    pub fn new(fd: Arc<OwnedFd>) -> Self {
        AttachedFd(Some(fd))
    }

    /// The descriptor, if there is one.
    pub fn get(&self) -> Option<BorrowedFd<'_>> {
        self.0.as_ref().map(|fd| fd.as_fd())
    }

    /// Whether there is one.
    pub fn is_some(&self) -> bool {
        self.0.is_some()
    }

    /// Takes the descriptor out, leaving none.
    pub fn take(&mut self) -> Option<Arc<OwnedFd>> {
        self.0.take()
    }
}

impl From<OwnedFd> for AttachedFd {
    fn from(fd: OwnedFd) -> Self {
        AttachedFd(Some(Arc::new(fd)))
    }
}

impl std::fmt::Debug for AttachedFd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use std::os::fd::AsRawFd;
        match &self.0 {
            Some(fd) => write!(f, "AttachedFd({})", fd.as_raw_fd()),
            None => f.write_str("AttachedFd(none)"),
        }
    }
}

impl PartialEq for AttachedFd {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for AttachedFd {}
