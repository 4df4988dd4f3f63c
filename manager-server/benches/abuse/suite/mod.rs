//! The abuse suite: for each attack a fresh `manager-server`, a good client
//! timing its calls alone, during the attack and then as long again beside
//! a busy well-behaved client (the control), and the server's memory before, during and after. Shared by the `abuse` bench (which prints the
//! table) and the test of its quick run (which checks the outcomes).

mod busy;
mod good;
mod memory;
mod raw;
pub(crate) mod report;
mod rows;
mod server;
mod watchdog;

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use manager::Limits;

pub(crate) use good::child_main;
use good::{GoodClient, Latency, Mono};
use rows::{Attack, Ctx, Outcome, Sizes};
use server::Server;
use watchdog::Watchdog;

/// The longest control phase.
const CONTROL_LIMIT: Duration = Duration::from_secs(10);

/// How long a row may run before the watchdog ends the bench.
const ROW_LIMIT: Duration = Duration::from_secs(20 * 60);

/// How the suite runs.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// The `manager-server` binary.
    pub(crate) server: PathBuf,
    /// Small attacks (and limits lowered to match) instead of the issue's
    /// sizes.
    pub(crate) quick: bool,
    /// How long the good client runs alone before the attack.
    pub(crate) baseline: Duration,
    /// How long an attack keeps its hostile state in place.
    pub(crate) hold: Duration,
    /// How long to wait for the RSS to stop falling after an attack.
    pub(crate) settle: Duration,
    /// Only the rows whose names start with one of these (all if empty).
    pub(crate) only: Vec<String>,
}

impl Settings {
    /// The sizes.
    pub(crate) fn full(server: PathBuf) -> Settings {
        Settings {
            server,
            quick: false,
            baseline: Duration::from_secs(2),
            hold: Duration::from_secs(2),
            settle: Duration::from_secs(7),
            only: Vec::new(),
        }
    }

    /// Every row, small: seconds in all.
    pub(crate) fn quick(server: PathBuf) -> Settings {
        Settings {
            server,
            quick: true,
            baseline: Duration::from_millis(300),
            hold: Duration::from_millis(200),
            settle: Duration::from_millis(300),
            only: Vec::new(),
        }
    }

    /// From `BENCH_QUICK`, `BENCH_ROWS`, `BENCH_BASELINE_MS` and
    /// `BENCH_HOLD_MS` (see the bench's docs).
    pub(crate) fn from_env(server: PathBuf) -> anyhow::Result<Settings> {
        let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0");
        let mut settings = if set("BENCH_QUICK") {
            Settings::quick(server)
        } else {
            Settings::full(server)
        };
        let millis = |name: &str| -> anyhow::Result<Option<Duration>> {
            match std::env::var(name) {
                Ok(v) => Ok(Some(Duration::from_millis(
                    v.parse().with_context(|| format!("{name}={v}"))?,
                ))),
                Err(_) => Ok(None),
            }
        };
        if let Some(d) = millis("BENCH_BASELINE_MS")? {
            settings.baseline = d;
        }
        if let Some(d) = millis("BENCH_HOLD_MS")? {
            settings.hold = d;
        }
        if let Ok(rows) = std::env::var("BENCH_ROWS") {
            settings.only = rows
                .split(',')
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty())
                .collect();
        }
        Ok(settings)
    }
}

/// What one row measured.
#[derive(Debug, Clone)]
pub(crate) struct RowResult {
    pub(crate) name: String,
    pub(crate) title: String,
    /// The server's limit flags (none: every default).
    pub(crate) flags: Vec<String>,
    /// What the manager did.
    pub(crate) outcome: String,
    /// Where it differs from what the limits promise.
    pub(crate) unexpected: Vec<String>,
    /// How the manager died, if it did.
    pub(crate) died: Option<String>,
    /// The good client alone.
    pub(crate) baseline: Latency,
    /// The good client beside the busy control client, after the attack
    /// and for as long as it took (at most [`CONTROL_LIMIT`]).
    pub(crate) busy: Latency,
    /// How many reads the control client had answered.
    pub(crate) busy_reads: u64,
    /// The good client during the attack.
    pub(crate) attack: Latency,
    pub(crate) attack_took: Duration,
    /// When, after the attack's start, the worst call of the attack phase
    /// started (it may have started just before).
    pub(crate) worst_at: Option<Duration>,
    /// VmRSS before the attack, the most during it, and after; in KiB.
    pub(crate) rss: [u64; 3],
    /// Whether the peak is the kernel's VmHWM (reset at the attack's
    /// start), not only samples.
    pub(crate) exact_peak: bool,
    pub(crate) log_warnings: usize,
    pub(crate) log_last: String,
}

/// Runs every row that `settings` selects, calling `each` with each
/// result as it is done.
pub(crate) fn run(
    settings: &Settings,
    mut each: impl FnMut(&RowResult),
) -> anyhow::Result<Vec<RowResult>> {
    let sizes = if settings.quick {
        Sizes::quick()
    } else {
        Sizes::full()
    };
    let attacks: Vec<Attack> = Attack::all(&sizes)
        .into_iter()
        .filter(|a| {
            settings.only.is_empty() || settings.only.iter().any(|o| a.name().starts_with(o))
        })
        .collect();
    ensure!(!attacks.is_empty(), "BENCH_ROWS selects no row");
    // The connection floods' sockets, ours and the server's (which
    // inherits the limit).
    let limits = Limits::default();
    raise_fd_limit(
        (limits.max_connections + limits.max_handshakes) as u64
            + (sizes.extra_connections + sizes.extra_handshakes) as u64
            + 256,
    )?;
    let watchdog = Watchdog::start();
    let mut results = Vec::new();
    for attack in attacks {
        let result = run_row(attack, settings, &sizes, &watchdog)
            .with_context(|| format!("row `{}`", attack.name()))?;
        each(&result);
        results.push(result);
    }
    Ok(results)
}

