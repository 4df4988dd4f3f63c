//! [`SharedMemoryState`]: a block of memory the manager owns and worker
//! processes map, like Python's `SharedMemoryManager().SharedMemory()`;
//! and [`SharedMemoryBudget`], the bytes all blocks of one manager may
//! take.
//!
//! On Linux a block is a memfd: anonymous memory with a descriptor and no
//! name in any filesystem, zero-filled, sealed against growing and
//! shrinking (so no holder can truncate it under the others). A `Map`
//! hands the caller the descriptor beside its reply frame (see
//! [`AttachedFd`]); the caller maps it and closes its copy. The manager
//! never maps a block itself.
//!
//! # Holders, like an Erlang monitor
//!
//! A `Map` makes its connection a holder (counted per mapping); an `Unmap`
//! ends one mapping. The block watches each holder's connection from the
//! first `Map` on ([`ReplySink::closed`](crate::ReplySink::closed)): when
//! it ends, however its process ended (SIGKILL included), every mapping
//! it held ends with it. The notice a closed connection sends the objects
//! it used ends them too; either comes first, and the second changes
//! nothing.
//!
//! # Removal
//!
//! Removing a block by name frees the name at once (a new block may take
//! it), but the block itself, its descriptor and its bytes in the budget,
//! stay until its last holder has gone: the actor outlives its removal
//! ([`ObjectState::outlives_removal`]) and then stops, which closes the
//! descriptor. Meanwhile its old holders may only `Unmap`; anything else
//! is [`ManagerError::ObjectGone`].
//!
//! # Bounds
//!
//! A block is at least one byte and at most the budget's per-block limit,
//! and all live blocks together (removed ones that are still mapped
//! included) at most its total limit; there are at most its number of
//! blocks (each holds a descriptor of the manager's).

use std::collections::{BTreeMap, HashSet};
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use manager_core::inspect::{Holding, KindDetail, ObjectDetail};
use manager_core::reply::{AttachedFd, Reply};
use manager_core::request::SharedMemoryRequest;
use manager_core::{ManagerError, ObjectName};

use crate::actor::{ObjectContext, ObjectState};
use crate::object::{Caller, ConnectionId};
use crate::platform;

/// How many bytes of shared memory blocks one manager allows: per block,
/// and for all blocks together. Cheap to clone; clones share the count.
///
/// Without limits by default; a manager sets its own (the `manager`
/// crate's `Limits`).
#[derive(Debug, Clone)]
pub struct SharedMemoryBudget {
    inner: Arc<Budget>,
}

#[derive(Debug)]
struct Budget {
    max_block: u64,
    max_total: u64,
    max_blocks: u64,
    used: AtomicU64,
    blocks: AtomicU64,
}

impl Default for SharedMemoryBudget {
    fn default() -> Self {
        Self::new(u64::MAX, u64::MAX, usize::MAX)
    }
}

impl SharedMemoryBudget {
    /// Blocks of at most `max_block` bytes each, `max_total` together,
    /// and at most `max_blocks` of them.
    pub fn new(max_block: u64, max_total: u64, max_blocks: usize) -> Self {
        SharedMemoryBudget {
            inner: Arc::new(Budget {
                max_block,
                max_total,
                max_blocks: u64::try_from(max_blocks).unwrap_or(u64::MAX),
                used: AtomicU64::new(0),
                blocks: AtomicU64::new(0),
            }),
        }
    }

    /// How many blocks are alive now (removed ones still mapped included).
    pub fn blocks(&self) -> u64 {
        self.inner.blocks.load(Ordering::Acquire)
    }

    /// The bytes of the blocks alive now (removed ones still mapped
    /// included).
    pub fn used(&self) -> u64 {
        self.inner.used.load(Ordering::Acquire)
    }

