//! `manager-server`: a manager served stand-alone on a Unix socket path or a
//! TCP address until SIGINT or SIGTERM, for processes that did not start it.
//!
//! This package holds the command line (arguments, the key, logging, the
//! exit code) so that the `manager` crate's users compile neither clap nor
//! tracing-subscriber. The options, the ready line, the key in the
//! environment and shutdown are described in `manager::manager_process`.
//!
//! # Features
//!
//! - `metrics` (on): `--metrics IP:PORT` serves Prometheus metrics at
//!   `http://IP:PORT/metrics` (see `manager::manager` and
//!   `manager_ipc::server::metrics`); without it the command builds no
//!   HTTP server and has no such flag.
//!
//! # Example
//!
//! A server of your own that also serves the application's object types:
//!
//! ```no_run
//! # struct Ledger;
//! # impl manager::CustomType for Ledger {
//! #     const TYPE_NAME: &'static str = "ledger";
//! #     type Init = (); type Request = (); type Reply = ();
//! # }
//! # impl manager::CustomObject for Ledger {
//! #     fn create((): ()) -> Result<Self, String> { Ok(Ledger) }
//! #     fn handle(&mut self, (): (), _: &manager::CallInfo<'_>) {}
//! # }
//! fn main() -> std::process::ExitCode {
//!     let types = manager::CustomTypes::new().register::<Ledger>();
//!     manager_server::server_main_with(&types)
//! }
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser};

use manager::auth::AuthKeyError;
use manager::launcher::ENV_AUTHKEY;
use manager::manager_process::{
    ServeError, run_if_server_entry, serve_standalone, take_authkey_var,
};
use manager::{AuthKey, CustomTypes, Limits, Manager, ManagerBuilder};

/// Serves a manager of shared objects until SIGINT or SIGTERM.
///
/// Prints `listening on ADDRESS` on stdout once ready. The authkey (hex)
/// comes from an environment variable or a file, never from the command
/// line.
#[derive(Debug, Parser)]
#[command(name = "manager-server", version)]
struct Cli {
    #[command(flatten)]
    listen: Listen,

    /// The environment variable holding the authkey, in hex; removed from
    /// the server's environment once read.
    #[arg(long, value_name = "NAME", default_value = ENV_AUTHKEY)]
    authkey_env: String,

    /// A file holding the authkey, in hex (surrounding whitespace is
    /// ignored); keep it mode 0600.
    #[arg(long, value_name = "PATH", conflicts_with = "authkey_env")]
    authkey_file: Option<PathBuf>,

    #[command(flatten)]
    limits: LimitFlags,

    /// Also serve Prometheus metrics at http://IP:PORT/metrics (port 0
    /// picks a free one, printed as `metrics on IP:PORT` after the ready
    /// line). Not authenticated: it shows object names and counts, not
    /// values; use a loopback address (another one is warned about).
    #[cfg(feature = "metrics")]
    #[arg(long, value_name = "IP:PORT")]
    metrics: Option<SocketAddr>,

    /// The most objects whose samples one scrape shows (the first by name;
    /// the rest are counted as omitted).
    #[cfg(feature = "metrics")]
    #[arg(long, value_name = "N", default_value_t = manager::metrics::MAX_OBJECTS, requires = "metrics")]
    metrics_max_objects: usize,

    /// The most metrics connections open at once.
    #[cfg(feature = "metrics")]
    #[arg(long, value_name = "N", default_value_t = manager::metrics::MAX_CONNECTIONS, requires = "metrics")]
    metrics_max_connections: usize,
}

/// The manager's limits (see `Limits` in the library docs and
/// docs/security.md); each unset one keeps its default.
#[derive(Debug, Args)]
struct LimitFlags {
    /// The largest frame accepted or sent, in bytes (default 16 MiB).
    #[arg(long, value_name = "BYTES")]
    max_frame: Option<usize>,

