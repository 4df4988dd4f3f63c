//! [`Exposition`]: a [`ManagerSnapshot`] in the Prometheus text exposition
//! format (version 0.0.4), rendered a chunk at a time.
//!
//! The manager-wide families come first, in one chunk; then each
//! per-object family, [`CHUNK_OBJECTS`] objects per chunk. All the samples
//! of a family are contiguous, after its one `# HELP` and `# TYPE` line, as
//! the format requires.
//!
//! # Labels
//!
//! Every per-object sample has the labels `name` (the object's name) and
//! `kind` (its kind; a custom type's name). Both are user input: a label
//! value escapes backslash as `\\`, double quote as `\"` and line feed as
//! `\n` ([`escape_label_value`]), so no name can end a label, a line or
//! the exposition early.

use std::fmt::{Display, Write as _};

use manager_core::inspect::{ManagerSnapshot, ObjectReport, Totals};

/// Objects rendered per chunk of the body: about 256 KiB of text with
/// short names.
pub(super) const CHUNK_OBJECTS: usize = 256;

/// A snapshot being rendered: an iterator of chunks of text, each whole
/// lines.
pub(super) struct Exposition {
    /// The manager-wide families, until they are taken.
    head: Option<String>,
    /// The objects rendered (at most the cap), sorted by name.
    objects: Vec<ObjectReport>,
    /// The per-object family being rendered, an index into
    /// [`OBJECT_FAMILIES`].
    family: usize,
    /// The next object of that family.
    next: usize,
}

impl Exposition {
    /// Renders `snapshot`, keeping the first
    /// `max_objects` objects by name; how many were left out is itself a
    /// sample (`manager_metrics_objects_omitted`).
    pub(super) fn new(snapshot: ManagerSnapshot, max_objects: usize) -> Self {
        let ManagerSnapshot {
            totals,
            mut objects,
            ..
        } = snapshot;
        let count = objects.len();
        objects.truncate(max_objects);
        objects.shrink_to_fit();
        let omitted = count - objects.len();
        Exposition {
            head: Some(head(&totals, count, omitted)),
            objects,
            family: 0,
            next: 0,
        }
    }
}

impl Iterator for Exposition {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        if let Some(head) = self.head.take() {
            return Some(head);
        }
        let family = OBJECT_FAMILIES.get(self.family)?;
        let mut out = String::with_capacity(64 * 1024);
        if self.next == 0 {
            header(&mut out, family.name, family.help, family.kind);
        }
        let end = (self.next + CHUNK_OBJECTS).min(self.objects.len());
        for object in &self.objects[self.next..end] {
            (family.write)(&mut out, family.name, object);
        }
        if end == self.objects.len() {
            self.family += 1;
            self.next = 0;
        } else {
            self.next = end;
        }
        Some(out)
    }
}

/// One per-object metric family.
struct ObjectFamily {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    /// Writes the samples of one object.
    write: fn(&mut String, &str, &ObjectReport),
}

/// The per-object families, in the order they are rendered.
const OBJECT_FAMILIES: [ObjectFamily; 4] = [
    ObjectFamily {
        name: "manager_object_mailbox_depth",
        kind: "gauge",
        help: "Requests sent to the object and not yet taken from its mailbox.",
        write: |out, metric, object| sample(out, metric, Some(object), None, object.mailbox),
    },
    ObjectFamily {
        name: "manager_object_requests_handled_total",
        kind: "counter",
        help: "Requests the object has carried out, failed ones included.",
        write: |out, metric, object| {
            sample(out, metric, Some(object), None, object.messages_handled);
        },
    },
    ObjectFamily {
        name: "manager_object_latency_seconds",
        kind: "summary",
        help: "Time from reading a request to the object answering or parking it, over the \
               object's life (each quantile is its histogram bucket's upper end, at most 19% high).",
        write: |out, metric, object| {
            // An object too busy to report in time has no latency in
            // this snapshot: no samples rather than made-up ones.
            let Some(latency) = object.latency else {
                return;
            };
            for (quantile, value) in [
                ("0.5", latency.p50),
                ("0.9", latency.p90),
                ("0.99", latency.p99),
            ] {
                sample(
                    out,
                    metric,
                    Some(object),
                    Some(quantile),
                    value.as_secs_f64(),
                );
            }
            out.push_str(metric);
            out.push_str("_count");
            labels(out, object, None);
            let _ = writeln!(out, " {}", latency.count);
        },
    },
    ObjectFamily {
        name: "manager_object_latency_max_seconds",
        kind: "gauge",
        help: "The longest time the object has taken to answer or park a request.",
        write: |out, metric, object| {
            if let Some(latency) = object.latency {
                sample(out, metric, Some(object), None, latency.max.as_secs_f64());
            }
        },
    },
];

