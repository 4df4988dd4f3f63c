//! The JSON of `manager-inspect --json`: a [`ManagerSnapshot`] laid out as
//! serde lays it out, with its durations and times in units a script reads
//! without knowing Rust's types.
//!
//! # Units
//!
//! - **Durations** (`totals.uptime`, `totals.rate_window`, an object's
//!   `latency.p50`, `p90`, `p99` and `max`) are numbers of
//!   milliseconds, with a fraction down to the microsecond: `"uptime":
//!   61234.5` is a minute and a bit.
//! - **Times** (`totals.taken_at`, `totals.started_at`, an object's
//!   `created_at` and `last_operation`, a connection's `connected_at`) are
//!   RFC 3339 strings in UTC, to the millisecond:
//!   `"2025-01-31T09:30:00.123Z"`. An object never used has
//!   `"last_operation": null`.
//! - **Sizes** are bytes (`detail.bytes_held`, `totals.rss_bytes`, `null`
//!   where the manager cannot tell its memory).
//!
//! Everything else (field names, their order, the kinds and details as
//! tagged objects) is the snapshot's own serde form.
//!
//! # Example
//!
//! ```
//! let manager = manager::Manager::start()?;
//! let snapshot = manager.connect()?.inspect()?;
//! let json = manager_inspect::json::snapshot(&snapshot);
//! assert!(json["totals"]["uptime"].is_f64());
//! assert!(json["totals"]["taken_at"].as_str().unwrap().ends_with('Z'));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use manager::inspect::{
    ConnectionReport, HeldObject, Latency, ManagerSnapshot, ObjectDetail, ObjectReport, Peer,
    Totals, UnixMillis,
};
use manager::{ObjectId, ObjectKind, ObjectName};
use serde::Serialize;

/// `snapshot` as the JSON `manager-inspect --json` prints (see the
/// [module's documentation](self) for its units).
pub fn snapshot(snapshot: &ManagerSnapshot) -> serde_json::Value {
    let ManagerSnapshot {
        totals,
        objects,
        connections,
        requested_by,
    } = snapshot;
    let view = SnapshotJson {
        totals: TotalsJson::from(totals),
        objects: objects.iter().map(ObjectJson::from).collect(),
        connections: connections.iter().map(ConnectionJson::from).collect(),
        requested_by: *requested_by,
    };
    serde_json::to_value(view).expect("a snapshot's JSON has only string keys")
}

/// `time` as RFC 3339 in UTC, to the millisecond:
/// `"2023-11-14T22:13:20.123Z"`.
///
/// # Examples
///
/// ```
/// use manager::inspect::UnixMillis;
/// assert_eq!(manager_inspect::json::rfc3339(UnixMillis(0)), "1970-01-01T00:00:00.000Z");
/// assert_eq!(
///     manager_inspect::json::rfc3339(UnixMillis(1_700_000_000_123)),
///     "2023-11-14T22:13:20.123Z"
/// );
/// ```
pub fn rfc3339(time: UnixMillis) -> String {
    let millis = time.0 % 1000;
    let secs = time.0 / 1000;
    let (days, secs_of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        secs_of_day / 3600,
        secs_of_day / 60 % 60,
        secs_of_day % 60
    )
}

/// `d` in milliseconds, to the microsecond.
pub fn millis(d: Duration) -> f64 {
    // From whole microseconds, so 1.5 s is 1500.0 and not 1500.0000000002.
    d.as_micros() as f64 / 1000.0
}

/// The proleptic Gregorian date `days` days after 1970-01-01: Howard
/// Hinnant's `civil_from_days`, for days on or after the epoch.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Days since 0000-03-01, counted in 400-year eras of 146,097 days, so
    // the leap day is the last day of each (March-based) year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // March is 0.
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// [`ManagerSnapshot`], field for field.
#[derive(Serialize)]
struct SnapshotJson<'a> {
    totals: TotalsJson<'a>,
    objects: Vec<ObjectJson<'a>>,
    connections: Vec<ConnectionJson<'a>>,
    requested_by: u64,
}

/// [`Totals`], field for field, with times and durations converted.
#[derive(Serialize)]
struct TotalsJson<'a> {
    taken_at: String,
    started_at: String,
    uptime: f64,
    connections_now: u64,
    connections_total: u64,
    requests_total: u64,
    recent_requests: u64,
    rate_window: f64,
    protocol_version: u16,
    build_version: &'a str,
    threads: u32,
    errors_total: u64,
    handshakes_failed: u64,
    rss_bytes: Option<u64>,
    shared_memory_bytes: u64,
    descriptors_in_flight: u64,
}

