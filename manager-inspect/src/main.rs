//! `manager-inspect`: shows what a running manager holds, its clients and
//! totals, over the same authenticated protocol as every other client.
//!
//! ```sh
//! export MANAGER_AUTHKEY=...   # the manager's key, in hex
//! manager-inspect --unix /tmp/app.sock            # tables, once
//! manager-inspect --tcp 127.0.0.1:5000 --json     # one snapshot as JSON
//! manager-inspect --unix /tmp/app.sock --watch    # refreshed every second
//! ```
//!
//! The key comes from an environment variable (`--authkey-env NAME`, default
//! `MANAGER_AUTHKEY`) or a file (`--authkey-file PATH`), never from the
//! command line. An unreachable address or a wrong key is one line on
//! stderr and exit code 1.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser};
use manager_ipc::inspect::{KindDetail, ManagerSnapshot, ObjectReport, Peer, UnixMillis};
use manager_ipc::{Address, AuthKey, Client};

/// Longest wait for one snapshot.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Shows what a running manager holds: its objects (actors), its clients and
/// totals.
#[derive(Debug, Parser)]
#[command(name = "manager-inspect", version)]
struct Cli {
    #[command(flatten)]
    address: Target,

    /// The environment variable holding the authkey, in hex.
    #[arg(long, value_name = "NAME", default_value = "MANAGER_AUTHKEY")]
    authkey_env: String,

    /// A file holding the authkey, in hex (surrounding whitespace is
    /// ignored).
    #[arg(long, value_name = "PATH", conflicts_with = "authkey_env")]
    authkey_file: Option<PathBuf>,

    /// Print one snapshot as JSON.
    #[arg(long, conflicts_with = "watch")]
    json: bool,

    /// Refresh the tables in place every second, until interrupted.
    #[arg(long)]
    watch: bool,
}

/// Where the manager listens.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct Target {
    /// The manager's Unix socket.
    #[arg(long, value_name = "PATH")]
    unix: Option<PathBuf>,

    /// The manager's TCP address.
    #[arg(long, value_name = "IP:PORT")]
    tcp: Option<SocketAddr>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("manager-inspect: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let address = match (&cli.address.unix, cli.address.tcp) {
        (Some(path), _) => Address::Unix(path.clone()),
        (None, Some(addr)) => Address::Tcp(addr),
        (None, None) => bail!("no address: use --unix PATH or --tcp IP:PORT"),
    };
    let key = authkey(cli)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the runtime")?;
    runtime.block_on(async {
        let client = Client::connect(&address, &key)
            .await?
            .with_timeout(CALL_TIMEOUT);
        if cli.json {
            let snapshot = client.inspect().await?;
            println!("{}", serde_json::to_string_pretty(&snapshot)?);
            return Ok(());
        }
        if !cli.watch {
            print!("{}", render(&address, &client.inspect().await?));
            return Ok(());
        }
        let mut ticks = tokio::time::interval(Duration::from_secs(1));
        loop {
            ticks.tick().await;
            let page = render(&address, &client.inspect().await?);
            // Home, the page, then clear whatever the last page left below.
            let mut out = std::io::stdout().lock();
            write!(out, "\x1b[H{}\x1b[J", page.replace('\n', "\x1b[K\n"))?;
            out.flush()?;
        }
    })
}

/// The key from `--authkey-file` or the environment variable.
fn authkey(cli: &Cli) -> anyhow::Result<AuthKey> {
    let (text, source) = match &cli.authkey_file {
        Some(path) => (
            std::fs::read_to_string(path)
                .with_context(|| format!("read the authkey file {}", path.display()))?,
            format!("the authkey file {}", path.display()),
        ),
        None => {
            let name = &cli.authkey_env;
            let text = std::env::var(name).map_err(|_| {
                anyhow::anyhow!(
                    "no authkey: the environment variable {name} is not set (put a hex key there, or use --authkey-file PATH)"
                )
            })?;
            (text, format!("the environment variable {name}"))
        }
    };
    AuthKey::from_hex(text.trim()).with_context(|| format!("the authkey in {source}"))
}

