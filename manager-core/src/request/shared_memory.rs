//! [`SharedMemoryRequest`]: a block of memory the manager owns and worker
//! processes map (Python's `SharedMemoryManager`).
//!
//! Each variant says which [`Reply`](crate::reply::Reply) variant answers
//! it. The variants are encoded by their position; new ones go at the end.

use serde::{Deserialize, Serialize};

use crate::reply::{Mapped, Reply};

/// A shared memory block's operations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SharedMemoryRequest {
    /// The block's size in bytes. Replies `Count`.
    Size,
    /// Checks that the block is `size` bytes long and, if both the block
    /// and the caller name an element type, that they name the same one;
    /// a block made without one takes the caller's, so that no later
    /// caller views it as another type.
    /// Replies `Done`, or fails with
    /// [`ManagerError::WrongSize`](crate::ManagerError::WrongSize) or
    /// [`ManagerError::WrongType`](crate::ManagerError::WrongType).
    Check {
        /// The size the caller expects.
        size: u64,
        /// The element type the caller views it as, if any.
        element: Option<String>,
    },
    /// Hands the caller the block's descriptor, to map, and counts its
    /// connection as a holder until it sends `Unmap` or closes. Replies
    /// [`Reply::Mapping`]: the descriptor travels beside the frame (over
    /// a Unix socket only), not in it.
    Map,
    /// One mapping of the caller's connection has ended. Replies `Done`
    /// (also when the connection held none).
    Unmap,
}

// Each operation as a call, with the type of its reply: the one place
// that type is chosen.
super::call::calls! {
    SharedMemoryRequest {
        size() -> u64 = Size;
        check(size: u64, element: Option<String>) -> () = Check { size, element };
        map() -> Mapped = Map;
        unmap() -> () = Unmap;
    }
}

impl super::KindRequest for SharedMemoryRequest {
    const FAMILY: &'static str = "shared memory";

    /// A `Map` makes its connection a holder: if its reply comes after its
    /// caller gave up (or is not delivered), the holding is given back.
    fn may_take(&self) -> bool {
        matches!(self, SharedMemoryRequest::Map)
    }

    fn undo_for(&self, reply: &Reply) -> Option<Self> {
        match (self, reply) {
            (SharedMemoryRequest::Map, Reply::Mapping { .. }) => Some(SharedMemoryRequest::Unmap),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::AttachedFd;
    use crate::request::KindRequest;

    #[test]
    fn a_map_that_came_too_late_is_unmapped() {
        let map = SharedMemoryRequest::Map;
        assert!(map.may_take());
        let reply = Reply::Mapping {
            size: 8,
            fd: AttachedFd::none(),
        };
        assert_eq!(map.undo_for(&reply), Some(SharedMemoryRequest::Unmap));
        assert_eq!(map.undo_for(&Reply::Done), None);
        assert!(!SharedMemoryRequest::Size.may_take());
    }
}
