//! The attacks, one per row: what each sends, what it waits for, and how it
//! words what the manager did.
//!
//! Every attack runs on connections of its own (never the good client's),
//! holds its hostile state for a while ([`Ctx::hold`]) so that the good
//! client feels it, and then undoes what it can: it disconnects and removes
//! the objects it made, and waits until the manager has seen the
//! disconnect, so that the memory measured afterwards is what the manager
//! keeps.

mod floods;
mod frames;
mod replies;
mod waiters;

use std::thread;
use std::time::{Duration, Instant};

use anyhow::ensure;
use manager::Limits;
use manager_core::reply::{RegistryReply, Reply};
use manager_core::request::{ObjectRequest, Request};
use manager_core::{ManagerError, ObjectId};
use manager_ipc::frame::DEFAULT_MAX_FRAME;

use super::raw::Raw;
use super::report::{bytes, duration};
use super::server::Server;

/// How long a reply to one hostile request may take.
const REPLY_LIMIT: Duration = Duration::from_secs(300);

/// How long the manager may take to notice that connections have closed.
const GONE_LIMIT: Duration = Duration::from_secs(60);

/// The sizes of the attacks: the at full size, small ones for a
/// quick run.
#[derive(Debug, Clone)]
pub(crate) struct Sizes {
    /// Whether these are the quick sizes (and limits lowered to match).
    pub(crate) quick: bool,
    /// Pipelined gets per connection, the value they get, the connections.
    pub(crate) backlog_gets: usize,
    pub(crate) backlog_value: usize,
    pub(crate) backlog_connections: usize,
    /// What the silent frame's header announces.
    pub(crate) slow_frame: usize,
    /// The List Extend frame's size.
    pub(crate) extend_frame: usize,
    /// Objects made for the listing and the inspections; inspections.
    pub(crate) objects: usize,
    pub(crate) inspections: usize,
    /// Large dict values (each as large as a frame allows).
    pub(crate) dict_values: usize,
    /// The two counts of timed waits, and how long each waits.
    pub(crate) waits: [usize; 2],
    pub(crate) wait_for: Duration,
    /// Lock acquires parked on one connection.
    pub(crate) parked: usize,
    /// Connections opened beyond `max_connections` and `max_handshakes`.
    pub(crate) extra_connections: usize,
    pub(crate) extra_handshakes: usize,
}

impl Sizes {
    /// The sizes of the table.
    pub(crate) fn full() -> Sizes {
        Sizes {
            quick: false,
            backlog_gets: 10_000,
            backlog_value: 128 << 10,
            backlog_connections: 3,
            slow_frame: DEFAULT_MAX_FRAME,
            extend_frame: DEFAULT_MAX_FRAME,
            objects: 100_000,
            inspections: 5,
            dict_values: 16,
            waits: [20_000, 40_000],
            wait_for: Duration::from_secs(5),
            parked: 300_000,
            extra_connections: 100,
            extra_handshakes: 72,
        }
    }

    /// Every attack small enough for seconds in all, in a debug build.
    pub(crate) fn quick() -> Sizes {
        Sizes {
            quick: true,
            backlog_gets: 1_000,
            backlog_value: 128 << 10,
            backlog_connections: 3,
            slow_frame: 1 << 20,
            extend_frame: 1 << 20,
            objects: 2_000,
            inspections: 3,
            dict_values: 4,
            waits: [1_000, 2_000],
            wait_for: Duration::from_secs(1),
            parked: 5_000,
            extra_connections: 4,
            extra_handshakes: 8,
        }
    }
}

/// One row's attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attack {
    /// A short frame whose string claims a gigabyte, under an address-space
    /// limit.
    Bomb,
    /// Pipelined gets of a large value, replies never read.
    Backlog,
    /// A frame header, all but one byte of the body, then silence.
    SlowFrame,
    /// One frame-sized List Extend of empty values.
    Extend,
    /// Many objects, then a registry listing.
    Listing,
    /// Many objects, then inspections in a loop.
    Inspect,
    /// Frame-sized dict values, then Dict Values.
    DictValues,
    /// This many timed queue gets expiring together.
    Waits(usize),
    /// Lock acquires parked on one connection.
    Parked,
    /// More authenticated connections than `max_connections`.
    Connections,
    /// More silent unauthenticated connections than `max_handshakes`.
    Handshakes,
}

