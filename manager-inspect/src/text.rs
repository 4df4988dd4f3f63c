//! The one-shot page: a [`ManagerSnapshot`] as aligned text tables, and
//! the figures' formats the terminal view shares.

use std::fmt::Write as _;
use std::time::Duration;

use manager::Address;
use manager::inspect::{
    ConnectionReport, KindDetail, ManagerSnapshot, ObjectReport, Peer, UnixMillis,
};

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
    let _ = writeln!(
        out,
        "errors {}   failed handshakes {}   memory {}   shared memory {}   descriptors in flight {}",
        t.errors_total,
        t.handshakes_failed,
        rss(t.rss_bytes),
        bytes(t.shared_memory_bytes),
        t.descriptors_in_flight
    );
    out.push('\n');

    let mut rows = vec![
        [
            "ID", "NAME", "KIND", "SIZE", "WAITERS", "MAILBOX", "HANDLED", "P99", "BYTES",
            "LAST OP", "THREAD", "HOLDERS",
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
            "FDS",
            "HOLDS",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for c in &snapshot.connections {
        let peer = peer(&c.peer);
        let me = if c.id == snapshot.requested_by {
            " (this)"
        } else {
            ""
        };
        let holds = holds(c);
        rows.push(vec![
            format!("{}{me}", c.id),
            peer,
            c.thread.to_string(),
            format!("{} ago", duration(c.connected_at.elapsed_until(now))),
            c.requests_served.to_string(),
            c.requests_in_flight.to_string(),
            c.descriptors_unread.to_string(),
            holds,
        ]);
    }
    table(&mut out, "CLIENTS", &rows);
    out
}

/// The row of the objects table for `o`, as of `now`.
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
        o.latency
            .filter(|l| l.count > 0)
            .map_or_else(|| "-".to_owned(), |l| latency(l.p99)),
        bytes,
        ago(o.last_operation, now),
        o.thread.to_string(),
        holders,
    ]
}

/// What an object holds, in words: "3/10 items", "held", "set", ...
pub(crate) fn size(detail: &KindDetail) -> String {
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
        KindDetail::SharedMemory { size, mappings } => {
            format!("{}, {mappings} mapped", bytes(*size))
        }
    }
}

/// Who is at the other end of a connection: "pid 42 uid 1000", an address.
pub(crate) fn peer(peer: &Peer) -> String {
    match peer {
        Peer::Unix {
            pid: Some(pid),
            uid: Some(uid),
        } => format!("pid {pid} uid {uid}"),
        other => other.to_string(),
    }
}

/// What a connection holds: "lock, sem x2".
pub(crate) fn holds(c: &ConnectionReport) -> String {
    c.holds
        .iter()
        .map(|h| match h.count {
            1 => h.name.to_string(),
            n => format!("{} x{n}", h.name),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// "1 item", "2 items".
fn items(n: u64) -> String {
    if n == 1 {
        "1 item".to_owned()
    } else {
        format!("{n} items")
    }
}

/// "4.2s", "3m07s", "2h05m00s".
pub(crate) fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0..60 => format!("{:.1}s", d.as_secs_f64()),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        _ => format!("{}h{:02}m{:02}s", secs / 3600, secs / 60 % 60, secs % 60),
    }
}

/// A request's latency: "850us", "12.3ms", "1.50s".
pub(crate) fn latency(d: Duration) -> String {
    let micros = d.as_micros();
    match micros {
        0..1_000 => format!("{micros}us"),
        1_000..1_000_000 => format!("{:.1}ms", d.as_secs_f64() * 1e3),
        _ => format!("{:.2}s", d.as_secs_f64()),
    }
}

/// "512 B", "3.4 KiB", "12.0 MiB", "1.5 GiB".
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// The manager's resident memory, or "?" where it is not reported.
pub(crate) fn rss(bytes_or_none: Option<u64>) -> String {
    bytes_or_none.map_or_else(|| "?".to_owned(), bytes)
}

/// When something last happened, relative to `now`: "2.0s ago", "never".
pub(crate) fn ago(time: Option<UnixMillis>, now: UnixMillis) -> String {
    match time {
        Some(t) => format!("{} ago", duration(t.elapsed_until(now))),
        None => "never".to_owned(),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::latency;

    #[test]
    fn latencies_read_in_the_unit_that_fits() {
        assert_eq!(latency(Duration::from_nanos(800)), "0us");
        assert_eq!(latency(Duration::from_micros(850)), "850us");
        assert_eq!(latency(Duration::from_micros(12_340)), "12.3ms");
        assert_eq!(latency(Duration::from_millis(1_500)), "1.50s");
    }
}
