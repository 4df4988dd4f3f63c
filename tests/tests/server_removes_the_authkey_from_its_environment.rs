//! A manager server removes the authkey's variable from its environment
//! once it has read the key, so no process it starts inherits the key:
//! the stand-alone server (`--authkey-env`) and the child of a
//! `ManagerProcess` (`MANAGER_AUTHKEY`) alike.
//!
//! `/proc/PID/environ` cannot show this: it is the environment the process
//! started with, whatever it changed since. So the server itself is asked,
//! through a custom object (`EnvProbe`, application code running in the
//! manager) that reads its process's environment and runs `env` as a child.
//! A variable the server does not read is the control: it stays.

mod server_support;

use manager::launcher::{ENV_AUTHKEY, ENV_ENTRY};
use manager::{AuthKey, ManagerProcess, blocking};
use server_support::{KEY_VAR, Proc, server_with_key};
use tests::custom::{EnvProbe, EnvSeen};
use tests::{DEADLINE, worker_program};

const GONE: EnvSeen = EnvSeen {
    by_manager: false,
    by_child: false,
};

const KEPT: EnvSeen = EnvSeen {
    by_manager: true,
    by_child: true,
};

/// What the manager `client` is connected to sees of the variable `name`.
fn seen(client: &blocking::Client, name: &str) -> anyhow::Result<EnvSeen> {
    let probe = client.custom::<EnvProbe>("env", &())?;
    probe.call(name.to_owned())?.map_err(anyhow::Error::msg)
}

#[test]
fn the_stand_alone_server_forgets_its_authkey_variable() -> anyhow::Result<()> {
    let key = AuthKey::random()?;
    // `server_command` sets RUST_LOG for the server, which does not remove it.
    let (mut server, address) =
        Proc::start_server(server_with_key(&["--tcp", "127.0.0.1:0"], &key))?;
    let client = blocking::Client::connect(&address, &key)?.with_timeout(DEADLINE);
    assert_eq!(seen(&client, KEY_VAR)?, GONE, "{KEY_VAR}");
    assert_eq!(seen(&client, "RUST_LOG")?, KEPT, "the control, RUST_LOG");
    drop(client);
    server.signal(libc::SIGTERM)?;
    let (status, stderr) = server.wait()?;
    assert_eq!(status.code(), Some(0), "{status}; stderr:\n{stderr}");
    assert!(!stderr.contains("WARN"), "{stderr}");
    Ok(())
}

#[test]
fn a_manager_process_forgets_its_authkey_variable() -> anyhow::Result<()> {
    let manager = ManagerProcess::builder()
        .program(worker_program!())
        .start()?;
    let client = manager.connect()?.with_timeout(DEADLINE);
    assert_eq!(seen(&client, ENV_AUTHKEY)?, GONE, "{ENV_AUTHKEY}");
    assert_eq!(seen(&client, ENV_ENTRY)?, KEPT, "the control, {ENV_ENTRY}");
    drop(client);
    manager.shutdown()?;
    Ok(())
}
