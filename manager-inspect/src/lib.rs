//! The tables of `manager-inspect`: how a [`ManagerSnapshot`] reads as
//! text. The `manager-inspect` binary of this package prints them (once,
//! or refreshed with `--watch`, or the snapshot as JSON with `--json`);
//! programs that inspect their own manager can print the same page with
//! [`render`].
//!
//! # Example
//!
//! ```
//! let manager = manager::Manager::start()?;
//! let client = manager.connect()?;
//! client.queue::<u32>("jobs", None)?.put(&1)?;
//! let page = manager_inspect::render(manager.address(), &client.inspect()?);
//! assert!(page.contains("jobs"));
//! assert!(page.contains("1 item"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use manager::Address;
use manager::inspect::{KindDetail, ManagerSnapshot, ObjectReport, Peer, UnixMillis};

/// The page `manager-inspect` prints for one snapshot of the manager at
/// `address`: a header with the totals, then the objects and clients
/// tables.
pub fn render(address: &Address, snapshot: &ManagerSnapshot) -> String {
    let now = snapshot.totals.taken_at;
    let t = &snapshot.totals;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "manager at {address}   protocol {}   build {}   threads {}   up {}",
        t.protocol_version,
        t.build_version,
        t.threads,
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
            "THREAD", "HOLDERS",
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
        [
            "ID",
            "PEER",
            "THREAD",
            "CONNECTED",
            "SERVED",
            "IN FLIGHT",
            "HOLDS",
        ]
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
            c.thread.to_string(),
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
        o.thread.to_string(),
        holders,
    ]
}

fn size(detail: &KindDetail) -> String {
    match detail {
        KindDetail::Opaque | KindDetail::Value => "-".to_owned(),
        KindDetail::Items { len } => items(*len),
        KindDetail::Queue {
            len,
            maxsize,
            unfinished,
            in_flight,
        } => {
            let mut s = match maxsize {
                Some(max) => format!("{len}/{max} items"),
                None => items(*len),
            };
            if *in_flight > 0 {
                let _ = write!(s, ", {in_flight} in flight");
            }
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

/// "1 item", "2 items".
fn items(n: u64) -> String {
    if n == 1 {
        "1 item".to_owned()
    } else {
        format!("{n} items")
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
