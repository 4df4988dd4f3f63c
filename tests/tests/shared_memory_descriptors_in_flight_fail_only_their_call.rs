//! Linux bounds the descriptors a user has in flight over Unix sockets
//! (sent, not yet received) by the sender's `RLIMIT_NOFILE`, unless it has
//! `CAP_SYS_RESOURCE`: past it `sendmsg` fails with `ETOOMANYREFS`. Every
//! mapping the manager hands over is one in flight until its client reads
//! it, so a client that asks for mappings and never reads its socket holds
//! the manager's whole allowance. Another client's `map` may then fail,
//! with a clear error; its connection must not be closed, and it maps
//! again once the hoarder has gone.
//!
//! The manager here is a stand-alone server process with a small
//! descriptor limit, and without root's capabilities (as most managers
//! run), and its own caps lifted: the kernel's bound is reached with few
//! requests. (With the default caps the manager's own bound is reached
//! first: see `shared_memory_unread_descriptors_hold_up_only_their_connection`.)

mod server_support;

use std::os::unix::process::CommandExt;

use manager::{AuthKey, Error, ManagerError, blocking};
use manager_core::request::{ObjectRequest, SharedMemoryRequest};
use server_support::{Proc, server_with_key};
use tests::raw::RawConnection;
use tests::{DEADLINE, wait_until};

/// The server's descriptor limit: room for its own, and few in flight.
const NOFILE: libc::rlim_t = 96;

/// More mappings than [`NOFILE`] allows in flight, and fewer than one
/// socket's buffer holds.
const HOARDED: usize = 160;

#[test]
fn a_client_that_hoards_descriptors_fails_only_others_calls() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    // The server may drop to `nobody`: it must be able to bind in `dir`.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )?;
    let socket = dir.path().join("manager.sock");
    let key = AuthKey::random()?;
    // The manager's own caps (per connection and over all) are lifted
    // past the kernel's, so the kernel's is the one reached.
    let mut command = server_with_key(
        &[
            "--unix",
            socket.to_str().expect("utf-8 path"),
            "--max-descriptors-unread",
            "100000",
            "--max-descriptors-in-flight",
            "100000",
        ],
        &key,
    );
    with_few_descriptors_as_a_user(&mut command);
    let (_server, address) = Proc::start_server(command)?;

    let client = blocking::Client::connect(&address, &key)?.with_timeout(DEADLINE);
    let block = client.shared_memory("frame", 4096)?;
    block.map()?.write(0, b"before");

    // A client asks for many mappings and reads none of them.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let hoarder = runtime.block_on(async {
        let mut raw = RawConnection::open(&address, &key).await?;
        for _ in 0..HOARDED {
            raw.send(
                block.id(),
                ObjectRequest::SharedMemory(SharedMemoryRequest::Map),
            )
            .await?;
        }
        anyhow::Ok(raw)
    })?;
    // Once its replies hold the manager's allowance, another client's
    // mapping is refused with a clear error (until then it is made); the
    // connection of that client, which reads its replies, goes on serving.
    wait_until(
        "a mapping is refused while descriptors are hoarded",
        || match block.map() {
            Ok(mapping) => {
                assert_eq!(mapping.to_vec(0..6), b"before");
                Ok(false)
            }
            Err(Error::Manager(ManagerError::LimitReached { what, .. }))
                if what.contains("descriptors in flight") =>
            {
                Ok(true)
            }
            Err(e) => Err(anyhow::anyhow!(
                "a client that reads its replies lost its connection: {e}"
            )),
        },
    )?;
    assert_eq!(block.size()?, 4096);

    // Once the hoarder has gone, its descriptors are no longer in flight
    // and mappings are handed over again.
    drop(hoarder);
    wait_until("a mapping is handed over again", || match block.map() {
        Ok(mapping) => Ok(mapping.to_vec(0..6) == b"before"),
        Err(Error::Manager(_)) => Ok(false),
        Err(e) => Err(e.into()),
    })?;
    Ok(())
}

/// Runs `command` with [`NOFILE`] descriptors at most and, if this is
/// root, as the user `nobody` (root's capabilities lift the kernel's
/// bound on descriptors in flight).
#[allow(unsafe_code)]
fn with_few_descriptors_as_a_user(command: &mut std::process::Command) {
    // SAFETY: only async-signal-safe calls between fork and exec, on
    // memory of the child's own.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: NOFILE,
                rlim_max: NOFILE,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::geteuid() == 0
                && (libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(65534) != 0
                    || libc::setuid(65534) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
