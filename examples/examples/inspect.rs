//! Inspecting a running manager: its objects (actors), its clients and
//! totals, live, as `manager-inspect` shows them.
//!
//! The main process starts an embedded [`Manager`] and launches worker
//! processes that keep it busy until told to stop:
//!
//! - one **producer** puts jobs on the bounded queue `jobs` faster than the
//!   consumers take them, so the queue holds a backlog (up to [`BACKLOG`]);
//! - [`CONSUMERS`] **consumers** take jobs, work a little on each and count
//!   them in the namespace `stats`;
//! - [`PRINTERS`] **printer users** take turns holding the lock `printer`:
//!   one holds it while the others wait, parked on the manager.
//!
//! Every [`PAGE_EVERY`] the main process asks the manager for a snapshot
//! ([`blocking::Client::inspect`]) and prints the same page as
//! `manager-inspect`: each object with its size, parked waiters, mailbox,
//! requests handled and holders; each client with its pid, requests served
//! and in flight and what it holds; and totals. Then it sets the event
//! `stop`, joins the workers and checks that the pages showed the backlog,
//! the held lock with its waiters and every worker's connection.
//!
//! Run it with
//!
//! ```text
//! cargo run -p examples --example inspect              # about 6 seconds
//! cargo run -p examples --example inspect -- 60        # keep it busy 60 seconds
//! ```
//!
//! and, while it runs, watch it from a second terminal with the command it
//! prints (the key is in a file next to the socket, readable by you only):
//!
//! ```text
//! cargo run -p manager-inspect -- --unix /tmp/manager-XXXX/manager.sock \
//!     --authkey-file /tmp/manager-XXXX/authkey --watch
//! ```
//!
//! `RUST_LOG=info` adds the manager's logs (connections, objects) on stderr.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use manager::inspect::{KindDetail, ManagerSnapshot};
use manager::launcher::Entries;
use manager::{Address, Error, Manager, ManagerError, blocking};
use tracing_subscriber::EnvFilter;

/// How many consumer processes take jobs.
const CONSUMERS: u32 = 2;
/// How many processes take turns on the printer lock.
const PRINTERS: u32 = 3;
/// The most jobs the queue holds.
const BACKLOG: usize = 200;
/// How long the workers stay busy unless a number of seconds is given.
const DEFAULT_RUN: Duration = Duration::from_secs(6);
/// How often the main process prints a page.
const PAGE_EVERY: Duration = Duration::from_secs(2);
/// How long a producer or consumer waits on the queue before it checks
/// whether to stop.
const POLL: Duration = Duration::from_millis(100);
/// How long each consumer works on one job.
const JOB_WORK: Duration = Duration::from_millis(10);
/// How long a printer user holds the lock.
const PRINT_TIME: Duration = Duration::from_millis(50);
/// How long any one call may wait for the manager.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long the workers may take to stop once told.
const JOIN_DEADLINE: Duration = Duration::from_secs(20);

fn client() -> Result<blocking::Client> {
    Ok(blocking::Client::from_env()
        .context("connect to the manager")?
        .with_timeout(CALL_TIMEOUT))
}

