//! Shutting the manager down while clients are connected gives each a clear
//! "manager is gone" error, not a hang; the socket file goes away.

use manager::{Address, Error};
use tests::{DEADLINE, SHARED, connect, start_manager, wait_until, worker_program};

#[test]
fn connected_worker_sees_manager_gone() -> anyhow::Result<()> {
    let manager = start_manager()?;
    let ns = connect(&manager)?.namespace(SHARED)?;
    let mut worker =
        manager
            .launcher()
            .spawn_program(worker_program!(), "call_until_disconnected", &())?;
    let ready = format!("ready-{}", worker.pid());
    wait_until("the worker is connected", || Ok(ns.contains(&ready)?))?;

    let Address::Unix(socket) = manager.address().clone() else {
        unreachable!()
    };
    manager.shutdown();
    assert!(!socket.exists(), "the socket file outlived the manager");

    // The worker exits 0 only if its calls failed with ManagerGone.
    worker.join_timeout(DEADLINE)?;
    // So does the main process's own client.
    let err = ns.get::<i64>("calls").unwrap_err();
    assert!(matches!(err, Error::ManagerGone { .. }), "{err:?}");
    assert!(err.to_string().ends_with("is gone"), "{err}");
    Ok(())
}
