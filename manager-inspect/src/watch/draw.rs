//! One frame of the view, laid out to the terminal's size:
//!
//! ```text
//! manager-inspect  up 3m07s  threads 2  protocol 3  build 0.1.0  shm 64.0 MiB  unix:/tmp/app.sock
//! objects 41  connections 3 (9 total)  errors 0  failed handshakes 1  rss 9.8 MiB
//! requests 123456  ▂▃▅▇█▆▅▃▂▂▃▅▇█▆▅▃▂▂▃▅▇█▆▅▃▂▂▃▅▇█▆▅▃▂▂▃▅▇█▆▅▃▂
//! 12.3/s max 40    ▁▂▃▄▅▆▇█▇▆▅▄▃▂▁▁▂▃▄▅▆▇█▇▆▅▄▃▂▁▁▂▃▄▅▆▇█▇▆▅▄▃▂▁▁▂▃
//!  Objects 41/41  Connections 3   sort: mailbox ↓   filter: (/)
//! NAME        KIND      SIZE          WAIT MAILBOX↓ REQUESTS    BYTES  LAST OP
//! jobs        queue     3/10 items       0       0        3     48 B  1.2s ago
//! ...
//! jobs: queue, thread 1, created 3m07s ago, held by nobody
//! q quit  Tab pane  s/S sort  r reverse  / filter  Esc clear  ↑↓ PgUp/Dn Home/End
//! ```
//!
//! Every line is clipped to the terminal's width and the table gets the
//! rows left, so nothing wraps and the header stays on the first line.

use manager::inspect::{ConnectionReport, ObjectReport};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize as _};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Row, Sparkline, Table};

use super::app::{App, Pane, SortKey};
use crate::text::{ago, bytes, duration, holds, latency, peer, rss, size};

/// Draws the whole view into `frame`, and notes the table's page height in
/// `app`.
pub(crate) fn draw(frame: &mut Frame<'_>, app: &mut App) {
    let [header, totals, spark, tabs, table, detail, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(2),
        Constraint::Length(1),
        Constraint::Min(2),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    let t = &app.snapshot.totals;
    frame.render_widget(
        Line::from(vec![
            "manager-inspect".bold(),
            Span::raw(format!(
                "  up {}  threads {}  protocol {}  build {}  {}{}",
                duration(t.uptime),
                t.threads,
                t.protocol_version,
                t.build_version,
                // The line below is full: shared memory shows here, when
                // there is some, before the address (which may be cut).
                match (t.shared_memory_bytes, t.descriptors_in_flight) {
                    (0, 0) => String::new(),
                    (n, 0) => format!("shm {}  ", bytes(n)),
                    (n, fds) => format!("shm {} ({fds} fds unread)  ", bytes(n)),
                },
                app.address
            )),
        ]),
        header,
    );
    frame.render_widget(
        Line::from(format!(
            "objects {}  connections {} ({} total)  errors {}  failed handshakes {}  rss {}",
            app.snapshot.objects.len(),
            t.connections_now,
            t.connections_total,
            t.errors_total,
            t.handshakes_failed,
            rss(t.rss_bytes)
        )),
        totals,
    );
    draw_rate(frame, app, spark);
    draw_tabs(frame, app, tabs);
    // The table's own header row takes one line.
    app.page = usize::from(table.height.saturating_sub(1)).max(1);
    match app.pane {
        Pane::Objects => draw_objects(frame, app, table, detail),
        Pane::Connections => draw_connections(frame, app, table, detail),
    }
    let footer_line = match &app.error {
        Some(e) => Line::from(format!("refresh failed: {e}")).fg(Color::Red),
        None if app.editing => {
            Line::from("type to filter by name  Enter keep  Esc clear  ↑↓ PgUp PgDn scroll")
        }
        None => Line::from(
            "q quit  Tab pane  s/S sort  r reverse  / filter  Esc clear  ↑↓ PgUp/Dn Home/End",
        ),
    };
    frame.render_widget(footer_line.dim(), footer);
}

/// The request count and rate on the left, the rate over the refreshes as
/// a sparkline on the right (the newest at the right edge).
fn draw_rate(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let [label, chart] =
        Layout::horizontal([Constraint::Length(18), Constraint::Min(1)]).areas(area);
    let max = app.rates.iter().copied().max().unwrap_or(0);
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(format!(
                "requests {}",
                count(app.snapshot.totals.requests_total)
            )),
            Line::from(format!("{}/s max {}", rate(app.rate_now), count(max))),
        ]),
        label,
    );
    let width = usize::from(chart.width);
    let skip = app.rates.len().saturating_sub(width);
    let data: Vec<u64> = app.rates.iter().skip(skip).copied().collect();
    frame.render_widget(
        Sparkline::default()
            .data(&data)
            .max(max.max(1))
            .style(Style::new().fg(Color::Cyan)),
        chart,
    );
}

