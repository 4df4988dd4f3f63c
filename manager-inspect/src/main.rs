//! `manager-inspect`: shows what a running manager holds, its clients and
//! totals, over the same authenticated protocol as every other client.
//!
//! ```sh
//! export MANAGER_AUTHKEY=...   # the manager's key, in hex
//! manager-inspect --unix /tmp/app.sock            # tables, once
//! manager-inspect --tcp 127.0.0.1:5000 --json     # one snapshot as JSON
//! manager-inspect --unix /tmp/app.sock --watch    # a live view, until `q`
//! ```
//!
//! In the JSON, durations are milliseconds and times are RFC 3339 strings
//! in UTC (see [`manager_inspect::json`]). The live view's keys are listed
//! in [`manager_inspect::watch`] and at its foot.
//!
//! The key comes from an environment variable (`--authkey-env NAME`, default
//! `MANAGER_AUTHKEY`) or a file (`--authkey-file PATH`), never from the
//! command line. An unreachable address or a wrong key is one line on
//! stderr and exit code 1.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Parser};
use manager::{Address, AuthKey, Client};
use manager_inspect::{json, render, watch};

/// Longest wait for one snapshot.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Shows what a running manager holds: its objects (actors), its clients and
/// totals.
#[derive(Debug, Parser)]
#[command(
    name = "manager-inspect",
    version,
    after_help = "JSON (--json): durations (totals.uptime, totals.rate_window) are numbers of \
                  milliseconds; times (taken_at, started_at, created_at, last_operation, \
                  connected_at) are RFC 3339 strings in UTC, e.g. \"2025-01-31T09:30:00.123Z\"; \
                  sizes are bytes.\n\n\
                  Live view (--watch) keys: q or Ctrl-C quit, Tab objects/connections, s/S sort \
                  by mailbox, requests, bytes or name, r reverse, / filter by name (Esc \
                  clears), arrows, PgUp/PgDn, Home/End scroll."
)]
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

    /// Print one snapshot as JSON: durations in milliseconds, times in RFC
    /// 3339 (UTC).
    #[arg(long, conflicts_with = "watch")]
    json: bool,

    /// A live view in the terminal, refreshed every interval, until `q`
    /// (without a terminal, the tables are printed at every refresh).
    #[arg(long)]
    watch: bool,

    /// Seconds between refreshes of --watch.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value = "1",
        requires = "watch",
        value_parser = interval
    )]
    interval: Duration,
}

/// A refresh interval in seconds, from 0.05 to a day.
fn interval(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(0.05..=86_400.0).contains(&secs) {
        return Err(format!("{secs} s is not between 0.05 s and a day"));
    }
    Ok(Duration::from_secs_f64(secs))
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
            println!("{:#}", json::snapshot(&snapshot));
            return Ok(());
        }
        if !cli.watch {
            print!("{}", render(&address, &client.inspect().await?));
            return Ok(());
        }
        watch(client, &address, cli.interval).await?;
        Ok(())
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
