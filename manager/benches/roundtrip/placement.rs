//! Where the threads run: the placements, and pinning threads to CPUs.
//! Every call into the OS's affinity API is here.

use std::io;

/// Which CPUs the client and server threads run on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Placement {
    /// Wherever the scheduler puts them.
    None,
    /// Every thread on CPU 0.
    Same,
    /// Clients on CPU 0, the manager's thread and the echo threads on CPU 1.
    Split,
}

impl Placement {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Placement::None => "none",
            Placement::Same => "same",
            Placement::Split => "split",
        }
    }

    /// Where the clients run, of the CPUs this process may use.
    pub(crate) fn client_cpus(self, allowed: &[usize]) -> Vec<usize> {
        match self {
            Placement::None => allowed.to_vec(),
            Placement::Same | Placement::Split => vec![allowed[0]],
        }
    }

    /// Where the manager's thread and the echo threads run.
    pub(crate) fn server_cpus(self, allowed: &[usize]) -> Vec<usize> {
        match self {
            Placement::None => allowed.to_vec(),
            Placement::Same => vec![allowed[0]],
            Placement::Split => vec![allowed[1]],
        }
    }
}

/// The CPUs this process may run on.
// sched_getaffinity and sched_setaffinity have no safe wrappers in std.
#[allow(unsafe_code)]
pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; sched_getaffinity
    // writes at most size_of::<cpu_set_t>() bytes into it, and CPU_ISSET
    // reads inside it for every CPU below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect())
    }
}

/// Lets thread `tid` (0: the calling thread) run on `cpus` only. Threads
/// inherit this from the thread that spawns them.
#[allow(unsafe_code)]
pub(crate) fn set_affinity(tid: libc::pid_t, cpus: &[usize]) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; CPU_SET only
    // writes inside the set for a CPU below CPU_SETSIZE (checked), and
    // sched_setaffinity reads exactly size_of::<cpu_set_t>() bytes of it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            assert!(cpu < libc::CPU_SETSIZE as usize, "cpu {cpu} out of range");
            libc::CPU_SET(cpu, &mut set);
        }
        libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The ids of this process's threads whose name passes `name`.
pub(crate) fn threads_named(name: impl Fn(&str) -> bool) -> io::Result<Vec<libc::pid_t>> {
    let mut tids = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task")? {
        let entry = entry?;
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if name(comm.trim_end())
            && let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok())
        {
            tids.push(tid);
        }
    }
    Ok(tids)
}
