//! Shared memory blocks, Python's `SharedMemoryManager` made safe: the
//! manager owns each block, worker processes map it and move data at
//! memory speed instead of through the socket.
//!
//! [`Client::shared_memory`](crate::Client::shared_memory) finds or
//! creates a block by name and returns its proxy
//! ([`SharedMemory`](crate::proxy::SharedMemory)); `map()` gives a
//! [`Mapping`] of its bytes, [`SharedArray<T>`] views them as
//! plain-old-data elements (`T: bytemuck::Pod`), and [`ShareableList`] as
//! a fixed number of typed items in fixed-size slots, like Python's.
//!
//! # Where the memory lives
//!
//! On Linux a block is a memfd the manager creates: anonymous memory with
//! a descriptor and no name in any filesystem, sealed so its size never
//! changes. A `map()` hands the descriptor to the asking connection only,
//! beside its reply frame over the Unix socket (`SCM_RIGHTS`); the worker
//! maps it and closes its copy. So nothing is left in `/dev/shm` when
//! anyone dies, and a client connected over TCP (another machine, maybe)
//! gets [`Error::SharedMemoryNeedsUnix`](crate::Error::SharedMemoryNeedsUnix).
//!
//! # Lifetime
//!
//! The manager counts each connection's mappings, as an Erlang monitor
//! watches a process: a mapping ends when it is dropped or when its
//! process's connection closes, however it ends (SIGKILL included).
//! [`Client::remove`](crate::Client::remove) frees the name at once (a new
//! block may take it), but the memory only once the last holder has gone:
//! nothing is unmapped under a process that still uses it, and nothing
//! leaks when holders die. Python's resource tracker unlinks blocks that
//! other processes still use, and leaks them when its process is killed.
//!
//! # Concurrency
//!
//! **A block has no locking of its own.** Every process reads and writes
//! it directly, and the manager sees none of it. A read that overlaps
//! another process's write of the same bytes may see part of that write.
//! Coordinate with what the manager offers:
//!
//! - a manager [`Lock`](crate::proxy::Lock) around the writes and reads
//!   that must not interleave (its guard's release happens after the
//!   writes, its acquire before the reads, so a reader that holds the
//!   lock sees the whole of the last writer's work);
//! - disjoint parts per worker, joined with a
//!   [`Barrier`](crate::proxy::Barrier), an [`Event`](crate::proxy::Event)
//!   or the worker's exit;
//! - [`SharedArray::atomics`] on a `SharedArray<u64>` for counters and
//!   flags: each element an `AtomicU64`, safe to update from every
//!   process at once.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::atomic::Ordering;
//!
//! let manager = manager::Manager::start()?;
//! let client = manager.connect()?;
//!
//! // Counters: atomic, no lock needed.
//! let hits = client.shared_array::<u64>("hits", 8)?;
//! hits.atomics()[0].fetch_add(1, Ordering::Relaxed);
//!
//! // A record written whole under the manager's lock.
//! let frame = client.shared_array::<f64>("frame", 1024)?;
//! let lock = client.lock("frame-lock")?;
//! {
//!     let _held = lock.lock()?;
//!     frame.copy_from(0, &[1.5; 1024]);
//! }
//! let _held = lock.lock()?;
//! assert_eq!(frame.get(1023), Some(1.5));
//! # Ok(())
//! # }
//! ```
//!
//! # What `unsafe` slices mean
//!
//! The safe API copies bytes in and out through raw pointers and never
//! lends a `&[T]` of the block, because Rust assumes the bytes behind a
//! shared reference do not change while it lives, and another process may
//! change them at any time. [`Mapping::as_slice`] and
//! [`SharedArray::as_slice`] (and their `_mut` forms) do lend one, for
//! code that needs a slice (a numeric library, `sort`): they are `unsafe`,
//! and their caller promises that no process writes the block meanwhile
//! (by holding the lock every writer takes, say).

use std::ops::{Bound, RangeBounds};

use manager_core::request::{Request, SharedMemoryRequest};
use manager_core::{ObjectId, ObjectName};
use manager_ipc::Connection;