/// Every way the results differ from what the limits promise, one line
/// each (empty: as expected).
pub(crate) fn unexpected(results: &[RowResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| r.unexpected.iter().map(move |u| format!("{}: {u}", r.name)))
        .collect()
}

/// The load average, as `/proc/loadavg` gives it (1, 5 and 15 minutes).
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|e| format!("unknown ({e})"))
}

fn run_row(
    attack: Attack,
    settings: &Settings,
    sizes: &Sizes,
    watchdog: &Watchdog,
) -> anyhow::Result<RowResult> {
    let name = attack.name();
    let limits = attack.limits(sizes);
    let flags = limit_flags(&limits);
    watchdog.row(&name, ROW_LIMIT);
    let mut server = Server::start(&settings.server, &flags)?;
    watchdog.server(server.pid(), server.dir().to_owned());
    let pid = server.pid();
    let good = GoodClient::start(server.socket(), server.key())?;
    thread::sleep(settings.baseline);
    let start = memory::status(pid)?;
    let exact_peak = memory::reset_peak_rss(pid);
    let sampler = memory::Sampler::start(pid)?;
    let attack_start = Instant::now();
    let attack_began = Mono::now();
    let ctx = Ctx {
        server: &server,
        sizes,
        limits: limits.clone(),
        hold: settings.hold,
    };
    let outcome = attack.run(&ctx).unwrap_or_else(|e| Outcome::failed(&e));
    let attack_end = Instant::now();
    let attack_ended = Mono::now();
    let sampled = sampler.stop();
    let peak = match memory::status(pid) {
        Ok(end) if exact_peak => end.hwm.max(sampled),
        _ => sampled,
    };
    // The control: as long as the attack took, so both phases have as
    // many chances of an unlucky call.
    let busy_start = Mono::now();
    let busy_reads = busy::run(
        server.socket(),
        server.key(),
        (attack_end - attack_start).min(CONTROL_LIMIT),
    )
    .context("the busy control client")?;
    let busy_end = Mono::now();
    let calls = good.stop()?;
    let after = memory::settled_rss(pid, settings.settle).unwrap_or(0);
    let died = server.ended();
    let (log_warnings, log_last) = server.warnings();
    drop(server);
    watchdog.idle();

    let [baseline, during, busy] =
        good::split(&calls, [attack_began, attack_ended, busy_start, busy_end]);
    let worst_at = during.worst_start.map(|t| t.since(attack_began));
    let mut unexpected: Vec<String> = outcome.unexpected.into_iter().collect();
    if let Some(died) = &died {
        unexpected.push(format!("the manager died ({died})"));
    }
    let errors = during.errors + busy.errors + baseline.errors;
    if errors > 0 {
        unexpected.push(format!(
            "{errors} of the good client's calls failed: {}",
            [&during, &busy, &baseline]
                .into_iter()
                .find_map(|l| l.first_error.as_deref())
                .unwrap_or("")
        ));
    }
    Ok(RowResult {
        title: attack.title(sizes, &limits),
        name,
        flags,
        outcome: outcome.text,
        unexpected,
        died,
        baseline,
        busy,
        busy_reads,
        attack: during,
        attack_took: attack_end - attack_start,
        worst_at,
        rss: [start.rss, peak, after],
        exact_peak,
        log_warnings,
        log_last: log_last.unwrap_or_default(),
    })
}

/// The `manager-server` flags for every limit that is not its default.
fn limit_flags(limits: &Limits) -> Vec<String> {
    let d = Limits::default();
    let mut flags = Vec::new();
    let mut flag = |name: &str, value: String| {
        flags.push(format!("--{name}"));
        flags.push(value);
    };
    if limits.max_frame != d.max_frame {
        flag("max-frame", limits.max_frame.to_string());
    }
    if limits.handshake_timeout != d.handshake_timeout {
        flag(
            "handshake-timeout-ms",
            limits.handshake_timeout.as_millis().to_string(),
        );
    }
    if limits.frame_timeout != d.frame_timeout {
        flag(
            "frame-timeout-ms",
            limits.frame_timeout.as_millis().to_string(),
        );
    }
    if limits.max_in_flight != d.max_in_flight {
        flag("max-in-flight", limits.max_in_flight.to_string());
    }
    if limits.max_backlog_bytes != d.max_backlog_bytes {
        flag("max-backlog-bytes", limits.max_backlog_bytes.to_string());
    }
    if limits.max_parked != d.max_parked {
        flag("max-parked", limits.max_parked.to_string());
    }
    if limits.max_connections != d.max_connections {
        flag("max-connections", limits.max_connections.to_string());
    }
    if limits.max_handshakes != d.max_handshakes {
        flag("max-handshakes", limits.max_handshakes.to_string());
    }
    if limits.max_objects != d.max_objects {
        flag("max-objects", limits.max_objects.to_string());
    }
    flags
}

/// Raises this process's soft limit on open files to `needed` if it is
/// lower (the server started later inherits it).
#[allow(unsafe_code)]
fn raise_fd_limit(needed: u64) -> anyhow::Result<()> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only the struct given, which outlives the
    // call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(std::io::Error::last_os_error()).context("getrlimit");
    }
    if limit.rlim_cur >= needed {
        return Ok(());
    }
    ensure!(
        limit.rlim_max >= needed,
        "the connection floods need {needed} open files; the hard limit is {}",
        limit.rlim_max
    );
    limit.rlim_cur = needed;
    // SAFETY: setrlimit only reads the struct given.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } != 0 {
        return Err(std::io::Error::last_os_error()).context("setrlimit");
    }
    Ok(())
}