    /// How long a client has to authenticate, in milliseconds (default
    /// 5000).
    #[arg(long, value_name = "MS")]
    handshake_timeout_ms: Option<u64>,

    /// How long a begun frame may take to arrive whole, in milliseconds
    /// (default 30000).
    #[arg(long, value_name = "MS")]
    frame_timeout_ms: Option<u64>,

    /// Unwritten replies per connection before its requests stop being read
    /// (default 4096).
    #[arg(long, value_name = "N")]
    max_in_flight: Option<usize>,

    /// Bytes of unwritten replies per connection before its requests stop
    /// being read (default 64 MiB).
    #[arg(long, value_name = "BYTES")]
    max_backlog_bytes: Option<usize>,

    /// Parked requests per connection (default 65536).
    #[arg(long, value_name = "N")]
    max_parked: Option<usize>,

    /// Authenticated connections at once (default 1024).
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,

    /// Connections in their handshake at once (default 128).
    #[arg(long, value_name = "N")]
    max_handshakes: Option<usize>,

    /// Objects at once (default 100000).
    #[arg(long, value_name = "N")]
    max_objects: Option<usize>,

    /// Threads to run objects and connections on (default: the CPUs this
    /// process may use).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,

    /// Bytes of the largest shared memory block (default 4 GiB).
    #[arg(long, value_name = "BYTES")]
    max_shared_memory_block: Option<u64>,

    /// Bytes of all shared memory blocks together (default 8 GiB).
    #[arg(long, value_name = "BYTES")]
    max_shared_memory: Option<u64>,

    /// Shared memory blocks at once (default 1024); each holds a
    /// descriptor of the server's.
    #[arg(long, value_name = "N")]
    max_shared_memory_blocks: Option<usize>,

    /// Shared memory descriptors one connection may have unread (default
    /// 16); one more mapping waits until its client reads.
    #[arg(long, value_name = "N")]
    max_descriptors_unread: Option<usize>,

    /// Shared memory descriptors all connections may have unread (default
    /// 512); a mapping past it fails. Keep it below `ulimit -n`.
    #[arg(long, value_name = "N")]
    max_descriptors_in_flight: Option<usize>,
}

impl LimitFlags {
    /// The default limits with the flags given applied.
    fn limits(&self) -> Limits {
        let mut limits = Limits::default();
        let millis = std::time::Duration::from_millis;
        if let Some(v) = self.max_frame {
            limits.max_frame = v;
        }
        if let Some(v) = self.handshake_timeout_ms {
            limits.handshake_timeout = millis(v);
        }
        if let Some(v) = self.frame_timeout_ms {
            limits.frame_timeout = millis(v);
        }
        if let Some(v) = self.max_in_flight {
            limits.max_in_flight = v;
        }
        if let Some(v) = self.max_backlog_bytes {
            limits.max_backlog_bytes = v;
        }
        if let Some(v) = self.max_parked {
            limits.max_parked = v;
        }
        if let Some(v) = self.max_connections {
            limits.max_connections = v;
        }
        if let Some(v) = self.max_handshakes {
            limits.max_handshakes = v;
        }
        if let Some(v) = self.max_shared_memory_block {
            limits.max_shared_memory_block = v;
        }
        if let Some(v) = self.max_shared_memory {
            limits.max_shared_memory = v;
        }
        if let Some(v) = self.max_shared_memory_blocks {
            limits.max_shared_memory_blocks = v;
        }
        if let Some(v) = self.max_descriptors_unread {
            limits.max_descriptors_unread = v;
        }
        if let Some(v) = self.max_descriptors_in_flight {
            limits.max_descriptors_in_flight = v;
        }
        if let Some(v) = self.max_objects {
            limits.max_objects = v;
        }
        if let Some(v) = self.threads {
            limits.threads = v;
        }
        limits
    }
}

