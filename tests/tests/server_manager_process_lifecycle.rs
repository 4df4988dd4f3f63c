//! `ManagerProcess`: the manager in a child process of its own. It starts
//! and listens before `start` returns, serves the app and the workers it
//! launches, and `shutdown` (or drop) stops it cleanly and removes its
//! socket; a child that never listens, or cannot bind, is a clear error
//! and is not left behind; a child killed outright leaves no socket
//! directory either (the parent removes it).

mod server_support;

use manager::manager_process::ManagerProcessError;
use manager::{Address, AuthKey, Error, ManagerProcess};
use tests::{Add, DEADLINE, SHARED, process_is_dead, worker_program};

#[test]
fn serves_the_app_and_its_workers_then_stops_cleanly() -> anyhow::Result<()> {
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .start()?;
    assert_ne!(manager.pid(), std::process::id());
    let Address::Unix(socket) = manager.address().clone() else {
        unreachable!("a private Unix socket by default")
    };
    assert!(socket.exists());
    let dir = socket.parent().expect("socket has a directory").to_owned();

    let ns = manager
        .connect()?
        .with_timeout(DEADLINE)
        .namespace(SHARED)?;
    ns.set("n", &10_i64)?;
    let launcher = manager.launcher();
    let mut workers = (0..2)
        .map(|_| {
            let args = Add {
                attribute: "n".into(),
                times: 50,
            };
            launcher.spawn_program(worker_program!(), "add", &args)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for worker in &mut workers {
        worker.join_timeout(DEADLINE)?;
    }
    assert_eq!(ns.get::<i64>("n")?, 110);

    manager.shutdown()?;
    assert!(!socket.exists(), "the socket outlived the manager process");
    assert!(!dir.exists(), "the private directory outlived it");
    let err = ns.get::<i64>("n").unwrap_err();
    assert!(matches!(err, Error::ManagerGone { .. }), "{err:?}");
    Ok(())
}

#[test]
fn a_killed_manager_process_leaves_no_socket_directory() -> anyhow::Result<()> {
    for stop in ["shutdown", "drop"] {
        let manager = ManagerProcess::builder()
            .program(worker_program!())
            .start()?;
        let Address::Unix(socket) = manager.address().clone() else {
            unreachable!("a private Unix socket by default")
        };
        let dir = socket.parent().expect("socket has a directory").to_owned();
        // SIGKILL: the child cannot remove anything itself.
        server_support::send_signal(manager.pid(), libc::SIGKILL)?;
        tests::wait_until("the manager process is dead", || {
            Ok(process_is_dead(manager.pid()))
        })?;
        assert!(socket.exists(), "a killed child removed nothing");
        if stop == "shutdown" {
            let err = manager.shutdown().unwrap_err();
            assert!(matches!(err, ManagerProcessError::Ended { .. }), "{err:?}");
        } else {
            drop(manager);
        }
        assert!(
            !dir.exists(),
            "{stop}: the killed child's directory is left"
        );
    }
    Ok(())
}

#[test]
fn manager_server_runs_as_a_manager_process_with_a_given_address_and_key() -> anyhow::Result<()> {
    let key = AuthKey::random()?;
    let manager = ManagerProcess::builder()
        .program(env!("CARGO_BIN_EXE_test-manager-server"))
        .tcp("127.0.0.1:0".parse()?)
        .authkey(key.clone())
        .start()?;
    assert!(matches!(manager.address(), Address::Tcp(addr) if addr.port() != 0));
    assert_eq!(manager.authkey(), &key);
    let client = manager::blocking::Client::connect(manager.address(), &key)?;
    assert_eq!(client.with_timeout(DEADLINE).value("v", &1_i64)?.add(2)?, 3);
    let pid = manager.pid();
    drop(manager);
    // Drop stopped and reaped it.
    assert!(process_is_dead(pid), "pid {pid} still running after drop");
    Ok(())
}

#[test]
fn address_in_use_is_reported_by_start() -> anyhow::Result<()> {
    let first = ManagerProcess::builder()
        .program(worker_program!())
        .tcp("127.0.0.1:0".parse()?)
        .start()?;
    let Address::Tcp(addr) = *first.address() else {
        unreachable!()
    };
    let err = ManagerProcess::builder()
        .program(worker_program!())
        .tcp(addr)
        .start()
        .unwrap_err();
    assert!(matches!(err, ManagerProcessError::Failed { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&format!("bind tcp:{addr}: ")), "{message}");
    // The first is untouched.
    let ns = first.connect()?.with_timeout(DEADLINE).namespace("ns")?;
    assert_eq!(ns.add("n", 1)?, 1);
    first.shutdown()?;
    Ok(())
}

#[test]
fn a_program_that_never_listens_is_a_clear_error() -> anyhow::Result<()> {
    // `true` ignores the built-in entry and exits at once.
    let err = ManagerProcess::builder()
        .program("true")
        .start()
        .unwrap_err();
    assert!(
        matches!(err, ManagerProcessError::EndedEarly { .. }),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("ended before it listened"), "{message}");
    assert!(message.contains("Entries::run_if_worker"), "{message}");
    Ok(())
}
