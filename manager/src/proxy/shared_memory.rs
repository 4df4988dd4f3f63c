//! [`SharedMemory`]: the proxy of a block of memory the manager owns and
//! worker processes map, like Python's `SharedMemoryManager().SharedMemory()`;
//! [`Client::shared_memory`] and [`Client::shared_array`], which find or
//! create one.
//!
//! What a mapping and its typed views are is in [`crate::shared_memory`].

use std::future::Future;
use std::os::fd::AsFd;

use manager_core::request::{RegistryRequest, SharedMemoryRequest};
use manager_core::{ObjectName, ObjectSpec};

use super::handle::Proxy;
use super::object::ObjectRef;
use crate::mode::{Async, Mode};
use crate::platform::Region;
use crate::shared_memory::{Mapping, ShareableList, SharedArray, Unmapper};
use crate::{Client, Error};

/// A handle on a shared memory block, like Python's
/// `SharedMemoryManager().SharedMemory(size)`: [`map`](SharedMemory::map)
/// it to read and write its bytes at memory speed, without the socket.
///
/// It has the methods every [`Proxy`] has as well: [`name`](Proxy::name),
/// [`id`](Proxy::id), [`kind`](Proxy::kind),
/// [`with_timeout`](Proxy::with_timeout) and [`share`](Proxy::share).
///
/// # Examples
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = manager::Manager::start()?;
/// let client = manager.connect()?;
/// let block = client.shared_memory("frame", 4096)?;
/// let mapping = block.map()?;
/// mapping.write(0, b"hello");
///
/// // Another mapping (in another process, typically) sees the bytes.
/// let other = client.shared_memory("frame", 4096)?.map()?;
/// assert_eq!(other.to_vec(0..5), b"hello");
/// # Ok(())
/// # }
/// ```
///
/// # Concurrency
///
/// A block has no locking of its own: see
/// [`crate::shared_memory`](crate::shared_memory#concurrency).
///
/// # What happens when a worker dies
///
/// Its mappings end with its connection; a block removed by name is freed
/// once its last holder has gone, and never before.
pub type SharedMemory<M = Async> = Proxy<marker::SharedMemory, M>;

kind_markers! {
    /// The kind of a [`SharedMemory`](super::SharedMemory) proxy: it sees
    /// shared memory blocks.
    SharedMemory => SharedMemory;
}

impl<M: Mode> SharedMemory<M> {
    /// The block's size in bytes.
    ///
    /// # Errors
    ///
    /// The errors of every call (see [`Client::call`](crate::Client::call)).
    pub fn size(&self) -> M::Answer<impl Future<Output = Result<usize, Error>>> {
        self.object
            .mode()
            .answer(async move { self.object.call_len(SharedMemoryRequest::size()).await })
    }

    /// Maps the block into this process. The manager counts this
    /// connection as a holder until the [`Mapping`] is dropped (or the
    /// process ends, however it ends).
    ///
    /// # Errors
    ///
    /// [`Error::SharedMemoryNeedsUnix`] if this client is connected over
    /// TCP (nothing is asked then), [`Error::Map`] if the block cannot be
    /// mapped, [`Error::Protocol`] if its descriptor did not come with the
    /// reply, `ObjectGone` if it was removed, and the errors of every call.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a mapping whose caller gave up is unmapped when its
    /// reply comes.
    pub fn map(&self) -> M::Answer<impl Future<Output = Result<Mapping, Error>>> {
        self.object
            .mode()
            .answer(async move { map(&self.object).await })
    }
}

/// Maps the block `object`.
pub(crate) async fn map<M: Mode>(object: &ObjectRef<M>) -> Result<Mapping, Error> {
    let connection = object.client().connection();
    if !connection.carries_descriptors() {
        return Err(Error::SharedMemoryNeedsUnix {
            what: object.what(),
            address: connection.address().clone(),
        });
    }
    let mapped = object.ask(SharedMemoryRequest::map()).await?;
    // From here the manager counts a holding: dropping this ends it.
    let unmapper = Unmapper::new(connection.clone(), object.id());
    let Some(fd) = mapped.fd.get() else {
        return Err(object.protocol_error("the block's descriptor did not come with its mapping"));
    };
    let len = usize::try_from(mapped.size).map_err(|_| Error::Map {
        what: object.what(),
        cause: std::io::Error::other(format!(
            "{} bytes do not fit this process's address space",
            mapped.size
        )),
    })?;
    let region = Region::map(fd.as_fd(), len).map_err(|cause| Error::Map {
        what: object.what(),
        cause,
    })?;
    // Our copy of the descriptor closes here; the mapping keeps the block.
    drop(mapped);
    Ok(Mapping::new(region, object.name().clone(), unmapper))
}

