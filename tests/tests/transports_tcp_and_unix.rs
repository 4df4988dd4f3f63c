//! TCP works like the Unix socket when asked for; the default Unix socket
//! lives in a private directory with mode 0600; a taken address is a clear
//! error.

use std::os::unix::fs::PermissionsExt;

use manager::{Address, Manager, StartError};
use tests::{Add, SHARED, run_workers, worker_program};

#[test]
fn workers_use_a_tcp_manager() -> anyhow::Result<()> {
    let manager = Manager::builder().tcp("127.0.0.1:0".parse()?).start()?;
    assert!(matches!(manager.address(), Address::Tcp(addr) if addr.port() != 0));
    let args = Add {
        attribute: "n".into(),
        times: 100,
    };
    run_workers(&manager, worker_program!(), "add", vec![args; 2])?;
    assert_eq!(manager.connect()?.namespace(SHARED)?.get::<i64>("n")?, 200);
    Ok(())
}

#[test]
fn unix_socket_is_private() -> anyhow::Result<()> {
    let manager = Manager::start()?;
    let Address::Unix(path) = manager.address().clone() else {
        unreachable!()
    };
    let mode = std::fs::metadata(&path)?.permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "socket mode {mode:o}");
    let dir = path.parent().expect("socket has a directory");
    let dir_mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    assert_eq!(dir_mode, 0o700, "directory mode {dir_mode:o}");
    manager.shutdown();
    assert!(!dir.exists(), "the private directory outlived the manager");
    Ok(())
}

#[test]
fn address_in_use_is_a_clear_error() -> anyhow::Result<()> {
    let first = Manager::builder().tcp("127.0.0.1:0".parse()?).start()?;
    let Address::Tcp(addr) = *first.address() else {
        unreachable!()
    };
    let err = Manager::builder().tcp(addr).start().unwrap_err();
    assert!(matches!(err, StartError::Bind { .. }), "{err:?}");
    assert!(
        err.to_string().starts_with(&format!("bind tcp:{addr}: ")),
        "{err}"
    );
    Ok(())
}
