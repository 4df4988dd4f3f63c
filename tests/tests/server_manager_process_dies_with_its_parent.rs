//! The child of a `ManagerProcess` does not outlive the app that started
//! it (Python's stays, orphaned): when the app is killed with SIGKILL, the
//! manager process stops, and stops cleanly, removing its socket and its
//! private directory.

mod server_support;

use std::path::PathBuf;

use tests::{SHARED, connect, process_is_dead, start_manager, wait_until, worker_program};

#[test]
fn manager_process_dies_when_its_parent_is_killed() -> anyhow::Result<()> {
    // The "app" is a worker of this test's own manager, so that it can
    // publish its manager process's pid and socket.
    let manager = start_manager()?;
    let ns = connect(&manager)?.namespace(SHARED)?;
    let mut app =
        manager
            .launcher()
            .spawn_program(worker_program!(), "start_manager_process", &())?;
    wait_until("the app has started its manager process", || {
        Ok(ns.contains("manager_pid")?)
    })?;
    let pid: u32 = ns.get("manager_pid")?;
    let _reaper = KillIfAlive(pid);
    let socket = PathBuf::from(ns.get::<String>("manager_socket")?);
    assert!(!process_is_dead(pid), "the manager process is running");
    assert!(socket.exists());

    app.kill()?;
    wait_until("the manager process has died with its parent", || {
        Ok(process_is_dead(pid))
    })?;
    assert!(!socket.exists(), "the socket outlived the manager process");
    let dir = socket.parent().expect("socket has a directory");
    assert!(!dir.exists(), "the private directory outlived it");
    Ok(())
}

/// Kills the manager process if the test fails while it still runs, so a
/// broken parent-death signal fails the test without leaving it behind.
struct KillIfAlive(u32);

impl Drop for KillIfAlive {
    fn drop(&mut self) {
        if !process_is_dead(self.0) {
            let _ = server_support::send_signal(self.0, libc::SIGKILL);
        }
    }
}
