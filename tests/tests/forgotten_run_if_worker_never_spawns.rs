//! A program whose `main` forgets `Entries::run_if_worker` does not launch
//! workers without end: a launched copy that reaches `Manager::start`, the
//! launcher or `ManagerProcess::start` fails at once with an error naming the fix, the parent's
//! `join` says so, and no socket directory is left behind.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::bail;
use manager::launcher::{ENV_ADDRESS, ENV_ARGS, ENV_AUTHKEY, ENV_ENTRY};
use tests::DEADLINE;

/// Runs the forgetful program in `mode`; returns its stdout and how many
/// copies of it ran.
fn run(mode: &str) -> anyhow::Result<(String, usize)> {
    let dir = tempfile::tempdir()?;
    let count = dir.path().join("count");
    let mut child = Command::new(env!("CARGO_BIN_EXE_forgets-run-if-worker"))
        .env("FORGETFUL_COUNT", &count)
        .env("FORGETFUL_MODE", mode)
        .env("TMPDIR", dir.path())
        .env_remove(ENV_ADDRESS)
        .env_remove(ENV_AUTHKEY)
        .env_remove(ENV_ENTRY)
        .env_remove(ENV_ARGS)
        .stdout(Stdio::piped())
        .spawn()?;
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            bail!("the forgetful program did not end within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("piped"), &mut stdout)?;
    assert!(status.success(), "{status}: {stdout}");
    let copies = std::fs::read_to_string(&count)?.lines().count();
    let left: Vec<_> = std::fs::read_dir(dir.path())?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("manager-"))
        .collect();
    assert!(left.is_empty(), "socket directories left behind: {left:?}");
    Ok((stdout, copies))
}

#[test]
fn a_launched_copy_refuses_to_start_a_manager() -> anyhow::Result<()> {
    let (stdout, copies) = run("manager")?;
    assert!(stdout.contains("worker ended: worker `child`"), "{stdout}");
    assert!(stdout.contains("Entries::run_if_worker"), "{stdout}");
    assert!(stdout.contains("Manager::start"), "{stdout}");
    assert_eq!(copies, 2, "{stdout}");
    Ok(())
}

#[test]
fn a_launched_copy_refuses_to_launch() -> anyhow::Result<()> {
    let (stdout, copies) = run("launcher")?;
    assert!(stdout.contains("Entries::run_if_worker"), "{stdout}");
    assert!(stdout.contains("Launcher::spawn"), "{stdout}");
    assert_eq!(copies, 2, "{stdout}");
    Ok(())
}

#[test]
fn a_launched_copy_refuses_to_start_a_manager_process() -> anyhow::Result<()> {
    let (stdout, copies) = run("manager_process")?;
    assert!(stdout.contains("Entries::run_if_worker"), "{stdout}");
    assert!(stdout.contains("ManagerProcess::start"), "{stdout}");
    assert_eq!(copies, 2, "{stdout}");
    Ok(())
}