/// The manager-wide families.
fn head(totals: &Totals, objects: usize, omitted: usize) -> String {
    let mut out = String::with_capacity(2048);
    header(
        &mut out,
        "manager_build_info",
        "The manager's build and wire protocol versions (always 1).",
        "gauge",
    );
    out.push_str("manager_build_info{version=\"");
    escape_label_value(&mut out, &totals.build_version);
    let _ = writeln!(out, "\",protocol=\"{}\"}} 1", totals.protocol_version);
    let families: [(&str, &str, &str, &dyn Display); 10] = [
        (
            "manager_uptime_seconds",
            "gauge",
            "How long the manager has been serving.",
            &totals.uptime.as_secs_f64(),
        ),
        (
            "manager_requests_total",
            "counter",
            "Requests read since the start, from every connection.",
            &totals.requests_total,
        ),
        (
            "manager_connections",
            "gauge",
            "Authenticated connections open now.",
            &totals.connections_now,
        ),
        (
            "manager_connections_accepted_total",
            "counter",
            "Connections accepted since the start, those that failed the handshake included.",
            &totals.connections_total,
        ),
        (
            "manager_handshakes_failed_total",
            "counter",
            "Handshakes that failed since the start (wrong key, timeout, refused, closed to make room).",
            &totals.handshakes_failed,
        ),
        (
            "manager_errors_total",
            "counter",
            "Requests answered with an error since the start.",
            &totals.errors_total,
        ),
        (
            "manager_objects",
            "gauge",
            "Objects the manager holds now.",
            &objects,
        ),
        (
            "manager_shared_memory_bytes",
            "gauge",
            "Bytes of the shared memory blocks alive now, removed ones still mapped included.",
            &totals.shared_memory_bytes,
        ),
        (
            "manager_descriptors_in_flight",
            "gauge",
            "Shared memory descriptors sent to clients and not yet read by them.",
            &totals.descriptors_in_flight,
        ),
        (
            "manager_metrics_objects_omitted",
            "gauge",
            "Objects left out of the per-object families of this scrape (over the cap).",
            &omitted,
        ),
    ];
    for (name, kind, help, value) in families {
        header(&mut out, name, help, kind);
        sample(&mut out, name, None, None, value);
    }
    if let Some(rss) = totals.rss_bytes {
        let name = "manager_resident_memory_bytes";
        header(
            &mut out,
            name,
            "The manager process's resident memory.",
            "gauge",
        );
        sample(&mut out, name, None, None, rss);
    }
    out
}

