//! What this crate needs from the operating system beyond std: naming a
//! thread that someone else (actix) created. Linux only, like the rest of
//! the manager.

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