/// Where to listen: exactly one of the two.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct Listen {
    /// Listen on a Unix domain socket at this path (mode 0600; removed at
    /// shutdown).
    #[arg(long, value_name = "PATH")]
    unix: Option<PathBuf>,

    /// Listen on TCP at this address, e.g. 127.0.0.1:5000 (port 0 picks a
    /// free one). Use loopback unless other hosts must connect.
    #[arg(long, value_name = "IP:PORT")]
    tcp: Option<SocketAddr>,
}

/// The `main` of `manager-server`: parses the command line, serves until
/// SIGINT or SIGTERM, and returns the exit code (0 after a clean stop, 1 if
/// the server cannot start, 2 for bad usage). Errors are one line on
/// stderr.
///
/// Call it first thing in `main`: it removes the authkey's variable from
/// the environment once read, which it can do only while no other thread
/// runs (see [the authkey in the environment](manager::manager_process#the-authkey-in-the-environment)).
///
/// The program also runs the built-in entry of a
/// [`ManagerProcess`](manager::ManagerProcess), so it can be given to
/// [`ManagerProcessBuilder::program`](manager::ManagerProcessBuilder::program).
///
/// # Examples
///
/// A binary of your own that is a `manager-server`:
///
/// ```no_run
/// fn main() -> std::process::ExitCode {
///     manager_server::server_main()
/// }
/// ```
pub fn server_main() -> ExitCode {
    server_main_with(&CustomTypes::new())
}

/// [`server_main`] for a manager that also serves the application's own
/// object types: a stand-alone server for them is a binary of the
/// application's.
///
/// # Examples
///
/// ```no_run
/// # struct Ledger;
/// # impl manager::CustomType for Ledger {
/// #     const TYPE_NAME: &'static str = "ledger";
/// #     type Init = (); type Request = (); type Reply = ();
/// # }
/// # impl manager::CustomObject for Ledger {
/// #     fn create((): ()) -> Result<Self, String> { Ok(Ledger) }
/// #     fn handle(&mut self, (): (), _: &manager::CallInfo<'_>) {}
/// # }
/// fn main() -> std::process::ExitCode {
///     let types = manager::CustomTypes::new().register::<Ledger>();
///     manager_server::server_main_with(&types)
/// }
/// ```
pub fn server_main_with(custom: &CustomTypes) -> ExitCode {
    if let Some(code) = run_if_server_entry(custom) {
        return exit_code(code);
    }
    let cli = Cli::parse();
    init_logging();
    match builder(&cli)
        .map(|builder| builder.custom_types(custom))
        .and_then(serve_standalone)
    {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("manager-server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (else `info`), coloured only on
/// a terminal, unless the program already set a subscriber.
fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn builder(cli: &Cli) -> Result<ManagerBuilder, ServeError> {
    let mut builder = Manager::builder().authkey(authkey(cli)?);
    builder = match (&cli.listen.unix, cli.listen.tcp) {
        (Some(path), _) => builder.unix(path),
        (None, Some(addr)) => builder.tcp(addr),
        // clap requires one of the two.
        (None, None) => {
            return Err(ServeError::Config(
                "give --unix PATH or --tcp IP:PORT".into(),
            ));
        }
    };
    builder = builder.limits(cli.limits.limits());
    #[cfg(feature = "metrics")]
    if let Some(addr) = cli.metrics {
        let limits = manager::metrics::MetricsLimits {
            max_objects: cli.metrics_max_objects,
            max_connections: cli.metrics_max_connections,
            ..Default::default()
        };
        builder = builder.metrics(addr).metrics_limits(limits);
    }
    Ok(builder)
}

fn authkey(cli: &Cli) -> Result<AuthKey, ServeError> {
    let (text, source) = match &cli.authkey_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ServeError::Config(format!("read the authkey file {}: {e}", path.display()))
            })?;
            (text, format!("the authkey file {}", path.display()))
        }
        None => {
            let name = &cli.authkey_env;
            let text = take_authkey_var(name).map_err(|e| {
                ServeError::Config(match e {
                    std::env::VarError::NotPresent => format!(
                        "no authkey: the environment variable {name} is not set (put a hex key there, or use --authkey-file PATH)"
                    ),
                    std::env::VarError::NotUnicode(_) => {
                        format!("the authkey in the environment variable {name} is not hex")
                    }
                })
            })?;
            (text, format!("the environment variable {name}"))
        }
    };
    let key = AuthKey::from_hex(&text).map_err(|e| {
        ServeError::Config(match e {
            // Not the decoder's message: it quotes a character of the key.
            AuthKeyError::NotHex(_) => {
                format!("the authkey in {source} is not hex (an even number of 0-9, a-f digits)")
            }
            other => format!("the authkey in {source}: {other}"),
        })
    })?;
    if let Some(path) = &cli.authkey_file {
        warn_if_others_can_read(path);
    }
    Ok(key)
}

