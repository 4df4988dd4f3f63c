//! Helpers for the `server_*` tests: run the stand-alone server (the
//! `test-manager-server` binary) and other plain child processes, with every
//! wait bounded and every process killed and reaped on drop, failure or not.

#![allow(dead_code, unreachable_pub)] // each test file uses some of it

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;

use anyhow::{Context, bail};
use manager::launcher::{ENV_ADDRESS, ENV_ARGS, ENV_AUTHKEY, ENV_ENTRY};
use manager::manager_process::READY_PREFIX;
use manager::{Address, AuthKey};
use tests::{DEADLINE, wait_until};

/// The variable the tests name with `--authkey-env`.
pub const KEY_VAR: &str = "SERVER_TEST_KEY";

/// A `manager-server` command with stdio piped, no inherited manager
/// variables, and logs at `info` whatever the caller's `RUST_LOG` says.
pub fn server_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_test-manager-server"));
    command
        .args(args)
        .env("RUST_LOG", "info")
        .env_remove(ENV_ADDRESS)
        .env_remove(ENV_AUTHKEY)
        .env_remove(ENV_ENTRY)
        .env_remove(ENV_ARGS)
        .env_remove(KEY_VAR);
    command
}

/// A `manager-server` command with `key` in [`KEY_VAR`].
pub fn server_with_key(args: &[&str], key: &AuthKey) -> Command {
    let mut command = server_command(args);
    command
        .arg("--authkey-env")
        .arg(KEY_VAR)
        .env(KEY_VAR, key.to_hex());
    command
}

/// A plain `test-worker` process running `entry`: started with
/// `std::process::Command`, not by a launcher, so it has no manager
/// address or key unless the caller adds some.
pub fn plain_worker(entry: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_test-worker"));
    command
        .env(ENV_ENTRY, entry)
        .env_remove(ENV_ARGS)
        .env_remove(ENV_ADDRESS)
        .env_remove(ENV_AUTHKEY);
    command
}

/// A child process with its stdout read line by line and its stderr
/// collected, both on threads so neither pipe can fill up. Killed and
/// reaped on drop.
pub struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
    stderr: mpsc::Receiver<String>,
    status: Option<ExitStatus>,
}

impl Proc {
    /// Starts `command` with stdout and stderr piped.
    pub fn spawn(mut command: Command) -> anyhow::Result<Proc> {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("spawn {command:?}"))?;
        let (stdout, mut err) = (child.stdout.take(), child.stderr.take());
        let (line_tx, lines) = mpsc::channel();
        let (err_tx, stderr) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout.expect("piped")).lines() {
                let Ok(line) = line else { break };
                if line_tx.send(line).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = err.as_mut().expect("piped").read_to_string(&mut text);
            let _ = err_tx.send(text);
        });
        Ok(Proc {
            child,
            lines,
            stderr,
            status: None,
        })
    }

    /// Starts a server and waits, bounded, for its ready line.
    pub fn start_server(command: Command) -> anyhow::Result<(Proc, Address)> {
        let mut server = Proc::spawn(command)?;
        let address = server.ready()?;
        Ok((server, address))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the next stdout line, at most [`DEADLINE`].
    pub fn next_line(&mut self) -> anyhow::Result<String> {
        match self.lines.recv_timeout(DEADLINE) {
            Ok(line) => Ok(line),
            Err(mpsc::RecvTimeoutError::Timeout) => bail!("no line on stdout after {DEADLINE:?}"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let (status, stderr) = self.wait()?;
                bail!("stdout closed ({status}); stderr:\n{stderr}")
            }
        }
    }

    /// Reads the ready line and returns the address in it.
    pub fn ready(&mut self) -> anyhow::Result<Address> {
        let line = self.next_line()?;
        let Some(address) = line.strip_prefix(READY_PREFIX) else {
            bail!("expected `{READY_PREFIX}ADDRESS`, got `{line}`");
        };
        Ok(address.parse()?)
    }

    /// Sends `signal` (only while the process is unreaped, so its pid
    /// cannot belong to another process).
    pub fn signal(&mut self, signal: libc::c_int) -> anyhow::Result<()> {
        if self.status.is_none() {
            self.status = self.child.try_wait()?;
        }
        if self.status.is_some() {
            bail!("pid {} has already ended", self.pid());
        }
        send_signal(self.pid(), signal)
    }

    /// Waits, at most [`DEADLINE`], for the process to end; returns how it
    /// ended and everything it wrote to stderr.
    pub fn wait(&mut self) -> anyhow::Result<(ExitStatus, String)> {
        if self.status.is_none() {
            let child = &mut self.child;
            let mut status = None;
            wait_until(&format!("pid {} ends", child.id()), || {
                status = child.try_wait()?;
                Ok(status.is_some())
            })?;
            self.status = status;
        }
        let status = self.status.expect("set above");
        let stderr = self
            .stderr
            .recv_timeout(DEADLINE)
            .unwrap_or_else(|_| "<stderr already read or not closed>".to_owned());
        Ok((status, stderr))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends `signal` to `pid`.
#[allow(unsafe_code)]
pub fn send_signal(pid: u32, signal: libc::c_int) -> anyhow::Result<()> {
    let pid = libc::pid_t::try_from(pid)?;
    // SAFETY: kill takes two integers and touches no memory of ours.
    if unsafe { libc::kill(pid, signal) } != 0 {
        return Err(std::io::Error::last_os_error()).context("kill");
    }
    Ok(())
}

/// Asserts that a failed start wrote exactly one line to stderr, prefixed
/// with the program's name and containing every one of `parts`.
pub fn assert_one_line_error(stderr: &str, parts: &[&str]) {
    let lines: Vec<_> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line on stderr, got:\n{stderr}"
    );
    assert!(lines[0].starts_with("manager-server: "), "{stderr}");
    for part in parts {
        assert!(lines[0].contains(part), "`{part}` missing from: {stderr}");
    }
}
