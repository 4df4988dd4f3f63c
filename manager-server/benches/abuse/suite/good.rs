//! The good client: a process of its own, so that nothing the attacker
//! does in the bench's process (mapping and unmapping large buffers, its
//! threads) shows in the good client's latency. It is the suite's own
//! program run again with `ABUSE_ROLE=good-client` (see [`child_main`]): a
//! blocking client on a connection of its own that inserts into and reads
//! from a dict, one call at a time, timing every call, until its stdin
//! closes; it then prints every call on its stdout.
//!
//! Times are read from `CLOCK_MONOTONIC` ([`Mono`]), which both processes
//! share, so the suite can place each call in its phases.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use anyhow::{Context, bail};
use manager::{Address, AuthKey, Error, blocking};

use super::server::die_with_parent;

/// A call that takes longer fails with `Error::Timeout` (and is recorded
/// as that long).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The pause between two rounds of insert and get, so that the good client
/// samples the manager's latency every millisecond or so without taking a
/// CPU of its own from a two-core machine.
const PACE: Duration = Duration::from_millis(1);

/// How long the good client may take to connect, and to report once told
/// to stop.
const REPORT_LIMIT: Duration = Duration::from_secs(60);

/// The variable that makes the suite's program the good client.
const ROLE_VAR: &str = "ABUSE_ROLE";
const ROLE: &str = "good-client";
/// The manager's socket, for the good client.
const SOCKET_VAR: &str = "ABUSE_SOCKET";
/// The manager's key, for the good client.
const KEY_VAR: &str = "MANAGER_AUTHKEY";

/// A point in time on `CLOCK_MONOTONIC`, in nanoseconds: the same clock in
/// every process of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Mono(u64);

impl Mono {
    /// Now.
    #[allow(unsafe_code)]
    pub(crate) fn now() -> Mono {
        let mut t = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: clock_gettime writes only the struct given, which
        // outlives the call; CLOCK_MONOTONIC always exists on Linux.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) };
        Mono(t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64)
    }

    /// How long after `earlier` this is (zero if it is not after).
    pub(crate) fn since(self, earlier: Mono) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

/// One timed call.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) start: Mono,
    pub(crate) end: Mono,
    pub(crate) error: Option<String>,
}

impl Call {
    fn took(&self) -> Duration {
        self.end.since(self.start)
    }

    /// One line of the good client's report.
    fn line(&self) -> String {
        match &self.error {
            None => format!("call {} {}", self.start.0, self.end.0),
            Some(e) => format!(
                "call {} {} {}",
                self.start.0,
                self.end.0,
                e.replace('\n', " ")
            ),
        }
    }

    /// Reads [`Call::line`] back.
    fn parse(line: &str) -> Option<Call> {
        let mut parts = line.strip_prefix("call ")?.splitn(3, ' ');
        let start = Mono(parts.next()?.parse().ok()?);
        let end = Mono(parts.next()?.parse().ok()?);
        let error = parts.next().map(str::to_owned);
        Some(Call { start, end, error })
    }
}

/// If this process was started as the good client, runs it and returns
/// its result; `None` otherwise. The suite's program calls it first thing
/// in `main`.
pub(crate) fn child_main() -> Option<anyhow::Result<()>> {
    (std::env::var(ROLE_VAR).as_deref() == Ok(ROLE)).then(run_child)
}

fn run_child() -> anyhow::Result<()> {
    let socket = std::env::var(SOCKET_VAR).with_context(|| format!("{SOCKET_VAR} is not set"))?;
    let key = AuthKey::from_hex(
        &std::env::var(KEY_VAR).with_context(|| format!("{KEY_VAR} is not set"))?,
    )?;
    let client = blocking::Client::connect(&Address::Unix(socket.into()), &key)
        .context("the good client connects")?
        .with_timeout(CALL_TIMEOUT);
    let dict = client.dict::<String, u64>("good")?;
    dict.insert("k", &0)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "ready")?;
    out.flush()?;
    // Until stdin closes (the suite says stop, or is gone).
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        stopped.store(true, Ordering::Relaxed);
    });
    let mut log = Vec::with_capacity(1 << 16);
    let mut n = 0_u64;
    'run: while !stop.load(Ordering::Relaxed) {
        n += 1;
        for insert in [true, false] {
            let start = Mono::now();
            let result = if insert {
                dict.insert("k", &n).map(drop)
            } else {
                dict.get("k").map(drop)
            };
            let end = Mono::now();
            let gone = matches!(
                result,
                Err(Error::ManagerGone { .. } | Error::Disconnected { .. })
            );
            log.push(Call {
                start,
                end,
                error: result.err().map(|e| e.to_string()),
            });
            if gone {
                break 'run;
            }
        }
        thread::sleep(PACE);
    }
    drop(client);
    for call in &log {
        writeln!(out, "{}", call.line())?;
    }
    writeln!(out, "end")?;
    out.flush()?;
    Ok(())
}

