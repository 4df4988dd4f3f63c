//! [`Region`]: a shared memory block mapped into this process, and every
//! access to its bytes. All the unsafe code of shared memory is here.
//!
//! # What access means
//!
//! Other processes may write a block at any moment, so this process never
//! holds a Rust reference to its bytes in the safe API: reads and writes
//! are copies through raw pointers ([`Region::read`], [`Region::write`]),
//! and counters are atomics ([`Region::atomic_u64s`], whose concurrent use
//! by other processes is exactly what atomics allow). A copy made while
//! another process writes the same bytes may see part of that write (a
//! torn value): the block has no locking of its own. The slices of
//! [`Region::bytes`] and [`Region::bytes_mut`] are `unsafe` for that
//! reason: their caller promises that nobody writes (or, for the mutable
//! one, touches) those bytes while the slice lives.

use std::io;
use std::os::fd::BorrowedFd;
use std::ptr::NonNull;
use std::sync::atomic::AtomicU64;

/// A block mapped shared, read and write, for as long as this lives.
#[derive(Debug)]
pub(crate) struct Region {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: a `Region` owns its mapping, which no other value unmaps; every
// access through a shared `&Region` is a raw-pointer copy or an atomic
// (see the module docs), which is as sound from several threads as from
// several processes.
unsafe impl Send for Region {}
// SAFETY: as for `Send`.
unsafe impl Sync for Region {}

impl Region {
    /// Maps the `len` bytes of the block `fd`, after checking that the
    /// block is at least that long and sealed against shrinking (so no
    /// holder can cut it short under this mapping, which would make a read
    /// past the new end kill this process with SIGBUS).
    ///
    /// # Errors
    ///
    /// The OS's; `InvalidData` for a block shorter than `len` or not
    /// sealed.
    pub(crate) fn map(fd: BorrowedFd<'_>, len: usize) -> io::Result<Region> {
        use rustix::fs::{SealFlags, fcntl_get_seals, fstat};
        use rustix::mm::{MapFlags, ProtFlags, mmap};

        if len == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the block is empty",
            ));
        }
        let seals = fcntl_get_seals(fd)?;
        if !seals.contains(SealFlags::SHRINK) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "the block is not sealed against shrinking",
            ));
        }
        let size = fstat(fd)?.st_size;
        if u64::try_from(size).unwrap_or(0) < len as u64 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the block is {size} bytes, not the {len} announced"),
            ));
        }
        // SAFETY: a new mapping at an address the kernel chooses, so no
        // memory of this process is replaced; the block is at least `len`
        // bytes and cannot shrink, so every byte of the mapping stays
        // backed for its whole life.
        let ptr = unsafe {
            mmap(
                std::ptr::null_mut(),
                len,
                ProtFlags::READ | ProtFlags::WRITE,
                MapFlags::SHARED,
                fd,
                0,
            )?
        };
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null address"))?;
        Ok(Region { ptr, len })
    }

    /// Its length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Where it starts in this process (page-aligned).
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// Panics unless `offset..offset + n` lies in the region.
    fn check(&self, offset: usize, n: usize) {
        let end = offset.checked_add(n);
        assert!(
            end.is_some_and(|end| end <= self.len),
            "bytes {offset}..{} are out of range for a shared memory block of {} bytes",
            offset.saturating_add(n),
            self.len
        );
    }

    /// Copies `into.len()` bytes from `offset` into `into`.
    ///
    /// # Panics
    ///
    /// If the bytes are not all in the region.
    pub(crate) fn read(&self, offset: usize, into: &mut [u8]) {
        self.check(offset, into.len());
        // SAFETY: the source lies in the mapping (checked above), which
        // lives as long as `self`; `into` is this process's own memory, so
        // the two do not overlap. Another process may write the source
        // meanwhile: the copy then holds some mix of old and new bytes,
        // each a valid `u8`.
        unsafe {
            std::ptr::copy_nonoverlapping(self.as_ptr().add(offset), into.as_mut_ptr(), into.len());
        }
    }

    /// Copies `from` into the region at `offset`.
    ///
    /// # Panics
    ///
    /// If the bytes are not all in the region.
    pub(crate) fn write(&self, offset: usize, from: &[u8]) {
        self.check(offset, from.len());
        // SAFETY: the destination lies in the mapping (checked above),
        // which is writable and lives as long as `self`; `from` is this
        // process's own memory (a slice cannot point into the mapping
        // through the safe API), so they do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(from.as_ptr(), self.as_ptr().add(offset), from.len());
        }
    }

    /// Sets `n` bytes from `offset` to `byte`.
    ///
    /// # Panics
    ///
    /// If the bytes are not all in the region.
    pub(crate) fn fill(&self, offset: usize, n: usize, byte: u8) {
        self.check(offset, n);
        // SAFETY: the bytes lie in the writable mapping (checked above).
        unsafe {
            std::ptr::write_bytes(self.as_ptr().add(offset), byte, n);
        }
    }

    /// The region as `len / 8` atomic 64-bit integers.
    pub(crate) fn atomic_u64s(&self) -> &[AtomicU64] {
        // SAFETY: the mapping is page-aligned, so 8-aligned, and holds at
        // least `len / 8` whole `u64`s; `AtomicU64` has the size and
        // alignment of `u64` and no invalid bit patterns; atomics may be
        // read and written concurrently by any number of threads and
        // processes, and the slice lives no longer than the mapping.
        unsafe { std::slice::from_raw_parts(self.as_ptr().cast::<AtomicU64>(), self.len / 8) }
    }

    /// The region as a byte slice.
    ///
    /// # Safety
    ///
    /// While the slice lives, no process (this one included) may write
    /// the block.
    pub(crate) unsafe fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes that live as long as
        // `self`; the caller promises nobody writes them meanwhile.
        unsafe { std::slice::from_raw_parts(self.as_ptr(), self.len) }
    }

    /// The region as a mutable byte slice.
    ///
    /// # Safety
    ///
    /// While the slice lives, no process (this one included, through any
    /// other view) may read or write the block.
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn bytes_mut(&self) -> &mut [u8] {
        // SAFETY: the mapping is `len` writable bytes that live as long as
        // `self`; the caller promises the slice is the only access.
        unsafe { std::slice::from_raw_parts_mut(self.as_ptr(), self.len) }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: the mapping is this value's alone and nothing borrows
        // it any more (every borrow is tied to `&self`).
        if let Err(e) = unsafe { rustix::mm::munmap(self.as_ptr().cast(), self.len) } {
            tracing::warn!(error = %e, "munmap of a shared memory block failed");
        }
    }
}