fn warn_if_others_can_read(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = %path.display(),
                mode = format_args!("{mode:o}"),
                "the authkey file can be read by other users; chmod 600 it"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn max_parked_sets_that_limit() {
        let parse = |args: &[&str]| Cli::try_parse_from(["manager-server"].iter().chain(args));
        let cli = parse(&["--unix", "/tmp/x", "--max-parked", "8"]).unwrap();
        assert_eq!(cli.limits.limits().max_parked, 8);
        assert!(parse(&["--unix", "/tmp/x", "--max-parked", "-1"]).is_err());
    }

    #[cfg(feature = "metrics")]
    #[test]
    fn metrics_takes_an_ip_and_port() {
        let parse = |args: &[&str]| Cli::try_parse_from(["manager-server"].iter().chain(args));
        let cli = parse(&["--unix", "/tmp/x"]).unwrap();
        assert_eq!(cli.metrics, None);
        let cli = parse(&["--unix", "/tmp/x", "--metrics", "127.0.0.1:9100"]).unwrap();
        assert_eq!(cli.metrics, Some("127.0.0.1:9100".parse().unwrap()));
        assert!(parse(&["--unix", "/tmp/x", "--metrics", "localhost"]).is_err());
    }

    #[cfg(feature = "metrics")]
    #[test]
    fn metrics_bounds_are_flags_that_need_metrics() {
        let parse = |args: &[&str]| Cli::try_parse_from(["manager-server"].iter().chain(args));
        let cli = parse(&["--unix", "/tmp/x", "--metrics", "127.0.0.1:0"]).unwrap();
        assert_eq!(cli.metrics_max_objects, manager::metrics::MAX_OBJECTS);
        assert_eq!(
            cli.metrics_max_connections,
            manager::metrics::MAX_CONNECTIONS
        );
        let cli = parse(&[
            "--unix",
            "/tmp/x",
            "--metrics",
            "127.0.0.1:0",
            "--metrics-max-objects",
            "5",
            "--metrics-max-connections",
            "2",
        ])
        .unwrap();
        assert_eq!(
            (cli.metrics_max_objects, cli.metrics_max_connections),
            (5, 2)
        );
        assert!(parse(&["--unix", "/tmp/x", "--metrics-max-objects", "5"]).is_err());
    }

    #[test]
    fn exactly_one_address_and_at_most_one_key_source() {
        let parse = |args: &[&str]| Cli::try_parse_from(["manager-server"].iter().chain(args));
        assert!(parse(&[]).is_err());
        assert!(parse(&["--unix", "/tmp/x", "--tcp", "127.0.0.1:1"]).is_err());
        assert!(parse(&["--unix", "/tmp/x"]).is_ok());
        assert!(parse(&["--tcp", "127.0.0.1:0", "--authkey-file", "/k"]).is_ok());
        assert!(
            parse(&[
                "--tcp",
                "127.0.0.1:0",
                "--authkey-env",
                "K",
                "--authkey-file",
                "/k"
            ])
            .is_err()
        );
        assert!(parse(&["--tcp", "localhost"]).is_err());
    }
}
