//! [`Server`]: a fresh `manager-server` for one row, on a Unix socket in a
//! temporary directory, killed and cleaned up when dropped (on a panic's
//! unwinding too).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use manager::AuthKey;
use manager::manager_process::READY_PREFIX;

/// How long a server may take to print its ready line.
const READY_LIMIT: Duration = Duration::from_secs(20);

/// One running `manager-server`.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    socket: PathBuf,
    key: AuthKey,
    log: PathBuf,
    /// Removed (with the socket and the log) after the child is reaped.
    dir: tempfile::TempDir,
}

impl Server {
    /// Starts `program --unix SOCKET flags...` with a fresh key in
    /// `MANAGER_AUTHKEY`, and waits for its ready line. Its stderr (the
    /// log) goes to a file in the temporary directory.
    pub(crate) fn start(program: &Path, flags: &[String]) -> anyhow::Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("abuse-")
            .tempdir()
            .context("a temporary directory for the socket")?;
        let socket = dir.path().join("manager.sock");
        let log = dir.path().join("server.log");
        let key = AuthKey::random()?;
        let mut command = Command::new(program);
        command
            .arg("--unix")
            .arg(&socket)
            .args(flags)
            .env("MANAGER_AUTHKEY", key.to_hex())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(File::create(&log)?);
        die_with_parent(&mut command);
        let mut child = command
            .spawn()
            .with_context(|| format!("start {}", program.display()))?;
        let stdout = child.stdout.take().expect("piped");
        let (ready, first_line) = mpsc::channel();
        // Reads the ready line, then drains stdout until the server exits.
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = ready.send(lines.next());
            lines.for_each(drop);
        });
        let server = Server {
            child,
            socket,
            key,
            log,
            dir,
        };
        match first_line.recv_timeout(READY_LIMIT) {
            Ok(Some(Ok(line))) if line.starts_with(READY_PREFIX) => Ok(server),
            other => bail!(
                "{} did not start ({other:?}); its log: {}",
                program.display(),
                server.log_tail(20)
            ),
        }
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its socket.
    pub(crate) fn socket(&self) -> &Path {
        &self.socket
    }

    /// Its key.
    pub(crate) fn key(&self) -> &AuthKey {
        &self.key
    }

    /// Its temporary directory.
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `None` while it runs; how it ended otherwise ("exit code 1",
    /// "signal 6 (SIGABRT)").
    pub(crate) fn ended(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(None) => None,
            Ok(Some(status)) => Some(match (status.code(), status.signal()) {
                (Some(code), _) => format!("exit code {code}"),
                (None, Some(6)) => "signal 6 (SIGABRT)".to_owned(),
                (None, Some(9)) => "signal 9 (SIGKILL: out of memory?)".to_owned(),
                (None, Some(signal)) => format!("signal {signal}"),
                (None, None) => status.to_string(),
            }),
            Err(e) => Some(format!("cannot tell: {e}")),
        }
    }

    /// How many lines of its log are warnings, and the last of them (cut
    /// to 200 characters).
    pub(crate) fn warnings(&self) -> (usize, Option<String>) {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let warnings: Vec<&str> = text.lines().filter(|l| l.contains("WARN")).collect();
        let last = warnings.last().map(|l| l.chars().take(200).collect());
        (warnings.len(), last)
    }

    fn log_tail(&self, n: usize) -> String {
        tail(&std::fs::read_to_string(&self.log).unwrap_or_default(), n)
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // `dir` is dropped next, removing the socket and the log.
    }
}

/// Makes the child get SIGKILL if the thread that spawned it ends, so that
/// a bench killed from outside leaves no server behind.
#[allow(unsafe_code)]
pub(crate) fn die_with_parent(command: &mut Command) {
    // SAFETY: prctl is async-signal-safe, and the closure touches nothing
    // else between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