/// The `unsafe` slices of the public views, here with the rest of the
/// unsafe code.
impl crate::shared_memory::Mapping {
    /// The block as a byte slice, without a copy.
    ///
    /// # Safety
    ///
    /// While the slice lives, no process (this one included, through
    /// another mapping or view) may write the block: hold the lock its
    /// writers take. See
    /// [`crate::shared_memory`](crate::shared_memory#what-unsafe-slices-mean).
    pub unsafe fn as_slice(&self) -> &[u8] {
        // SAFETY: the caller's promise is the one `Region::bytes` needs.
        unsafe { self.region().bytes() }
    }

    /// The block as a mutable byte slice, without a copy.
    ///
    /// # Safety
    ///
    /// While the slice lives, no process (this one included, through
    /// another mapping or view) may read or write the block.
    pub unsafe fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: the caller's promise is the one `Region::bytes_mut`
        // needs; `&mut self` keeps this process's other uses of this
        // mapping away meanwhile.
        unsafe { self.region().bytes_mut() }
    }
}

impl<T: bytemuck::Pod> crate::shared_memory::SharedArray<T> {
    /// The array as a slice of `T`, without a copy.
    ///
    /// # Safety
    ///
    /// While the slice lives, no process (this one included) may write
    /// the block: see
    /// [`crate::shared_memory`](crate::shared_memory#what-unsafe-slices-mean).
    pub unsafe fn as_slice(&self) -> &[T] {
        // SAFETY: the caller's promise is `Mapping::as_slice`'s; the bytes
        // are a whole number of `T`, aligned (the mapping is page-aligned
        // and `T` needs at most a page, as `from_mapping` checked), and
        // every bit pattern is a `T`.
        bytemuck::cast_slice(unsafe { self.mapping().as_slice() })
    }

    /// The array as a mutable slice of `T`, without a copy.
    ///
    /// # Safety
    ///
    /// While the slice lives, no process (this one included) may read or
    /// write the block through anything else.
    pub unsafe fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: as for `as_slice`, with `Mapping::as_mut_slice`'s
        // promise.
        bytemuck::cast_slice_mut(unsafe { self.mapping().region().bytes_mut() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(len: u64, seal: bool) -> std::os::fd::OwnedFd {
        use rustix::fs::{MemfdFlags, SealFlags, fcntl_add_seals, ftruncate, memfd_create};
        let fd = memfd_create("test", MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING).unwrap();
        ftruncate(&fd, len).unwrap();
        if seal {
            fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW).unwrap();
        }
        fd
    }

    #[test]
    fn two_mappings_see_each_others_bytes() {
        use std::os::fd::AsFd;
        let fd = block(4096, true);
        let a = Region::map(fd.as_fd(), 4096).unwrap();
        let b = Region::map(fd.as_fd(), 4096).unwrap();
        a.write(10, b"hello");
        let mut got = [0; 5];
        b.read(10, &mut got);
        assert_eq!(&got, b"hello");
        b.atomic_u64s()[3].fetch_add(7, std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            a.atomic_u64s()[3].load(std::sync::atomic::Ordering::SeqCst),
            7
        );
    }

    #[test]
    fn an_unsealed_or_short_block_is_refused() {
        use std::os::fd::AsFd;
        let unsealed = block(4096, false);
        assert!(Region::map(unsealed.as_fd(), 4096).is_err());
        let short = block(100, true);
        assert!(Region::map(short.as_fd(), 4096).is_err());
    }

    #[test]
    #[should_panic(expected = "out of range")]
    fn a_read_past_the_end_panics() {
        use std::os::fd::AsFd;
        let fd = block(4096, true);
        let region = Region::map(fd.as_fd(), 4096).unwrap();
        region.read(4090, &mut [0; 10]);
    }
}
