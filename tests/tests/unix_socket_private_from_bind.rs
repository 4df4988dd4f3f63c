//! The Unix socket a manager listens on is owner-only (mode 0600) from the
//! moment `bind` creates it, not chmod'ed afterwards, so at no moment can
//! another user connect to it.
//!
//! Shown with inotify on the socket's directory: the file is created and
//! its attributes never change afterwards (a chmod would be an `IN_ATTRIB`
//! event), and its mode is 0600, so it was 0600 from the start; also when
//! the server runs with umask 000, which would leave a socket made the
//! ordinary way open to everyone until the chmod.

mod server_support;

use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use anyhow::Context;
use manager::{AuthKey, Manager, blocking};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use server_support::{Proc, server_with_key};
use tests::DEADLINE;

/// The socket's name in its directory.
const SOCKET: &str = "manager.sock";

/// An inotify watch on one directory, for file creations and attribute
/// changes in it.
struct DirWatch(OwnedFd);

impl DirWatch {
    fn new(dir: &Path) -> anyhow::Result<Self> {
        let fd = inotify::init(CreateFlags::NONBLOCK | CreateFlags::CLOEXEC)?;
        inotify::add_watch(&fd, dir, WatchFlags::CREATE | WatchFlags::ATTRIB)?;
        Ok(DirWatch(fd))
    }

    /// The events about the file `name` queued so far, in order. Every
    /// event the kernel raised before this call is queued already: it
    /// queues them in the system call that causes them.
    fn events_for(&self, name: &str) -> anyhow::Result<Vec<ReadFlags>> {
        let mut buf = [MaybeUninit::uninit(); 4096];
        let mut reader = inotify::Reader::new(&self.0, &mut buf);
        let mut events = Vec::new();
        loop {
            match reader.next() {
                Ok(event) => {
                    if event
                        .file_name()
                        .is_some_and(|n| n.to_bytes() == name.as_bytes())
                    {
                        events.push(event.events());
                    }
                }
                Err(rustix::io::Errno::AGAIN) => return Ok(events),
                Err(e) => return Err(e).context("read inotify events"),
            }
        }
    }
}

/// Asserts that `socket` was created once, never changed, and is 0600.
fn assert_private_from_creation(watch: &DirWatch, socket: &Path) -> anyhow::Result<()> {
    let events = watch.events_for(SOCKET)?;
    assert_eq!(
        events,
        [ReadFlags::CREATE],
        "the socket's attributes changed after bind created it"
    );
    let mode = std::fs::metadata(socket)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "socket mode {mode:o}");
    Ok(())
}

#[test]
fn an_embedded_manager_binds_its_socket_owner_only() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join(SOCKET);
    let watch = DirWatch::new(dir.path())?;
    let manager = Manager::builder().unix(&socket).start()?;
    assert_private_from_creation(&watch, &socket)?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    client.namespace("ns")?.set("x", &1_i64)?;
    manager.shutdown();
    assert!(!socket.exists(), "the socket file outlived the manager");
    Ok(())
}

#[test]
fn a_server_with_umask_000_still_binds_its_socket_owner_only() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join(SOCKET);
    let watch = DirWatch::new(dir.path())?;
    let key = AuthKey::random()?;
    let server = server_with_key(&["--unix", socket.to_str().expect("utf-8 temp path")], &key);
    // The umask is per process: the shell sets it for the server it
    // becomes, never for this test process.
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg(r#"umask 000 && exec "$0" "$@""#)
        .arg(server.get_program())
        .args(server.get_args());
    for (name, value) in server.get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    let (mut server, address) = Proc::start_server(command)?;
    assert_private_from_creation(&watch, &socket)?;
    // The owner can still connect.
    let client = blocking::Client::connect(&address, &key)?.with_timeout(DEADLINE);
    client.namespace("ns")?.set("x", &1_i64)?;
    server.signal(libc::SIGTERM)?;
    let (status, stderr) = server.wait()?;
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
    assert!(!socket.exists(), "the socket file outlived the server");
    Ok(())
}