impl<'a> From<&'a Totals> for TotalsJson<'a> {
    fn from(totals: &'a Totals) -> Self {
        // No `..`: a field added to `Totals` fails to compile here until
        // the JSON says how it reads.
        let Totals {
            taken_at,
            started_at,
            uptime,
            connections_now,
            connections_total,
            requests_total,
            recent_requests,
            rate_window,
            protocol_version,
            build_version,
            threads,
            errors_total,
            handshakes_failed,
            rss_bytes,
            shared_memory_bytes,
            descriptors_in_flight,
        } = totals;
        TotalsJson {
            taken_at: rfc3339(*taken_at),
            started_at: rfc3339(*started_at),
            uptime: millis(*uptime),
            connections_now: *connections_now,
            connections_total: *connections_total,
            requests_total: *requests_total,
            recent_requests: *recent_requests,
            rate_window: millis(*rate_window),
            protocol_version: *protocol_version,
            build_version,
            threads: *threads,
            errors_total: *errors_total,
            handshakes_failed: *handshakes_failed,
            rss_bytes: *rss_bytes,
            shared_memory_bytes: *shared_memory_bytes,
            descriptors_in_flight: *descriptors_in_flight,
        }
    }
}

/// [`ObjectReport`], field for field, with times converted.
#[derive(Serialize)]
struct ObjectJson<'a> {
    id: ObjectId,
    name: &'a ObjectName,
    kind: &'a ObjectKind,
    created_at: String,
    messages_handled: u64,
    mailbox: u64,
    thread: u32,
    last_operation: Option<String>,
    detail: &'a Option<ObjectDetail>,
    latency: Option<LatencyJson>,
}

/// [`Latency`], its durations in milliseconds.
#[derive(Serialize)]
struct LatencyJson {
    count: u64,
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

impl From<&Latency> for LatencyJson {
    fn from(latency: &Latency) -> Self {
        let Latency {
            count,
            p50,
            p90,
            p99,
            max,
        } = latency;
        LatencyJson {
            count: *count,
            p50: millis(*p50),
            p90: millis(*p90),
            p99: millis(*p99),
            max: millis(*max),
        }
    }
}

impl<'a> From<&'a ObjectReport> for ObjectJson<'a> {
    fn from(object: &'a ObjectReport) -> Self {
        let ObjectReport {
            id,
            name,
            kind,
            created_at,
            messages_handled,
            mailbox,
            thread,
            last_operation,
            detail,
            latency,
        } = object;
        ObjectJson {
            id: *id,
            name,
            kind,
            created_at: rfc3339(*created_at),
            messages_handled: *messages_handled,
            mailbox: *mailbox,
            thread: *thread,
            last_operation: last_operation.map(rfc3339),
            detail,
            latency: latency.as_ref().map(LatencyJson::from),
        }
    }
}

/// [`ConnectionReport`], field for field, with its time converted.
#[derive(Serialize)]
struct ConnectionJson<'a> {
    id: u64,
    peer: &'a Peer,
    thread: u32,
    connected_at: String,
    requests_served: u64,
    requests_in_flight: u64,
    descriptors_unread: u64,
    holds: &'a [HeldObject],
}

impl<'a> From<&'a ConnectionReport> for ConnectionJson<'a> {
    fn from(connection: &'a ConnectionReport) -> Self {
        let ConnectionReport {
            id,
            peer,
            thread,
            connected_at,
            requests_served,
            requests_in_flight,
            descriptors_unread,
            holds,
        } = connection;
        ConnectionJson {
            id: *id,
            peer,
            thread: *thread,
            connected_at: rfc3339(*connected_at),
            requests_served: *requests_served,
            requests_in_flight: *requests_in_flight,
            descriptors_unread: *descriptors_unread,
            holds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_of_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00.000Z"),
            (999, "1970-01-01T00:00:00.999Z"),
            (86_399_999, "1970-01-01T23:59:59.999Z"),
            // The leap days of a century year divisible by 400, and the day
            // after a year without one.
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (951_868_800_000, "2000-03-01T00:00:00.000Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (1_709_164_800_000, "2024-02-29T00:00:00.000Z"),
            (1_735_689_599_000, "2024-12-31T23:59:59.000Z"),
            (1_735_689_600_000, "2025-01-01T00:00:00.000Z"),
            (1_700_000_000_123, "2023-11-14T22:13:20.123Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ];
        for (millis, text) in cases {
            assert_eq!(rfc3339(UnixMillis(millis)), text, "{millis}");
        }
    }

    #[test]
    fn rfc3339_days_advance_one_at_a_time() {
        // Every day for 1,000 years: the date moves on by one day, months
        // have their lengths and February its leap days.
        let mut previous = civil_from_days(0);
        assert_eq!(previous, (1970, 1, 1));
        for days in 1..366 * 1000 {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let leap = py % 4 == 0 && (py % 100 != 0 || py % 400 == 0);
            let month_len = match pm {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            let expected = if pd < month_len {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            assert_eq!((y, m, d), expected, "day {days}");
            previous = (y, m, d);
        }
    }

    #[test]
    fn millis_keeps_microseconds() {
        assert_eq!(millis(Duration::from_millis(1500)), 1500.0);
        assert_eq!(millis(Duration::from_micros(2_500)), 2.5);
        assert_eq!(millis(Duration::ZERO), 0.0);
    }
}