/// The good client's process, as the suite sees it.
#[derive(Debug)]
pub(crate) struct GoodClient {
    child: Child,
    /// Closing it tells the good client to stop.
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<std::io::Result<String>>,
}

impl GoodClient {
    /// Starts the good client on the manager at `socket` and waits until
    /// its first call is done.
    pub(crate) fn start(socket: &Path, key: &AuthKey) -> anyhow::Result<GoodClient> {
        let program = std::env::current_exe().context("the suite's own program")?;
        let mut command = Command::new(program);
        command
            .env(ROLE_VAR, ROLE)
            .env(SOCKET_VAR, socket)
            .env(KEY_VAR, key.to_hex())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        die_with_parent(&mut command);
        let mut child = command.spawn().context("start the good client")?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped");
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let good = GoodClient {
            child,
            stdin,
            lines,
        };
        match good.lines.recv_timeout(REPORT_LIMIT) {
            Ok(Ok(line)) if line == "ready" => Ok(good),
            other => bail!("the good client did not start: {other:?}"),
        }
    }

    /// Stops calling and returns every call.
    pub(crate) fn stop(mut self) -> anyhow::Result<Vec<Call>> {
        drop(self.stdin.take());
        let mut calls = Vec::new();
        loop {
            match self.lines.recv_timeout(REPORT_LIMIT) {
                Ok(Ok(line)) if line == "end" => break,
                Ok(Ok(line)) => calls.push(
                    Call::parse(&line).with_context(|| format!("the good client said {line:?}"))?,
                ),
                Ok(Err(e)) => return Err(e).context("read the good client's report"),
                Err(e) => bail!("the good client's report ended early: {e}"),
            }
        }
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the good client failed: {status}");
        }
        Ok(calls)
    }
}

impl Drop for GoodClient {
    fn drop(&mut self) {
        // Killing an exited child fails harmlessly; waiting reaps it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The good client's latency over one phase.
#[derive(Debug, Clone, Default)]
pub(crate) struct Latency {
    pub(crate) calls: usize,
    pub(crate) worst: Duration,
    /// When the worst call started.
    pub(crate) worst_start: Option<Mono>,
    pub(crate) p99: Duration,
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
}

impl Latency {
    fn of<'a>(calls: impl Iterator<Item = &'a Call>) -> Latency {
        let mut took = Vec::new();
        let mut latency = Latency::default();
        for call in calls {
            took.push(call.took());
            if call.took() >= latency.worst {
                latency.worst = call.took();
                latency.worst_start = Some(call.start);
            }
            if let Some(e) = &call.error {
                latency.errors += 1;
                latency.first_error.get_or_insert_with(|| e.clone());
            }
        }
        took.sort_unstable();
        latency.calls = took.len();
        if !took.is_empty() {
            let at = (took.len() * 99).div_ceil(100).saturating_sub(1);
            latency.p99 = took[at];
        }
        latency
    }
}

/// The calls in three phases: those that ended before the attack began
/// (the good client alone), those that ended after the attack began and
/// started before it ended, and those that ended after the control began
/// and started before it ended (a call that straddles a phase's start felt
/// that phase).
pub(crate) fn split(
    calls: &[Call],
    [attack, end, control, control_end]: [Mono; 4],
) -> [Latency; 3] {
    let within = |from: Mono, to: Mono| move |c: &&Call| c.end > from && c.start < to;
    [
        Latency::of(calls.iter().filter(|c| c.end <= attack)),
        Latency::of(calls.iter().filter(within(attack, end))),
        Latency::of(calls.iter().filter(within(control, control_end))),
    ]
}