    /// Takes `size` bytes for a new block, given back when the
    /// reservation drops.
    fn reserve(&self, size: u64, what: &str) -> Result<Reservation, ManagerError> {
        if size == 0 {
            return Err(ManagerError::CreateFailed {
                object: what.to_owned(),
                reason: "a shared memory block needs at least 1 byte, not 0".to_owned(),
            });
        }
        if size > self.inner.max_block {
            return Err(ManagerError::LimitReached {
                what: format!("bytes in one shared memory block ({size} asked for {what})"),
                max: self.inner.max_block,
            });
        }
        let max_blocks = self.inner.max_blocks;
        self.inner
            .blocks
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max_blocks).then_some(n + 1)
            })
            .map_err(|_| ManagerError::LimitReached {
                what: "shared memory blocks (removed ones still mapped included)".to_owned(),
                max: max_blocks,
            })?;
        let max = self.inner.max_total;
        let taken = self
            .inner
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(size).filter(|&total| total <= max)
            })
            .map_err(|used| ManagerError::LimitReached {
                what: format!(
                    "bytes of shared memory blocks ({used} in use, {size} more asked for {what})"
                ),
                max,
            });
        if let Err(e) = taken {
            self.inner.blocks.fetch_sub(1, Ordering::AcqRel);
            return Err(e);
        }
        Ok(Reservation {
            budget: self.clone(),
            size,
        })
    }
}

/// Bytes of a [`SharedMemoryBudget`] held by one block.
#[derive(Debug)]
struct Reservation {
    budget: SharedMemoryBudget,
    size: u64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let budget = &self.budget.inner;
        budget.used.fetch_sub(self.size, Ordering::AcqRel);
        budget.blocks.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The state of one shared memory block.
#[derive(Debug)]
pub struct SharedMemoryState {
    /// Its bytes in the manager's budget, given back when the block goes:
    /// declared (so dropped) before `fd`, so that once the block's memfd
    /// is closed its bytes are free too.
    _reservation: Reservation,
    /// The block's descriptor, handed out (shared) with each mapping.
    fd: Arc<OwnedFd>,
    size: u64,
    /// The element type it was made for, if any.
    element: Option<String>,
    /// The mappings each holder's connection has open.
    holders: BTreeMap<ConnectionId, u64>,
    /// The connections whose end the block watches.
    watched: HashSet<ConnectionId>,
    /// Whether it was removed by name (it then lives on only for its
    /// holders).
    removed: bool,
}

impl SharedMemoryState {
    /// A new zero-filled block of `size` bytes for the object `name`,
    /// within `budget`; of `element`s, if it names their type.
    ///
    /// # Errors
    ///
    /// [`ManagerError::CreateFailed`] for a size of 0 or if the system
    /// refuses the memory, [`ManagerError::LimitReached`] for a size over
    /// the per-block limit or one that would take all blocks over the
    /// total.
    pub fn new(
        name: &ObjectName,
        size: u64,
        element: Option<String>,
        budget: &SharedMemoryBudget,
    ) -> Result<Self, ManagerError> {
        let what = format!("shared memory `{name}`");
        let reservation = budget.reserve(size, &what)?;
        let fd = platform::memfd_block(&format!("manager-shm:{name}"), size).map_err(|e| {
            ManagerError::CreateFailed {
                object: what,
                reason: e,
            }
        })?;
        Ok(SharedMemoryState {
            _reservation: reservation,
            fd: Arc::new(fd),
            size,
            element,
            holders: BTreeMap::new(),
            watched: HashSet::new(),
            removed: false,
        })
    }

    /// Ends every mapping `connection` held; stops a removed block whose
    /// last holder this was.
    fn holder_gone(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        self.holders.remove(&connection);
        self.watched.remove(&connection);
        self.stop_if_done(ctx);
    }

    fn stop_if_done(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        if self.removed && self.holders.is_empty() {
            tracing::debug!(name = %ctx.name(), size = self.size, "shared memory freed");
            ctx.stop();
        }
    }
}

/// The state of a new shared memory block (`ObjectSpec::SharedMemory`).
///
/// # Errors
///
/// As [`SharedMemoryState::new`].
pub(super) fn shared_memory(
    making: &super::Making<'_>,
    size: u64,
    element: Option<String>,
) -> Result<SharedMemoryState, ManagerError> {
    SharedMemoryState::new(making.name, size, element, making.place.shared_memory)
}

impl ObjectState for SharedMemoryState {
    type Request = SharedMemoryRequest;

    fn report(&self) -> ObjectDetail {
        ObjectDetail {
            size: KindDetail::SharedMemory {
                size: self.size,
                mappings: self.holders.values().sum(),
            },
            bytes_held: self.size,
            holders: self
                .holders
                .iter()
                .map(|(connection, &count)| Holding {
                    connection: connection.0,
                    owner: 0,
                    count,
                })
                .collect(),
            ..ObjectDetail::default()
        }
    }

