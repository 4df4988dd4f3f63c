//! A `#[tokio::main]` program that calls `Entries::run_if_worker` at the
//! top of its async `main` launches copies of itself whose entries work, a
//! blocking one and an async one (before, every worker panicked with
//! "Cannot start a runtime from within a runtime"), and leaves no socket
//! directory behind.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::bail;
use manager::launcher::{ENV_ADDRESS, ENV_ARGS, ENV_AUTHKEY, ENV_ENTRY, ENV_REPORT_FD};
use tests::DEADLINE;

/// Kills and reaps the program if the test ends before it does (its
/// workers die with it).
struct Reaped(Child);

impl Drop for Reaped {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

#[test]
fn blocking_and_async_entries_of_a_tokio_main_program_work() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let mut app = Reaped(
        Command::new(env!("CARGO_BIN_EXE_tokio-main-app"))
            .env("TMPDIR", dir.path())
            .env_remove(ENV_ADDRESS)
            .env_remove(ENV_AUTHKEY)
            .env_remove(ENV_ENTRY)
            .env_remove(ENV_ARGS)
            .env_remove(ENV_REPORT_FD)
            .stdout(Stdio::piped())
            .spawn()?,
    );
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        if let Some(status) = app.0.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            bail!("the tokio-main program did not end within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut app.0.stdout.take().expect("piped"), &mut stdout)?;
    assert!(status.success(), "{status}: {stdout}");
    assert!(stdout.contains("all workers ok"), "{stdout}");
    let left: Vec<_> = std::fs::read_dir(dir.path())?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    Ok(())
}