/// The tables of one snapshot.
fn render(address: &Address, snapshot: &ManagerSnapshot) -> String {
    let now = snapshot.totals.taken_at;
    let t = &snapshot.totals;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "manager at {address}   protocol {}   build {}   up {}",
        t.protocol_version,
        t.build_version,
        duration(t.uptime)
    );
    let _ = writeln!(
        out,
        "connections {} now, {} since start   requests {} ({:.1}/s over {})",
        t.connections_now,
        t.connections_total,
        t.requests_total,
        t.requests_per_second(),
        duration(t.rate_window)
    );
    out.push('\n');

    let mut rows = vec![
        [
            "ID", "NAME", "KIND", "SIZE", "WAITERS", "MAILBOX", "HANDLED", "BYTES", "LAST OP",
            "HOLDERS",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for o in &snapshot.objects {
        rows.push(object_row(o, now));
    }
    table(&mut out, "OBJECTS", &rows);
    out.push('\n');

    let mut rows = vec![
        ["ID", "PEER", "CONNECTED", "SERVED", "IN FLIGHT", "HOLDS"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for c in &snapshot.connections {
        let peer = match &c.peer {
            Peer::Unix {
                pid: Some(pid),
                uid,
            } => match uid {
                Some(uid) => format!("pid {pid} uid {uid}"),
                None => format!("pid {pid}"),
            },
            other => other.to_string(),
        };
        let me = if c.id == snapshot.requested_by {
            " (this)"
        } else {
            ""
        };
        let holds = c
            .holds
            .iter()
            .map(|h| match h.count {
                1 => h.name.to_string(),
                n => format!("{} x{n}", h.name),
            })
            .collect::<Vec<_>>()
            .join(", ");
        rows.push(vec![
            format!("{}{me}", c.id),
            peer,
            format!("{} ago", duration(c.connected_at.elapsed_until(now))),
            c.requests_served.to_string(),
            c.requests_in_flight.to_string(),
            holds,
        ]);
    }
    table(&mut out, "CLIENTS", &rows);
    out
}

fn object_row(o: &ObjectReport, now: UnixMillis) -> Vec<String> {
    let unknown = || "?".to_owned();
    let (size, waiters, bytes, holders) = match &o.detail {
        Some(d) => (
            size(&d.size),
            d.waiters.to_string(),
            d.bytes_held.to_string(),
            d.holders
                .iter()
                .map(|h| format!("conn {}", h.connection))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        None => (unknown(), unknown(), unknown(), unknown()),
    };
    vec![
        o.id.0.to_string(),
        o.name.to_string(),
        o.kind.to_string(),
        size,
        waiters,
        o.mailbox.to_string(),
        o.messages_handled.to_string(),
        bytes,
        match o.last_operation {
            Some(t) => format!("{} ago", duration(t.elapsed_until(now))),
            None => "never".to_owned(),
        },
        holders,
    ]
}

fn size(detail: &KindDetail) -> String {
    match detail {
        KindDetail::Opaque | KindDetail::Value => "-".to_owned(),
        KindDetail::Items { len } => format!("{len} items"),
        KindDetail::Queue {
            len,
            maxsize,
            unfinished,
        } => {
            let mut s = match maxsize {
                Some(max) => format!("{len}/{max} items"),
                None => format!("{len} items"),
            };
            if let Some(n) = unfinished {
                let _ = write!(s, ", {n} unfinished");
            }
            s
        }
        KindDetail::Lock { depth: 0 } => "free".to_owned(),
        KindDetail::Lock { depth: 1 } => "held".to_owned(),
        KindDetail::Lock { depth } => format!("held x{depth}"),
        KindDetail::Semaphore {
            value,
            bound,
            owned,
        } => match bound {
            Some(b) => format!("{value}/{b} free, {owned} owned"),
            None => format!("{value} free, {owned} owned"),
        },
        KindDetail::Event { set } => if *set { "set" } else { "clear" }.to_owned(),
        KindDetail::Condition { locked, sleepers } => format!(
            "{}, {sleepers} waiting",
            if *locked { "locked" } else { "free" }
        ),
        KindDetail::Barrier {
            parties,
            waiting,
            broken,
        } => format!(
            "{waiting}/{parties}{}",
            if *broken { ", broken" } else { "" }
        ),
    }
}

fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m{:02}s", secs / 3600, secs / 60 % 60, secs % 60),
    }
}

/// Writes `rows` (the first is the header) as aligned columns under `title`.
fn table(out: &mut String, title: &str, rows: &[Vec<String>]) {
    let _ = writeln!(out, "{title}");
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let _ = write!(line, "{cell:<width$}  ", width = widths[c]);
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if rows.len() == 1 {
        let _ = writeln!(out, "(none)");
    }
}