impl Attack {
    /// Every row, in the order of the table, then the floods.
    pub(crate) fn all(sizes: &Sizes) -> Vec<Attack> {
        vec![
            Attack::Bomb,
            Attack::Backlog,
            Attack::SlowFrame,
            Attack::Extend,
            Attack::Listing,
            Attack::Inspect,
            Attack::DictValues,
            Attack::Waits(sizes.waits[0]),
            Attack::Waits(sizes.waits[1]),
            Attack::Parked,
            Attack::Connections,
            Attack::Handshakes,
        ]
    }

    /// A short name, for `BENCH_ROWS` and progress lines.
    pub(crate) fn name(self) -> String {
        match self {
            Attack::Bomb => "bomb".into(),
            Attack::Backlog => "backlog".into(),
            Attack::SlowFrame => "slow-frame".into(),
            Attack::Extend => "extend".into(),
            Attack::Listing => "listing".into(),
            Attack::Inspect => "inspect".into(),
            Attack::DictValues => "dict-values".into(),
            Attack::Waits(n) => format!("waits-{n}"),
            Attack::Parked => "parked".into(),
            Attack::Connections => "connections".into(),
            Attack::Handshakes => "handshakes".into(),
        }
    }

    /// The limits the row's server runs with: the defaults, except in a
    /// quick run, where a row whose attack is sized down gets its limit
    /// lowered so that it still reaches it.
    pub(crate) fn limits(self, sizes: &Sizes) -> Limits {
        let mut limits = Limits::default();
        if sizes.quick {
            match self {
                Attack::Backlog => limits.max_backlog_bytes = 8 << 20,
                Attack::SlowFrame => limits.frame_timeout = Duration::from_millis(500),
                Attack::DictValues => limits.max_frame = 2 << 20,
                Attack::Parked => limits.max_parked = 1_000,
                Attack::Connections => limits.max_connections = 8,
                Attack::Handshakes => {
                    limits.max_handshakes = 8;
                    limits.handshake_timeout = Duration::from_secs(1);
                }
                _ => {}
            }
        }
        limits
    }

    /// What one client did, as the table's first column says it.
    pub(crate) fn title(self, sizes: &Sizes, limits: &Limits) -> String {
        match self {
            Attack::Bomb => format!(
                "a {}-byte frame whose String claims 2^30-64 bytes, manager under `prlimit --as` (its VmSize + 256 MiB)",
                frames::bomb_frame(1).len()
            ),
            Attack::Backlog => format!(
                "{} connections, each {} pipelined Gets of a {} value, never reading replies",
                sizes.backlog_connections,
                sizes.backlog_gets,
                bytes(sizes.backlog_value as u64)
            ),
            Attack::SlowFrame => format!(
                "a frame header of {}, then {} - 1 body bytes, then silence",
                bytes(sizes.slow_frame as u64),
                bytes(sizes.slow_frame as u64)
            ),
            Attack::Extend => format!(
                "one {} List Extend of empty values",
                bytes(sizes.extend_frame as u64)
            ),
            Attack::Listing => format!("{} objects, then a registry listing", sizes.objects),
            Attack::Inspect => format!(
                "Inspect in a loop ({} times) with {} objects",
                sizes.inspections, sizes.objects
            ),
            Attack::DictValues => format!(
                "{} values of ~{}, then Dict Values",
                sizes.dict_values,
                bytes(limits.max_frame as u64)
            ),
            Attack::Waits(n) => format!(
                "{n} timed queue gets ({}) expiring together",
                duration(sizes.wait_for)
            ),
            Attack::Parked => format!("{} parked lock acquires on one connection", sizes.parked),
            Attack::Connections => format!(
                "{} authenticated connections (max_connections {})",
                limits.max_connections + sizes.extra_connections,
                limits.max_connections
            ),
            Attack::Handshakes => format!(
                "{} silent unauthenticated connections (max_handshakes {})",
                limits.max_handshakes + sizes.extra_handshakes,
                limits.max_handshakes
            ),
        }
    }

