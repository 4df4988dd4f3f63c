//! What this crate needs from the operating system beyond std: naming a
//! thread that someone else (actix) created, and the memfd behind a shared
//! memory block. Linux only, like the rest of the manager.

use std::os::fd::OwnedFd;

/// Names the calling thread `name` as the kernel shows it (`top -H`,
/// `/proc/<pid>/task/<tid>/comm`, profilers), cut to the kernel's 15
/// bytes. A failure only costs the name, so it is ignored.
pub(crate) fn name_this_thread(name: &str) {
    let mut bytes: Vec<u8> = name.bytes().filter(|&b| b != 0).take(15).collect();
    bytes.push(0);
    if let Ok(name) = std::ffi::CStr::from_bytes_with_nul(&bytes) {
        let _ = rustix::thread::set_name(name);
    }
}

/// A shared memory block: a memfd of `size` zero bytes, close-on-exec,
/// sealed so that its size never changes. `label` shows in
/// `/proc/PID/fd` as `memfd:LABEL (deleted)` (cut to the kernel's 249
/// bytes).
///
/// # Errors
///
/// What failed, in words, with the OS's reason.
#[cfg(target_os = "linux")]
pub(crate) fn memfd_block(label: &str, size: u64) -> Result<OwnedFd, String> {
    use rustix::fs::{MemfdFlags, SealFlags, fcntl_add_seals, ftruncate, memfd_create};

    let mut cut = label.len().min(249);
    while !label.is_char_boundary(cut) {
        cut -= 1;
    }
    let fd = memfd_create(
        &label[..cut],
        MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
    )
    .map_err(|e| format!("memfd_create: {e}"))?;
    ftruncate(&fd, size).map_err(|e| format!("cannot make it {size} bytes: {e}"))?;
    fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)
        .map_err(|e| format!("cannot seal its size: {e}"))?;
    Ok(fd)
}

/// Shared memory blocks are memfds: elsewhere, creating one fails.
#[cfg(not(target_os = "linux"))]
pub(crate) fn memfd_block(_label: &str, _size: u64) -> Result<OwnedFd, String> {
    Err("shared memory blocks need Linux (memfd)".to_owned())
}
