//! A launched copy whose main forgot `Entries::run_if_worker` cannot
//! escape the guards through `Launcher::command`: the command keeps the
//! worker's mark, so the copy it starts is refused by `Manager::start` too
//! and cannot launch more.
//!
//! This test binary's own main (the libtest harness) never calls
//! `run_if_worker`, so launched as a worker it is such a forgetful program.
//! Roles by environment: the test (nothing set); the launched copy
//! (MANAGER_WORKER_ENTRY set); the copy's copy (FORGETFUL_COPY_PROBE set).

use manager::launcher::{ENV_ADDRESS, ENV_AUTHKEY, ENV_ENTRY, Launcher};
use manager::{Address, AuthKey, Manager};
use tests::{DEADLINE, start_manager};

const PROBE: &str = "FORGETFUL_COPY_PROBE";
const STARTED_A_MANAGER: i32 = 42;

#[test]
fn a_forgetful_copy_cannot_escape_through_launcher_command() -> anyhow::Result<()> {
    if std::env::var(PROBE).is_ok() {
        // The copy's copy: what the forgetful main does first.
        std::process::exit(match Manager::start() {
            Ok(_) => STARTED_A_MANAGER,
            Err(_) => 0,
        });
    }
    if std::env::var(ENV_ENTRY).is_ok() {
        // The launched copy: launches its copy as `Launcher::command` allows.
        let address: Address = std::env::var(ENV_ADDRESS)?.parse()?;
        let key = AuthKey::from_hex(&std::env::var(ENV_AUTHKEY)?)?;
        let status = Launcher::new(address, key)
            .command(std::env::current_exe()?)
            .arg("--exact")
            .arg("a_forgetful_copy_cannot_escape_through_launcher_command")
            .env(PROBE, "1")
            .status()?;
        assert_ne!(
            status.code(),
            Some(STARTED_A_MANAGER),
            "a copy started through Launcher::command by an undispatched worker started a manager"
        );
        return Ok(());
    }
    let manager = start_manager()?;
    let mut copy = manager
        .launcher()
        .spawn_program(std::env::current_exe()?, "copy", &())?;
    // The harness exits 0 if the assertion in the copy held.
    let result = copy.join_timeout(DEADLINE);
    assert!(result.is_ok(), "{}", result.unwrap_err());
    Ok(())
}