/// The panes, the selected one reversed, then the sort and the filter.
fn draw_tabs(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let selected = Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
    let style = |pane| {
        if app.pane == pane {
            selected
        } else {
            Style::new()
        }
    };
    let mut spans = vec![
        Span::styled(
            format!(
                " Objects {}/{} ",
                app.visible_objects().len(),
                app.snapshot.objects.len()
            ),
            style(Pane::Objects),
        ),
        Span::raw(" "),
        Span::styled(
            format!(" Connections {} ", app.snapshot.connections.len()),
            style(Pane::Connections),
        ),
        Span::raw(format!(
            "   sort: {} {}   filter: ",
            app.sort.label(),
            arrow(app.reverse)
        )),
    ];
    if app.editing {
        spans.push(Span::styled(format!("{}_", app.filter), selected));
    } else if app.filter.is_empty() {
        spans.push(Span::raw("(/)").dim());
    } else {
        spans.push(Span::raw(app.filter.clone()).bold());
    }
    frame.render_widget(Line::from(spans), area);
}

/// "↓" in the sort's own order (figures biggest first, names A to Z), "↑"
/// when turned around.
fn arrow(reverse: bool) -> &'static str {
    if reverse { "↑" } else { "↓" }
}

fn draw_objects(frame: &mut Frame<'_>, app: &mut App, area: Rect, detail: Rect) {
    let now = app.snapshot.totals.taken_at;
    let objects = app.visible_objects();
    let title = |name: &str, key: Option<SortKey>| {
        if key == Some(app.sort) {
            Span::raw(format!("{name}{}", arrow(app.reverse))).underlined()
        } else {
            Span::raw(name.to_owned())
        }
    };
    let header = Row::new(vec![
        title("NAME", Some(SortKey::Name)),
        title("KIND", None),
        title("SIZE", None),
        title("WAIT", None),
        title("MAILBOX", Some(SortKey::Mailbox)),
        title("REQUESTS", Some(SortKey::Requests)),
        title("BYTES", Some(SortKey::Bytes)),
        title("LAST OP", None),
    ])
    .bold();
    let rows = objects.iter().map(|o| object_row(o, now));
    let selected = app.objects.selected().and_then(|i| objects.get(i)).copied();
    let line = match selected {
        Some(o) => object_detail(o, now),
        None if app.filter.is_empty() => "no objects".to_owned(),
        None => format!("no object's name contains \"{}\"", app.filter),
    };
    let table = Table::new(
        rows,
        // The name takes what the figures leave: 11 columns of 80.
        [
            Constraint::Fill(1),
            Constraint::Length(10),
            Constraint::Length(14),
            Constraint::Length(4),
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Length(9),
        ],
    )
    .header(header)
    .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    frame.render_stateful_widget(table, area, &mut app.objects);
    frame.render_widget(Line::from(line), detail);
}

fn object_row(o: &ObjectReport, now: manager::inspect::UnixMillis) -> Row<'static> {
    let (size_text, waiters, held) = match &o.detail {
        Some(d) => (size(&d.size), d.waiters.to_string(), bytes(d.bytes_held)),
        None => ("?".to_owned(), "?".to_owned(), "?".to_owned()),
    };
    Row::new(vec![
        o.name.to_string(),
        o.kind.to_string(),
        size_text,
        waiters,
        count(o.mailbox),
        count(o.messages_handled),
        held,
        ago(o.last_operation, now),
    ])
}