    /// Runs the attack against the row's server.
    pub(crate) fn run(self, ctx: &Ctx<'_>) -> anyhow::Result<Outcome> {
        match self {
            Attack::Bomb => frames::bomb(ctx),
            Attack::Backlog => replies::backlog(ctx),
            Attack::SlowFrame => frames::slow_frame(ctx),
            Attack::Extend => frames::extend(ctx),
            Attack::Listing => replies::listing(ctx),
            Attack::Inspect => replies::inspect(ctx),
            Attack::DictValues => replies::dict_values(ctx),
            Attack::Waits(n) => waiters::waits(ctx, n),
            Attack::Parked => waiters::parked(ctx),
            Attack::Connections => floods::connections(ctx),
            Attack::Handshakes => floods::handshakes(ctx),
        }
    }
}

/// What an attack found.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// What the manager did, in words.
    pub(crate) text: String,
    /// Why this is not what the limits promise, if it is not.
    pub(crate) unexpected: Option<String>,
}

impl Outcome {
    fn expected(text: String) -> Outcome {
        Outcome {
            text,
            unexpected: None,
        }
    }

    /// `text`, flagged with `why` unless `ok`.
    fn check(text: String, ok: bool, why: &str) -> Outcome {
        Outcome {
            text,
            unexpected: (!ok).then(|| why.to_owned()),
        }
    }

    /// An attack that could not be carried out.
    pub(crate) fn failed(error: &anyhow::Error) -> Outcome {
        Outcome {
            text: format!("attack failed: {error:#}"),
            unexpected: Some(format!("the attack failed: {error:#}")),
        }
    }
}

/// What an attack works with.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) server: &'a Server,
    pub(crate) sizes: &'a Sizes,
    pub(crate) limits: Limits,
    pub(crate) hold: Duration,
}

impl Ctx<'_> {
    /// A new authenticated connection to the row's server.
    fn connect(&self) -> anyhow::Result<Raw> {
        Raw::open(self.server.socket(), self.server.key())
    }

    /// Keeps the hostile state in place for a while.
    fn hold(&self) {
        thread::sleep(self.hold);
    }
}

/// A request to one object.
fn object(target: ObjectId, op: ObjectRequest) -> Request {
    Request::Object { target, op }
}

/// A reply in a few words.
fn describe(result: &Result<Reply, ManagerError>, len: usize) -> String {
    let size = bytes(len as u64);
    match result {
        Ok(Reply::Registry(RegistryReply::Objects(rows))) => {
            format!("a listing of {} objects ({size})", rows.len())
        }
        Ok(Reply::Registry(RegistryReply::Snapshot(snapshot))) => {
            format!("a snapshot of {} objects ({size})", snapshot.objects.len())
        }
        Ok(Reply::Values(values)) => format!("{} values ({size})", values.len()),
        Ok(Reply::Done) => "Done".into(),
        Ok(other) => {
            let mut text = format!("{other:?}");
            text.truncate(80);
            text
        }
        Err(e) => format!("\"{e}\""),
    }
}

/// How many requests of each connection in `ids` the manager has read and
/// not answered.
fn in_flight(observer: &mut Raw, ids: &[u64]) -> anyhow::Result<Vec<u64>> {
    let snapshot = observer.inspect()?;
    Ok(ids
        .iter()
        .map(|id| {
            snapshot
                .connections
                .iter()
                .find(|c| c.id == *id)
                .map_or(0, |c| c.requests_in_flight)
        })
        .collect())
}

/// Waits until the manager no longer lists any connection of `ids`.
fn wait_gone(observer: &mut Raw, ids: &[u64]) -> anyhow::Result<()> {
    let deadline = Instant::now() + GONE_LIMIT;
    loop {
        let snapshot = observer.inspect()?;
        if !snapshot.connections.iter().any(|c| ids.contains(&c.id)) {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "the manager still lists the attacker's connections after {}",
            duration(GONE_LIMIT)
        );
        thread::sleep(Duration::from_millis(20));
    }
}