    fn handle(
        &mut self,
        request: SharedMemoryRequest,
        caller: Caller,
        ctx: &mut ObjectContext<'_, Self>,
    ) {
        if self.removed && request != SharedMemoryRequest::Unmap {
            caller.reply(Err(ctx.gone()));
            return;
        }
        match request {
            SharedMemoryRequest::Size => caller.reply(Ok(Reply::Count(self.size))),
            SharedMemoryRequest::Check { size, element } => {
                let result = match (&self.element, element) {
                    _ if size != self.size => Err(ManagerError::WrongSize {
                        what: ctx.what(),
                        size: self.size,
                        requested: size,
                    }),
                    (Some(stored), Some(requested)) if *stored != requested => {
                        Err(ManagerError::WrongType {
                            what: ctx.what(),
                            stored: stored.clone(),
                            requested,
                        })
                    }
                    // A block made untyped takes the element type of its
                    // first typed view, as one made typed has it: no other
                    // process may then view its bytes as another type.
                    // (Bounded as a new block's is.)
                    (None, Some(requested)) => {
                        manager_core::kind::check_element_name(&requested).map(|()| {
                            self.element = Some(requested);
                            Reply::Done
                        })
                    }
                    _ => Ok(Reply::Done),
                };
                caller.reply(result);
            }
            SharedMemoryRequest::Map => {
                let connection = caller.connection;
                // A reply that is not delivered ends this holding again
                // (`undelivered` runs the `Unmap` that undoes it).
                *self.holders.entry(connection).or_insert(0) += 1;
                if !caller.is_internal() && self.watched.insert(connection) {
                    let sink = caller.replies.clone();
                    ctx.when(async move { sink.closed().await }, move |state, (), ctx| {
                        state.holder_gone(connection, ctx);
                    });
                }
                caller.reply(Ok(Reply::Mapping {
                    size: self.size,
                    fd: AttachedFd::new(self.fd.clone()),
                }));
            }
            SharedMemoryRequest::Unmap => {
                let connection = caller.connection;
                if let Some(count) = self.holders.get_mut(&connection) {
                    *count -= 1;
                    if *count == 0 {
                        self.holders.remove(&connection);
                    }
                }
                caller.reply(Ok(Reply::Done));
                self.stop_if_done(ctx);
            }
        }
    }

    fn connection_closed(&mut self, connection: ConnectionId, ctx: &mut ObjectContext<'_, Self>) {
        self.holder_gone(connection, ctx);
    }

    fn removed(&mut self, ctx: &mut ObjectContext<'_, Self>) {
        let _ = ctx;
        self.removed = true;
    }