/// A family's `# HELP` and `# TYPE` lines (help texts are ours: no
/// backslash or line feed to escape).
fn header(out: &mut String, name: &str, help: &str, kind: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// One sample line: `metric{name="..",kind="..",quantile=".."} value`.
fn sample(
    out: &mut String,
    metric: &str,
    object: Option<&ObjectReport>,
    quantile: Option<&str>,
    value: impl Display,
) {
    out.push_str(metric);
    if let Some(object) = object {
        labels(out, object, quantile);
    }
    let _ = writeln!(out, " {value}");
}

/// An object's labels, and a quantile's if given.
fn labels(out: &mut String, object: &ObjectReport, quantile: Option<&str>) {
    out.push_str("{name=\"");
    escape_label_value(out, object.name.as_str());
    out.push_str("\",kind=\"");
    escape_label_value(out, object.kind.as_str());
    out.push('"');
    if let Some(quantile) = quantile {
        out.push_str(",quantile=\"");
        out.push_str(quantile);
        out.push('"');
    }
    out.push('}');
}

/// Appends `value` as a label value: backslash, double quote and line feed
/// escaped as the exposition format says, everything else as it is.
pub(super) fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use manager_core::inspect::{Latency, UnixMillis};
    use manager_core::{ObjectId, ObjectKind, ObjectName, PROTOCOL_VERSION};

    use super::*;

    fn object(name: &str, handled: u64, latency: Option<Latency>) -> ObjectReport {
        ObjectReport {
            id: ObjectId(handled),
            name: ObjectName::new(name).unwrap(),
            kind: ObjectKind::Queue,
            created_at: UnixMillis(0),
            messages_handled: handled,
            mailbox: 2,
            thread: 0,
            last_operation: None,
            detail: None,
            latency,
        }
    }

    fn snapshot(objects: Vec<ObjectReport>) -> ManagerSnapshot {
        ManagerSnapshot {
            totals: Totals {
                taken_at: UnixMillis(0),
                started_at: UnixMillis(0),
                uptime: Duration::from_millis(1500),
                connections_now: 3,
                connections_total: 9,
                requests_total: 1234,
                recent_requests: 0,
                rate_window: Duration::ZERO,
                protocol_version: PROTOCOL_VERSION,
                build_version: "1.2.3".into(),
                threads: 1,
                errors_total: 5,
                handshakes_failed: 4,
                rss_bytes: Some(10 << 20),
                shared_memory_bytes: 4096,
                descriptors_in_flight: 3,
            },
            objects,
            connections: Vec::new(),
            requested_by: 0,
        }
    }

    #[test]
    fn label_values_escape_backslash_quote_and_line_feed() {
        let mut out = String::new();
        escape_label_value(&mut out, "a\\b\"c\nd é");
        assert_eq!(out, r#"a\\b\"c\nd é"#);
    }

    #[test]
    fn every_family_is_typed_once_and_contiguous() {
        let latency = Latency {
            count: 7,
            p50: Duration::from_micros(3),
            p90: Duration::from_micros(10),
            p99: Duration::from_micros(250),
            max: Duration::from_millis(2),
        };
        let mut objects: Vec<_> = (0..600)
            .map(|i| object(&format!("q{i:04}"), i, Some(latency)))
            .collect();
        objects.push(object(r#"say "hi" \ there"#, 5, None));
        let text: String = Exposition::new(snapshot(objects), usize::MAX).collect();
        assert!(text.contains("manager_requests_total 1234\n"), "{text}");
        assert!(text.contains("manager_connections 3\n"));
        assert!(text.contains("manager_connections_accepted_total 9\n"));
        assert!(text.contains("manager_handshakes_failed_total 4\n"));
        assert!(text.contains("manager_errors_total 5\n"));
        assert!(text.contains("manager_resident_memory_bytes 10485760\n"));
        assert!(text.contains("manager_objects 601\n"));
        assert!(text.contains("manager_shared_memory_bytes 4096\n"));
        assert!(text.contains("manager_descriptors_in_flight 3\n"));
        assert!(text.contains("manager_metrics_objects_omitted 0\n"));
        assert!(text.contains("manager_uptime_seconds 1.5\n"));
        assert!(text.contains(&format!(
            "manager_build_info{{version=\"1.2.3\",protocol=\"{PROTOCOL_VERSION}\"}} 1\n"
        )));
        assert!(text.contains(
            "manager_object_requests_handled_total{name=\"say \\\"hi\\\" \\\\ there\",kind=\"queue\"} 5\n"
        ));
        assert!(text.contains(
            "manager_object_latency_seconds{name=\"q0007\",kind=\"queue\",quantile=\"0.99\"} 0.00025\n"
        ));
        assert!(
            text.contains(
                "manager_object_latency_seconds_count{name=\"q0007\",kind=\"queue\"} 7\n"
            )
        );
        assert!(
            text.contains(
                "manager_object_latency_max_seconds{name=\"q0007\",kind=\"queue\"} 0.002\n"
            )
        );
        // No latency reported: no latency samples, the counters still.
        assert!(!text.contains("manager_object_latency_seconds{name=\"say"));
        assert!(text.contains("manager_object_mailbox_depth{name=\"say"));
        // Each family: one TYPE line, then its samples and nothing else.
        let mut seen: Vec<&str> = Vec::new();
        let mut current = "";
        for line in text.lines() {
            assert!(!line.is_empty());
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                current = rest.split(' ').next().unwrap();
                assert!(!seen.contains(&current), "{current} typed twice");
                seen.push(current);
            } else if !line.starts_with("# HELP ") {
                let metric = line.split(['{', ' ']).next().unwrap();
                let base = metric.strip_suffix("_count").unwrap_or(metric);
                assert!(
                    base == current || metric == current,
                    "{line} after TYPE {current}"
                );
            }
        }
        assert_eq!(seen.len(), 16, "{seen:?}");
    }

    #[test]
    fn objects_over_the_cap_are_counted_not_rendered() {
        let objects: Vec<_> = (0..10).map(|i| object(&format!("o{i}"), i, None)).collect();
        let chunks: Vec<String> = Exposition::new(snapshot(objects), 4).collect();
        let text = chunks.concat();
        assert!(text.contains("manager_objects 10\n"));
        assert!(text.contains("manager_metrics_objects_omitted 6\n"));
        assert!(text.contains("manager_object_mailbox_depth{name=\"o3\""));
        assert!(!text.contains("{name=\"o4\""));
        // The head, then one chunk per family.
        assert_eq!(chunks.len(), 1 + OBJECT_FAMILIES.len());
    }

    #[test]
    fn no_objects_still_types_every_family() {
        let text: String = Exposition::new(snapshot(Vec::new()), 10).collect();
        for family in &OBJECT_FAMILIES {
            assert!(text.contains(&format!("# TYPE {} {}\n", family.name, family.kind)));
        }
    }
}
