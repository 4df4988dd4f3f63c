//! Linux-specific process control, kept in one place.
//!
//! Workers ask the kernel to kill them when their parent dies
//! (`PR_SET_PDEATHSIG`), so no worker outlives the app that launched it, even
//! when that app is killed with SIGKILL. On other systems this is a no-op.

#![allow(unsafe_code)]

use std::process::Command;

/// Arranges for the process `command` starts to get SIGKILL when the thread
/// that spawned it exits (for the main thread: when the app exits).
#[cfg(target_os = "linux")]
pub(crate) fn kill_when_parent_dies(command: &mut Command) {
    use std::os::unix::process::CommandExt;

    let parent = std::process::id();
    // SAFETY: the closure runs in the child between fork and exec and only
    // calls the async-signal-safe functions prctl and getppid.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() as u32 != parent {
                return Err(std::io::Error::other("the launching process has exited"));
            }
            Ok(())
        });
    }
}

/// Elsewhere workers are not tied to their parent's life.
#[cfg(not(target_os = "linux"))]
pub(crate) fn kill_when_parent_dies(_command: &mut Command) {}