    fn outlives_removal(&self) -> bool {
        !self.holders.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use manager_core::ObjectSpec;
    use manager_core::request::ObjectRequest;

    use super::*;
    use crate::objects::testing::{Conn, Harness};

    fn name() -> ObjectName {
        ObjectName::new("t").unwrap()
    }

    #[test]
    fn sizes_are_bounded_per_block_and_in_total() {
        let budget = SharedMemoryBudget::new(4096, 8192, 3);
        let zero = SharedMemoryState::new(&name(), 0, None, &budget).unwrap_err();
        assert!(
            matches!(zero, ManagerError::CreateFailed { .. }),
            "{zero:?}"
        );
        let over = SharedMemoryState::new(&name(), 4097, None, &budget).unwrap_err();
        assert!(
            matches!(over, ManagerError::LimitReached { max: 4096, .. }),
            "{over:?}"
        );
        let a = SharedMemoryState::new(&name(), 4096, None, &budget).unwrap();
        let b = SharedMemoryState::new(&name(), 4096, None, &budget).unwrap();
        assert_eq!(budget.used(), 8192);
        let third = SharedMemoryState::new(&name(), 1, None, &budget).unwrap_err();
        assert!(
            matches!(third, ManagerError::LimitReached { max: 8192, .. }),
            "{third:?}"
        );
        drop(a);
        assert_eq!((budget.used(), budget.blocks()), (4096, 1));
        let c = SharedMemoryState::new(&name(), 4096, None, &budget).unwrap();
        drop(b);
        // Three blocks at most, whatever their size.
        let d = SharedMemoryState::new(&name(), 1, None, &budget).unwrap();
        let e = SharedMemoryState::new(&name(), 1, None, &budget).unwrap();
        let f = SharedMemoryState::new(&name(), 1, None, &budget).unwrap_err();
        assert!(
            matches!(f, ManagerError::LimitReached { max: 3, .. }),
            "{f:?}"
        );
        assert_eq!(budget.blocks(), 3, "a refusal takes nothing");
        drop((c, d, e));
        assert_eq!((budget.used(), budget.blocks()), (0, 0));
    }

    /// Until the actor has stopped, or after a bounded number of turns.
    async fn stopped(object: &crate::object::ObjectHandle) -> bool {
        for _ in 0..10_000 {
            if !object.mailbox.connected() {
                return true;
            }
            tokio::task::yield_now().await;
        }
        false
    }

    #[actix::test]
    async fn a_removed_block_lives_until_its_last_holder_has_gone() {
        let spec = ObjectSpec::SharedMemory {
            size: 4096,
            element: None,
        };
        let (harness, block) = Harness::start(spec).await;
        let mut one = Conn::new(1);
        let mut two = Conn::new(2);
        let map = || ObjectRequest::SharedMemory(SharedMemoryRequest::Map);
        let unmap = || ObjectRequest::SharedMemory(SharedMemoryRequest::Unmap);
        for conn in [&mut one, &mut two] {
            let id = conn.send(&block, map()).await;
            assert!(matches!(
                conn.later(id).await,
                Ok(Reply::Mapping { size: 4096, .. })
            ));
        }
        harness.remove("t").await;
        assert!(block.mailbox.connected(), "removed while mapped: it stays");
        // Only unmaps are served now.
        let id = one.send(&block, map()).await;
        assert!(matches!(
            one.later(id).await,
            Err(ManagerError::ObjectGone { .. })
        ));
        let id = one.send(&block, unmap()).await;
        assert_eq!(one.later(id).await, Ok(Reply::Done));
        assert!(block.mailbox.connected(), "the second holder still maps it");
        // The second holder's connection ends without a word (its writer
        // stops, as when its process is killed): the block is freed.
        drop(two);
        assert!(stopped(&block).await, "the block outlived its last holder");
    }

    #[actix::test]
    async fn an_untyped_block_takes_its_first_checked_element_type() {
        let spec = ObjectSpec::SharedMemory {
            size: 64,
            element: None,
        };
        let (_harness, block) = Harness::start(spec).await;
        let mut conn = Conn::new(1);
        let check = |element: Option<&str>| {
            ObjectRequest::SharedMemory(SharedMemoryRequest::Check {
                size: 64,
                element: element.map(str::to_owned),
            })
        };
        // A name over the bound is refused, and not recorded.
        let long = "x".repeat(manager_core::kind::MAX_ELEMENT_NAME + 1);
        let id = conn.send(&block, check(Some(&long))).await;
        assert!(matches!(
            conn.later(id).await,
            Err(ManagerError::BadRequest(_))
        ));
        let id = conn.send(&block, check(Some("f64"))).await;
        assert_eq!(conn.later(id).await, Ok(Reply::Done));
        let id = conn.send(&block, check(Some("f64"))).await;
        assert_eq!(conn.later(id).await, Ok(Reply::Done));
        let id = conn.send(&block, check(None)).await;
        assert_eq!(conn.later(id).await, Ok(Reply::Done));
        let id = conn.send(&block, check(Some("u64"))).await;
        let Err(ManagerError::WrongType {
            stored, requested, ..
        }) = conn.later(id).await
        else {
            panic!("a u64 view of an f64 block was allowed");
        };
        assert_eq!((stored.as_str(), requested.as_str()), ("f64", "u64"));
    }

    /// Every call of this kind is answered in its `calls!` table's reply
    /// type ([`ask`](crate::objects::testing::ask)).
    #[actix::test]
    async fn calls_reply_their_types() {
        use manager_core::ObjectSpec;
        use manager_core::request::SharedMemoryRequest;

        use crate::objects::testing::{Conn, Harness, ask};

        let spec = ObjectSpec::SharedMemory {
            size: 4096,
            element: None,
        };
        let (_h, o) = Harness::start(spec).await;
        let c = &mut Conn::new(1);
        assert_eq!(ask(c, &o, SharedMemoryRequest::size()).await, 4096);
        ask(c, &o, SharedMemoryRequest::check(4096, None)).await;
        let mapped = ask(c, &o, SharedMemoryRequest::map()).await;
        assert_eq!(mapped.size, 4096);
        assert!(mapped.fd.is_some(), "the descriptor rides beside the reply");
        ask(c, &o, SharedMemoryRequest::unmap()).await;
    }
}