/// The selected object in full: what the table has no room for.
fn object_detail(o: &ObjectReport, now: manager::inspect::UnixMillis) -> String {
    let held_by = match &o.detail {
        None => "busy: no detail".to_owned(),
        Some(d) if d.holders.is_empty() => "held by nobody".to_owned(),
        Some(d) => format!(
            "held by {}",
            d.holders
                .iter()
                .map(|h| match h.count {
                    0 | 1 => format!("conn {}", h.connection),
                    n => format!("conn {} x{n}", h.connection),
                })
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let took = match &o.latency {
        Some(l) if l.count > 0 => format!(
            ", latency p50 {} p99 {} max {}",
            latency(l.p50),
            latency(l.p99),
            latency(l.max)
        ),
        _ => String::new(),
    };
    format!(
        "{} (id {}): {}, thread {}, created {}, {held_by}{took}",
        o.name,
        o.id.0,
        o.kind,
        o.thread,
        ago(Some(o.created_at), now)
    )
}

fn draw_connections(frame: &mut Frame<'_>, app: &mut App, area: Rect, detail: Rect) {
    let now = app.snapshot.totals.taken_at;
    let me = app.snapshot.requested_by;
    let connections = app.visible_connections();
    let header = Row::new([
        "ID",
        "PEER",
        "THREAD",
        "CONNECTED",
        "SERVED",
        "IN FLIGHT",
        "HOLDS",
    ])
    .bold();
    let rows = connections.iter().map(|c| {
        Row::new(vec![
            if c.id == me {
                format!("{}*", c.id)
            } else {
                c.id.to_string()
            },
            peer(&c.peer),
            c.thread.to_string(),
            ago(Some(c.connected_at), now),
            count(c.requests_served),
            count(c.requests_in_flight),
            holds(c),
        ])
    });
    let line = match app.connections.selected().and_then(|i| connections.get(i)) {
        Some(c) => connection_detail(c, me),
        None => "no connections".to_owned(),
    };
    let table = Table::new(
        rows,
        [
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Length(6),
            Constraint::Length(10),
            Constraint::Length(8),
            Constraint::Length(9),
            Constraint::Fill(1),
        ],
    )
    .header(header)
    .row_highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    frame.render_stateful_widget(table, area, &mut app.connections);
    frame.render_widget(Line::from(line), detail);
}

/// The selected connection in full.
fn connection_detail(c: &ConnectionReport, me: u64) -> String {
    let holds = holds(c);
    format!(
        "connection {}{}: {}, holds {}{}",
        c.id,
        if c.id == me { " (this inspector)" } else { "" },
        peer(&c.peer),
        if holds.is_empty() { "nothing" } else { &holds },
        match c.descriptors_unread {
            0 => String::new(),
            n => format!(", {n} descriptors unread"),
        }
    )
}

/// A rate in at most 6 columns: "0.5", "99.9", "1234", "12.3M".
fn rate(per_second: f64) -> String {
    if per_second < 100.0 {
        format!("{per_second:.1}")
    } else {
        count(per_second.round() as u64)
    }
}

/// A count in at most 8 columns: "1234567", "12.3M".
fn count(n: u64) -> String {
    match n {
        0..10_000_000 => n.to_string(),
        10_000_000..10_000_000_000 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.1}G", n as f64 / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    use manager::inspect::{
        KindDetail, ManagerSnapshot, ObjectDetail, ObjectReport, Totals, UnixMillis,
    };
    use manager::{ObjectId, ObjectKind, ObjectName};
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::watch::app::Action;

    fn snapshot(objects: u64) -> ManagerSnapshot {
        let t = UnixMillis(1_700_000_000_000);
        ManagerSnapshot {
            totals: Totals {
                taken_at: t,
                started_at: t,
                uptime: Duration::from_secs(61),
                connections_now: 1,
                connections_total: 4,
                requests_total: 1000,
                recent_requests: 50,
                rate_window: Duration::from_secs(5),
                protocol_version: manager::PROTOCOL_VERSION,
                build_version: "0.1.0".into(),
                threads: 2,
                errors_total: 7,
                handshakes_failed: 3,
                rss_bytes: Some(10 << 20),
                shared_memory_bytes: 1 << 30,
                descriptors_in_flight: 0,
            },
            objects: (0..objects)
                .map(|i| ObjectReport {
                    id: ObjectId(i),
                    name: ObjectName::new(format!("object-{i:02}")).unwrap(),
                    kind: ObjectKind::List,
                    created_at: t,
                    messages_handled: i * 10,
                    // Deepest in the middle.
                    mailbox: objects / 2 - (objects / 2).abs_diff(i).min(objects / 2),
                    thread: 0,
                    last_operation: Some(t),
                    detail: Some(ObjectDetail {
                        size: KindDetail::Items { len: i },
                        waiters: 0,
                        bytes_held: (objects - i) * 100,
                        holders: vec![],
                    }),
                    latency: None,
                })
                .collect(),
            connections: vec![],
            requested_by: 1,
        }
    }

    fn screen(app: &mut App) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        terminal.draw(|f| draw(f, app)).unwrap();
        let buffer = terminal.backend().buffer();
        (0..24)
            .map(|y| {
                (0..80)
                    .map(|x| buffer[(x, y)].symbol().to_owned())
                    .collect::<String>()
            })
            .collect()
    }

    fn press(app: &mut App, code: KeyCode) -> Action {
        app.key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    /// The first object row's name, under the title and the table header.
    fn first_name(lines: &[String]) -> String {
        lines[6].split_whitespace().next().unwrap_or("").to_owned()
    }

    #[test]
    fn header_first_and_the_table_fits_80_by_24() {
        let mut app = App::new("unix:/tmp/x.sock".into(), snapshot(41));
        let lines = screen(&mut app);
        assert!(
            lines[0].starts_with("manager-inspect  up 1m01s"),
            "{lines:#?}"
        );
        assert!(lines[1].contains("errors 7"), "{lines:#?}");
        assert!(lines[1].contains("failed handshakes 3"), "{lines:#?}");
        assert!(lines[1].contains("rss 10.0 MiB"), "{lines:#?}");
        // Before the address, which the 80 columns cut.
        assert!(lines[0].contains("shm 1.0 GiB  uni"), "{lines:#?}");
        assert!(lines[4].contains("Objects 41/41"), "{lines:#?}");
        // Sorted by mailbox: the deepest, in the middle, first.
        assert_eq!(first_name(&lines), "object-20");
        assert!(lines[23].starts_with("q quit"), "{lines:#?}");
    }

    #[test]
    fn keys_sort_filter_and_scroll() {
        let mut app = App::new("unix:/tmp/x.sock".into(), snapshot(41));
        // Requests: most first.
        press(&mut app, KeyCode::Char('s'));
        assert_eq!(first_name(&screen(&mut app)), "object-40");
        // Bytes: most first.
        press(&mut app, KeyCode::Char('s'));
        assert_eq!(first_name(&screen(&mut app)), "object-00");
        // Name, then turned around.
        press(&mut app, KeyCode::Char('s'));
        assert_eq!(first_name(&screen(&mut app)), "object-00");
        press(&mut app, KeyCode::Char('r'));
        assert_eq!(first_name(&screen(&mut app)), "object-40");
        press(&mut app, KeyCode::Char('r'));

        // End scrolls the last one into view, Home back.
        press(&mut app, KeyCode::End);
        let lines = screen(&mut app);
        assert!(
            lines.iter().any(|l| l.starts_with("object-40")),
            "{lines:#?}"
        );
        assert!(
            !lines.iter().any(|l| l.starts_with("object-00")),
            "{lines:#?}"
        );
        press(&mut app, KeyCode::Home);
        assert_eq!(first_name(&screen(&mut app)), "object-00");
        press(&mut app, KeyCode::PageDown);
        assert_eq!(app.objects.selected(), Some(app.page));

        // `/3` keeps the names with a 3; `q` is typed, not quitting.
        press(&mut app, KeyCode::Char('/'));
        press(&mut app, KeyCode::Char('3'));
        assert_eq!(press(&mut app, KeyCode::Char('q')), Action::Continue);
        press(&mut app, KeyCode::Backspace);
        let names: Vec<&str> = app
            .visible_objects()
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(
            names,
            [
                "object-03",
                "object-13",
                "object-23",
                "object-30",
                "object-31",
                "object-32",
                "object-33",
                "object-34",
                "object-35",
                "object-36",
                "object-37",
                "object-38",
                "object-39"
            ]
        );
        assert!(screen(&mut app)[4].contains("Objects 13/41"));
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.visible_objects().len(), 41);
        assert_eq!(press(&mut app, KeyCode::Char('q')), Action::Quit);
        assert_eq!(
            app.key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)),
            Action::Quit
        );
    }

    #[test]
    fn refreshes_make_the_rate() {
        let mut app = App::new("unix:/tmp/x.sock".into(), snapshot(1));
        assert_eq!(app.rates, [10]);
        let mut next = snapshot(1);
        next.totals.taken_at = UnixMillis(next.totals.taken_at.0 + 2000);
        next.totals.requests_total += 300;
        app.update(Ok(next));
        assert_eq!(app.rates, [10, 150]);
        app.update(Err(manager::Error::Timeout {
            after: Duration::from_secs(10),
        }));
        assert!(app.error.is_some());
        let lines = screen(&mut app);
        assert!(lines[23].starts_with("refresh failed"), "{lines:#?}");
        assert!(lines[3].starts_with("150/s max 150 "), "{lines:#?}");
    }
}
