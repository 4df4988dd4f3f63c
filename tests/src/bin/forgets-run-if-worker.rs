//! A program whose `main` forgets `Entries::run_if_worker`: each copy it
//! launches as a worker runs this `main` again. The test
//! `forgotten_run_if_worker_never_spawns` runs it.
//!
//! Environment: `FORGETFUL_COUNT`, a file every copy appends its pid to;
//! `FORGETFUL_MODE`, `manager` (each copy starts a `Manager` and launches a
//! worker), `launcher` (a launched copy launches through the manager it
//! was started with) or `manager_process` (a launched copy starts a
//! `ManagerProcess`). The first copy prints how its worker ended.

use std::io::Write;

use anyhow::Context;
use manager::launcher::{ENV_ADDRESS, ENV_AUTHKEY, Launcher};
use manager::{Address, AuthKey, Manager};

/// More copies than this means the program runs away; stop (only the old
/// code ever gets here).
const CAP: usize = 6;

fn main() -> anyhow::Result<()> {
    let count = std::env::var("FORGETFUL_COUNT").context("FORGETFUL_COUNT")?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&count)?;
    writeln!(file, "{}", std::process::id())?;
    drop(file);
    if std::fs::read_to_string(&count)?.lines().count() > CAP {
        return Ok(());
    }
    let mode = std::env::var("FORGETFUL_MODE").context("FORGETFUL_MODE")?;
    let launched = std::env::var(ENV_ADDRESS).is_ok();
    if mode == "manager_process" && launched {
        manager::ManagerProcess::start()?;
    }
    let (manager, launcher) = if mode == "launcher" && launched {
        let address: Address = std::env::var(ENV_ADDRESS)?.parse()?;
        let key = AuthKey::from_hex(&std::env::var(ENV_AUTHKEY)?)?;
        (None, Launcher::new(address, key))
    } else {
        let manager = Manager::start()?;
        let launcher = manager.launcher();
        (Some(manager), launcher)
    };
    let mut worker = launcher.spawn("child", &())?;
    match worker.join_timeout(std::time::Duration::from_secs(30)) {
        Ok(()) => println!("worker ended: ok"),
        Err(e) => println!("worker ended: {e}"),
    }
    drop(manager);
    Ok(())
}