/// Puts jobs on `jobs` as fast as it takes them, until `stop` is set.
fn producer((): ()) -> Result<()> {
    let client = client()?;
    let (jobs, stop) = (
        client.queue::<u64>("jobs", Some(BACKLOG))?,
        client.event("stop")?,
    );
    let mut next = 0_u64;
    while !stop.is_set()? {
        match jobs.put_timeout(&next, POLL) {
            Ok(()) => next += 1,
            Err(Error::Manager(ManagerError::Full { .. })) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Takes jobs, works a little on each and counts them, until `stop` is
/// set.
fn consumer((): ()) -> Result<()> {
    let client = client()?;
    let (jobs, stop) = (
        client.queue::<u64>("jobs", Some(BACKLOG))?,
        client.event("stop")?,
    );
    let stats = client.namespace("stats")?;
    while !stop.is_set()? {
        match jobs.get_timeout(POLL) {
            Ok(_job) => {
                std::thread::sleep(JOB_WORK); // the "work"
                stats.add("jobs_done", 1)?;
            }
            Err(Error::Manager(ManagerError::Empty { .. })) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Takes turns holding the printer lock, until `stop` is set.
fn printer_user((): ()) -> Result<()> {
    let client = client()?;
    let (printer, stop) = (client.lock("printer")?, client.event("stop")?);
    let stats = client.namespace("stats")?;
    while !stop.is_set()? {
        let _guard = printer.lock()?; // released at the end of the turn
        std::thread::sleep(PRINT_TIME); // the "printing"
        stats.add("pages_printed", 1)?;
    }
    Ok(())
}

/// What the pages showed at their busiest.
#[derive(Debug, Default)]
struct Seen {
    backlog: u64,
    lock_waiters: u64,
    lock_held: bool,
    worker_connections: usize,
}

impl Seen {
    fn update(&mut self, snapshot: &ManagerSnapshot, pids: &[u32]) {
        let detail = |name| snapshot.object(name).and_then(|o| o.detail.as_ref());
        if let Some(d) = detail("jobs")
            && let KindDetail::Queue { len, .. } = d.size
        {
            self.backlog = self.backlog.max(len);
        }
        if let Some(d) = detail("printer") {
            self.lock_waiters = self.lock_waiters.max(d.waiters);
            self.lock_held |= matches!(d.size, KindDetail::Lock { depth: 1 });
        }
        let connected = pids
            .iter()
            .filter(|&&pid| snapshot.connections_of_pid(pid).next().is_some())
            .count();
        self.worker_connections = self.worker_connections.max(connected);
    }
}

/// Writes the key, in hex, to a file only the owner can read, next to the
/// socket in the manager's private directory (removed at shutdown).
fn write_key_file(manager: &Manager) -> Result<Option<PathBuf>> {
    let Address::Unix(socket) = manager.address() else {
        return Ok(None);
    };
    let path = socket.with_file_name("authkey");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("create {}", path.display()))?;
    writeln!(file, "{}", manager.authkey().to_hex())?;
    Ok(Some(path))
}

fn main() -> Result<()> {
    // Installed before `run_if_worker` so that workers, which run this same
    // program and inherit RUST_LOG, log too.
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    // In a worker process this runs the entry and exits; here it returns.
    Entries::new()
        .entry("producer", producer)
        .entry("consumer", consumer)
        .entry("printer_user", printer_user)
        .run_if_worker();

    let run = match std::env::args().nth(1) {
        None => DEFAULT_RUN,
        Some(arg) => match arg.parse::<u64>() {
            Ok(secs) => Duration::from_secs(secs.max(1)),
            Err(_) => bail!("usage: inspect [SECONDS]; `{arg}` is not a number of seconds"),
        },
    };

    let manager = Manager::start().context("start the manager")?;
    let client = manager.connect()?.with_timeout(CALL_TIMEOUT);
    client.queue::<u64>("jobs", Some(BACKLOG))?;
    client.lock("printer")?;
    client.event("stop")?;
    client.namespace("stats")?;

    println!("Inspect example");
    println!("===============");
    println!("manager listening at {}", manager.address());
    if let (Address::Unix(socket), Some(key)) = (manager.address(), write_key_file(&manager)?) {
        println!(
            "watch it live from a second terminal while this runs ({} s):",
            run.as_secs()
        );
        println!(
            "  cargo run -p manager-inspect -- --unix {} --authkey-file {} --watch",
            socket.display(),
            key.display()
        );
    }
    println!();

    // Dropping a `Worker` that was not joined kills it, so an early return
    // from here on leaves no process behind.
    let launcher = manager.launcher();
    let mut workers = vec![launcher.spawn("producer", &())?];
    for _ in 0..CONSUMERS {
        workers.push(launcher.spawn("consumer", &())?);
    }
    for _ in 0..PRINTERS {
        workers.push(launcher.spawn("printer_user", &())?);
    }
    let pids: Vec<u32> = workers.iter().map(|w| w.pid()).collect();

    let started = Instant::now();
    let mut seen = Seen::default();
    let mut page_at = started + PAGE_EVERY;
    while page_at <= started + run {
        std::thread::sleep(page_at.saturating_duration_since(Instant::now()));
        let snapshot = client.inspect()?;
        seen.update(&snapshot, &pids);
        println!("--- after {} s ---", started.elapsed().as_secs());
        println!("{}", manager_inspect::render(manager.address(), &snapshot));
        page_at += PAGE_EVERY;
    }

    client.event("stop")?.set()?;
    let deadline = Instant::now() + JOIN_DEADLINE;
    for worker in &mut workers {
        worker.join_timeout(deadline.saturating_duration_since(Instant::now()))?;
    }
    let stats = client.namespace("stats")?;
    let (jobs_done, pages): (i64, i64) = (stats.get("jobs_done")?, stats.get("pages_printed")?);
    println!("stopped: {jobs_done} jobs done, {pages} pages printed");

    ensure!(
        seen.backlog > 0,
        "no page showed a backlog on `jobs`: {seen:?}"
    );
    ensure!(
        seen.lock_held && seen.lock_waiters > 0,
        "no page showed `printer` held with waiters: {seen:?}"
    );
    ensure!(
        seen.worker_connections == workers.len(),
        "the pages showed {} of {} worker connections",
        seen.worker_connections,
        workers.len()
    );
    println!(
        "the pages showed a backlog of up to {} jobs, `printer` held with up to {} waiters, and all {} workers connected",
        seen.backlog,
        seen.lock_waiters,
        workers.len()
    );
    manager.shutdown();
    Ok(())
}