use crate::platform::Region;

mod array;
mod list;

pub use array::{SharedArray, SharedSlice};
pub use list::ShareableList;

/// A shared memory block mapped into this process, read and written in
/// place: [`read`](Mapping::read), [`write`](Mapping::write),
/// [`to_vec`](Mapping::to_vec) copy bytes in and out.
///
/// Dropping it unmaps the block here and tells the manager (in order with
/// the connection's later requests), which frees a block removed by name
/// once its last mapping anywhere has ended.
///
/// # Panics
///
/// The copying methods panic if the bytes they name are not all in the
/// block, as slice indexing does.
#[derive(Debug)]
pub struct Mapping {
    /// Dropped before `unmapper`: unmapped here before the manager hears.
    region: Region,
    name: ObjectName,
    _unmapper: Unmapper,
}

impl Mapping {
    pub(crate) fn new(region: Region, name: ObjectName, unmapper: Unmapper) -> Self {
        Mapping {
            region,
            name,
            _unmapper: unmapper,
        }
    }

    /// The block's name.
    pub fn name(&self) -> &ObjectName {
        &self.name
    }

    /// Its size in bytes.
    pub fn len(&self) -> usize {
        self.region.len()
    }

    /// Whether it has no bytes (never: a block has at least one).
    pub fn is_empty(&self) -> bool {
        self.region.len() == 0
    }

    /// Copies `into.len()` bytes from `offset` into `into`.
    pub fn read(&self, offset: usize, into: &mut [u8]) {
        self.region.read(offset, into);
    }

    /// Copies `from` into the block at `offset`.
    pub fn write(&self, offset: usize, from: &[u8]) {
        self.region.write(offset, from);
    }

    /// Sets every byte in `range` to `byte`.
    pub fn fill(&self, range: impl RangeBounds<usize>, byte: u8) {
        let (start, end) = bounds(range, self.len());
        self.region.fill(start, end - start, byte);
    }

    /// A copy of the bytes in `range`.
    pub fn to_vec(&self, range: impl RangeBounds<usize>) -> Vec<u8> {
        let (start, end) = bounds(range, self.len());
        let mut out = vec![0; end - start];
        self.region.read(start, &mut out);
        out
    }

    /// Where the block starts in this process (page-aligned), for code
    /// that hands memory to a foreign function; see [`Mapping::as_slice`]
    /// for what may be done with it.
    pub fn as_ptr(&self) -> *mut u8 {
        self.region.as_ptr()
    }

    pub(crate) fn region(&self) -> &Region {
        &self.region
    }
}

/// `range` as `start..end` within `len`.
///
/// # Panics
///
/// If it does not lie within `len`, or ends before it starts.
pub(crate) fn bounds(range: impl RangeBounds<usize>, len: usize) -> (usize, usize) {
    let start = match range.start_bound() {
        Bound::Included(&s) => s,
        Bound::Excluded(&s) => s.saturating_add(1),
        Bound::Unbounded => 0,
    };
    let end = match range.end_bound() {
        Bound::Included(&e) => e.saturating_add(1),
        Bound::Excluded(&e) => e,
        Bound::Unbounded => len,
    };
    assert!(
        start <= end && end <= len,
        "range {start}..{end} is out of range for a length of {len}"
    );
    (start, end)
}

/// Tells the manager that one mapping of this connection has ended, when
/// dropped.
#[derive(Debug)]
pub(crate) struct Unmapper {
    connection: Connection,
    target: ObjectId,
}

impl Unmapper {
    pub(crate) fn new(connection: Connection, target: ObjectId) -> Self {
        Unmapper { connection, target }
    }
}

impl Drop for Unmapper {
    fn drop(&mut self) {
        let unmap = Request::Object {
            target: self.target,
            op: SharedMemoryRequest::unmap().into_request(),
        };
        // Sent without waiting: a drop cannot wait. If the connection is
        // gone, so is this holding.
        if let Err(e) = self.connection.send_detached(unmap) {
            tracing::debug!(error = %e, "cannot tell the manager a mapping ended");
        }
    }
}