impl<M: Mode> Client<M> {
    /// Finds or creates the shared memory block `name` of `size` bytes
    /// (zero-filled when new).
    ///
    /// # Errors
    ///
    /// `WrongSize` if a block of that name has another size, `CreateFailed`
    /// for a size of 0, `LimitReached` for a size over the manager's
    /// per-block limit ([`Limits::max_shared_memory_block`](crate::Limits::max_shared_memory_block))
    /// or one that would take its blocks over their total
    /// ([`Limits::max_shared_memory`](crate::Limits::max_shared_memory)),
    /// and the errors of [`Client::object`].
    pub fn shared_memory(
        &self,
        name: &str,
        size: usize,
    ) -> M::Answer<impl Future<Output = Result<SharedMemory<M>, Error>>> {
        self.mode()
            .answer(async move { Ok(Proxy::new(self.block_in(name, size as u64, None).await?)) })
    }

    /// Finds or creates the shared memory block `name` as an array of
    /// `len` elements of `T` (zero-filled when new), and maps it: the
    /// typed view of [`Client::shared_memory`]'s `map`. The block records
    /// `T`'s type name, and a view of another element type is refused.
    ///
    /// # Errors
    ///
    /// `WrongType` if the block was made for another element type,
    /// `WrongSize` if it has another length, and the errors of
    /// [`Client::shared_memory`] and [`SharedMemory::map`].
    pub fn shared_array<T: bytemuck::Pod>(
        &self,
        name: &str,
        len: usize,
    ) -> M::Answer<impl Future<Output = Result<SharedArray<T>, Error>>> {
        self.mode().answer(async move {
            let size = (len as u64)
                .checked_mul(std::mem::size_of::<T>() as u64)
                .ok_or_else(|| Error::View {
                    what: format!("shared memory `{name}`"),
                    reason: format!(
                        "{len} elements of `{}` overflow a size in bytes",
                        std::any::type_name::<T>()
                    ),
                })?;
            let element = Some(std::any::type_name::<T>().to_owned());
            let object = self.block_in(name, size, element).await?;
            let mapping = map(&object).await?;
            SharedArray::from_mapping(mapping)
        })
    }

    /// Finds or creates the shareable list `name` of `len` slots of
    /// `slot_size` bytes each (empty when new), like Python's
    /// `SharedMemoryManager().ShareableList(..)`, and maps it.
    ///
    /// # Errors
    ///
    /// `WrongType` if the block `name` is not a list of that layout, and
    /// the errors of [`Client::shared_memory`] and [`SharedMemory::map`].
    pub fn shareable_list(
        &self,
        name: &str,
        len: usize,
        slot_size: usize,
    ) -> M::Answer<impl Future<Output = Result<ShareableList, Error>>> {
        self.mode().answer(async move {
            let size = ShareableList::block_size(len, slot_size).ok_or_else(|| Error::View {
                what: format!("shareable list `{name}`"),
                reason: format!("{len} slots of {slot_size} bytes overflow a size in bytes"),
            })?;
            let element = Some(ShareableList::element(len, slot_size));
            let object = self.block_in(name, size as u64, element).await?;
            ShareableList::open(map(&object).await?, len, slot_size)
        })
    }

    /// Finds or creates a block and checks the size (and element type) of
    /// one that was there.
    pub(crate) async fn block_in(
        &self,
        name: &str,
        size: u64,
        element: Option<String>,
    ) -> Result<ObjectRef<M>, Error> {
        let name = ObjectName::new(name)?;
        let spec = ObjectSpec::SharedMemory {
            size,
            element: element.clone(),
        };
        let info = self
            .ask_registry(RegistryRequest::create_or_get(name.into(), spec))
            .await?;
        let created = info.created;
        let object = ObjectRef::new(self.clone(), info);
        if !created {
            object
                .ask(SharedMemoryRequest::check(size, element))
                .await?;
        }
        Ok(object)
    }
}

/// This file's proxies in [`Blocking`](crate::mode::Blocking) mode, as
/// [`crate::blocking`] names them.
pub(crate) mod blocking {
    use crate::mode::Blocking;

    /// A shared memory block; see [`proxy::SharedMemory`](super::SharedMemory).
    pub type SharedMemory = super::SharedMemory<Blocking>;
}
