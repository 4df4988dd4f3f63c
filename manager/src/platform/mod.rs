//! Linux-specific process calls, kept in one place.
//!
//! Workers ask the kernel to kill them when their parent dies
//! (`PR_SET_PDEATHSIG`), so no worker outlives the app that launched it, even
//! when that app is killed with SIGKILL; a manager process asks for SIGTERM
//! instead, so it can remove its socket. On other systems workers are not
//! tied to their parent.
//!
//! A shared memory block is mapped and its bytes touched only through
//! [`Region`] (`mapped.rs`), which holds all the unsafe code of shared
//! memory.
//!
//! A process that is only a manager (the stand-alone server, a manager
//! process) tunes glibc's allocator to give freed memory back to the system
//! ([`give_memory_back`], [`trim_free_memory`]); an embedded manager leaves
//! its host's allocator alone.

#![allow(unsafe_code)]

use std::process::Command;

mod mapped;

pub(crate) use mapped::Region;

/// This process's effective user id: whom a directory it may delete must
/// belong to.
pub(crate) fn effective_uid() -> u32 {
    // SAFETY: geteuid takes nothing, cannot fail and touches no memory.
    unsafe { libc::geteuid() }
}

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

/// Sends SIGTERM to `pid`.
pub(crate) fn terminate(pid: u32) -> std::io::Result<()> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: kill takes two integers and touches no memory of ours.
    if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Turns the parent-death signal the launcher set (SIGKILL) into
/// SIGTERM, so the server can remove its socket when its app dies. The
/// switch is atomic: at no moment is the process without one.
#[cfg(target_os = "linux")]
#[cfg(feature = "manager")]
pub(crate) fn terminate_when_parent_dies() -> std::io::Result<()> {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes integers only and touches
    // no memory of ours.
    let rc = unsafe {
        libc::prctl(
            libc::PR_SET_PDEATHSIG,
            libc::SIGTERM as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Elsewhere the child is not tied to its parent's life.
#[cfg(not(target_os = "linux"))]
#[cfg(feature = "manager")]
pub(crate) fn terminate_when_parent_dies() -> std::io::Result<()> {
    Ok(())
}

/// Lets the process `command` starts inherit `fd` (which this process
/// opened close-on-exec): the flag is cleared in the child only, so no
/// other process this one starts meanwhile inherits it.
pub(crate) fn inherit_fd(command: &mut Command, fd: std::os::fd::RawFd) {
    use std::os::unix::process::CommandExt;

    // SAFETY: the closure runs in the child between fork and exec and only
    // calls the async-signal-safe function fcntl, on an fd number.
    unsafe {
        command.pre_exec(move || {
            if libc::fcntl(fd, libc::F_SETFD, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Makes reads of `fd` return at once when nothing is there.
pub(crate) fn set_nonblocking(fd: &impl std::os::fd::AsRawFd) -> std::io::Result<()> {
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl with F_GETFL/F_SETFL takes integers only and touches no
    // memory of ours; `fd` is open, borrowed from its owner.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// An fd that becomes readable when the child `pid` exits (a pidfd), to
/// wait for it without a thread; close-on-exec. `pid` must be a child this
/// process has not reaped yet, so the number still names it.
///
/// # Errors
///
/// The OS's, for example `ENOSYS` before Linux 5.3.
#[cfg(target_os = "linux")]
pub(crate) fn exit_fd(pid: u32) -> std::io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;

    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    // SAFETY: pidfd_open takes a pid and flags, touches no memory of ours,
    // and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let fd = std::os::fd::RawFd::try_from(fd).map_err(std::io::Error::other)?;
    // SAFETY: the kernel just opened `fd` for us; nothing else owns it.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// Elsewhere there is no such fd: waiters poll.
#[cfg(not(target_os = "linux"))]
pub(crate) fn exit_fd(_pid: u32) -> std::io::Result<std::os::fd::OwnedFd> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Waits at most `timeout` for `child` to end, blocking the thread: its
/// status, or `None` if it still runs then. On Linux the kernel wakes the
/// wait as the child exits (a pidfd); without one (another system, a
/// kernel before 5.3) it looks with a growing pause, 1 ms doubling up to
/// 20 ms.
///
/// # Errors
///
/// The OS's, from reading the child's status or waiting.
pub(crate) fn wait_child(
    child: &mut std::process::Child,
    timeout: std::time::Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    use std::os::fd::AsFd;
    use std::time::{Duration, Instant};

    if let Some(status) = child.try_wait()? {
        return Ok(Some(status));
    }
    let start = Instant::now();
    let deadline = start
        .checked_add(timeout)
        .unwrap_or(start + Duration::from_secs(86_400 * 365));
    // Opened after the first look, so it names our unreaped child.
    let exit = exit_fd(child.id()).ok();
    let mut pause = Duration::from_millis(1);
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        match &exit {
            Some(exit) => {
                wait_readable(exit.as_fd(), deadline - now)?;
            }
            None => {
                std::thread::sleep(pause.min(deadline - now));
                pause = (pause * 2).min(Duration::from_millis(20));
            }
        }
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
    }
}

/// Waits until `fd` is readable or `timeout` has passed, whichever is
/// first, blocking the thread. A signal that interrupts the wait ends it
/// early; callers look again.
fn wait_readable(
    fd: std::os::fd::BorrowedFd<'_>,
    timeout: std::time::Duration,
) -> std::io::Result<()> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};

    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    // A timeout too long for a `Timespec` waits as long as one can say.
    let timeout = Timespec::try_from(timeout).unwrap_or(Timespec {
        tv_sec: i64::MAX,
        tv_nsec: 0,
    });
    match poll(&mut fds, Some(&timeout)) {
        Ok(_) | Err(rustix::io::Errno::INTR) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// [`exit_fd`] of `pid`, registered with the current tokio runtime's
/// reactor: readable once the child has exited.
///
/// # Panics
///
/// Outside a tokio runtime, or in one without its IO driver.
pub(crate) fn exit_watch(
    pid: u32,
) -> std::io::Result<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>> {
    use tokio::io::Interest;
    use tokio::io::unix::AsyncFd;

    let fd = exit_fd(pid)?;
    // SAFETY: the `AsyncFd` owns the `OwnedFd`, which stays open and names
    // the same pidfd until it is dropped with the `AsyncFd`.
    let watch = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?;
    Ok(watch)
}

/// Marks the inherited fd number `fd` close-on-exec, so processes this one
/// starts do not inherit it. A wrong number is ignored.
pub(crate) fn close_on_exec(fd: std::os::fd::RawFd) {
    // SAFETY: fcntl with F_SETFD takes integers only; a bad fd is EBADF.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
}

/// Writes all of `bytes` to the inherited pipe `fd`. The fd is not taken
/// over: it is only written to, by number, so a wrong number is an error
/// (EBADF), never a write into memory of ours; and only if it is a pipe,
/// so a stale number that now names a file of this process is left alone.
pub(crate) fn write_to_pipe(fd: std::os::fd::RawFd, mut bytes: &[u8]) -> std::io::Result<()> {
    let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: fstat writes a `stat` into the buffer it is given, which is
    // large enough; it is read only if fstat succeeded.
    if unsafe { libc::fstat(fd, stat.as_mut_ptr()) } == -1 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fstat succeeded, so it filled the buffer.
    let mode = unsafe { stat.assume_init() }.st_mode;
    if mode & libc::S_IFMT != libc::S_IFIFO {
        return Err(std::io::Error::other("the report fd is not a pipe"));
    }
    while !bytes.is_empty() {
        // SAFETY: `bytes` is a live slice; write reads at most its length.
        let n = unsafe { libc::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        bytes = &bytes[n.unsigned_abs()..];
    }
    Ok(())
}

/// Removes the variable `name` from this process's environment, if this
/// process has no thread but the caller's; returns whether it did (also
/// `false` where that cannot be told). Processes started afterwards do not
/// inherit it. `/proc/PID/environ` still shows it: that is the environment
/// the process started with.
#[cfg(feature = "manager")]
pub(crate) fn remove_env_var_while_alone(name: &str) -> bool {
    if !is_single_threaded() {
        return false;
    }
    // SAFETY: changing the environment is unsound only while another
    // thread may read or write it; this process has no other thread, and
    // none can start but from this one, which is here.
    unsafe { std::env::remove_var(name) };
    true
}

/// Whether this process has one thread: `/proc/self/task` has an entry per
/// thread.
#[cfg(target_os = "linux")]
#[cfg(feature = "manager")]
fn is_single_threaded() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|threads| threads.take(2).count() == 1)
}

/// Elsewhere the threads are not counted: the answer is "not known".
#[cfg(not(target_os = "linux"))]
#[cfg(feature = "manager")]
fn is_single_threaded() -> bool {
    false
}

/// Blocks of this size or more are mapped on their own and unmapped when
/// freed (glibc's default start, kept fixed instead of growing with the
/// largest block freed so far).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[cfg(feature = "manager")]
const MMAP_THRESHOLD: libc::c_int = 128 * 1024;

/// Makes glibc give large blocks back to the system as soon as they are
/// freed: by default the threshold for a block of its own grows to the
/// largest block freed (up to 32 MiB), after which large values are carved
/// from the heap and stay there once freed.
///
/// Also turns glibc's fastbins off (`M_MXFAST` 0): freed small blocks then
/// merge with their neighbours as they are freed, rather than pile up
/// until a large block is freed and glibc merges all of them at once. With
/// 100,000 objects removed, that one merge held the manager's thread for
/// 150-250 ms. Small blocks are still recycled quickly by the per-thread
/// cache (tcache).
#[cfg(feature = "manager")]
pub(crate) fn give_memory_back() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only changes the allocator's parameters and takes
        // its own lock; it touches no memory of ours.
        let ok = unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD) };
        if ok != 1 {
            tracing::debug!("mallopt(M_MMAP_THRESHOLD) refused; freed memory may stay mapped");
        }
        // SAFETY: as above.
        let ok = unsafe { libc::mallopt(libc::M_MXFAST, 0) };
        if ok != 1 {
            tracing::debug!("mallopt(M_MXFAST) refused; freed small blocks merge in bulk");
        }
    }
}

/// Hands the free pages of the allocator's heaps back to the system (small
/// blocks freed in bulk, as when an attacker's objects are removed).
#[cfg(feature = "manager")]
pub(crate) fn trim_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: malloc_trim takes the allocator's locks itself and only
        // releases pages no block uses.
        unsafe { libc::malloc_trim(0) };
    }
}

#[cfg(all(test, feature = "manager"))]
mod tests {
    use super::*;

    #[test]
    fn the_environment_is_left_alone_while_another_thread_runs() {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let other = std::thread::spawn(move || {
            let _ = stopped.recv();
        });
        assert!(!is_single_threaded());
        assert!(!remove_env_var_while_alone("MANAGER_PLATFORM_TEST_UNSET"));
        drop(stop);
        other.join().expect("the other thread ends");
    }
}
