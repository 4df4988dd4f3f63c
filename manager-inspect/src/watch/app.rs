//! The view's state: the last snapshot and the request rate over the
//! refreshes, and what the user chose: the pane, the sort, the filter and
//! the selected row. Keys change it ([`App::key`]); drawing only reads it.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use manager::inspect::{ConnectionReport, ManagerSnapshot, ObjectReport, UnixMillis};
use ratatui::widgets::TableState;

/// How many refreshes of the request rate are kept for the sparkline:
/// more than any terminal is wide.
const RATE_HISTORY: usize = 1024;

/// Which table is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pane {
    /// The objects.
    Objects,
    /// The client connections.
    Connections,
}

/// What the objects are sorted by; `s` moves to the next, `S` back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SortKey {
    /// Requests waiting in the mailbox, deepest first.
    Mailbox,
    /// Requests handled, most first.
    Requests,
    /// Bytes held, most first.
    Bytes,
    /// Name, A to Z.
    Name,
}

impl SortKey {
    const ALL: [SortKey; 4] = [
        SortKey::Mailbox,
        SortKey::Requests,
        SortKey::Bytes,
        SortKey::Name,
    ];

    fn next(self) -> Self {
        let i = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }

    fn previous(self) -> Self {
        let i = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::ALL[(i + Self::ALL.len() - 1) % Self::ALL.len()]
    }

    /// Its name in the status line.
    pub(crate) fn label(self) -> &'static str {
        match self {
            SortKey::Mailbox => "mailbox",
            SortKey::Requests => "requests",
            SortKey::Bytes => "bytes",
            SortKey::Name => "name",
        }
    }
}

/// What a key asks of the loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Redraw and go on.
    Continue,
    /// Restore the terminal and exit.
    Quit,
}

/// Everything the view shows and remembers between refreshes.
#[derive(Debug)]
pub(crate) struct App {
    /// The manager's address, as the header shows it.
    pub(crate) address: String,
    /// The last snapshot that came.
    pub(crate) snapshot: ManagerSnapshot,
    /// Why the last refresh failed, if it did (the snapshot is then older).
    pub(crate) error: Option<String>,
    /// Requests per second between consecutive refreshes, oldest first.
    pub(crate) rates: VecDeque<u64>,
    /// The latest of them, unrounded.
    pub(crate) rate_now: f64,
    /// The table shown.
    pub(crate) pane: Pane,
    /// The objects' order.
    pub(crate) sort: SortKey,
    /// Whether that order is turned around.
    pub(crate) reverse: bool,
    /// Objects shown are those whose name contains this (any case).
    pub(crate) filter: String,
    /// Whether keys are typed into the filter (after `/`).
    pub(crate) editing: bool,
    /// The selected object row and the table's scroll.
    pub(crate) objects: TableState,
    /// The selected connection row and the table's scroll.
    pub(crate) connections: TableState,
    /// Rows the table showed at the last draw: a page for PgUp and PgDn.
    pub(crate) page: usize,
}

impl App {
    /// The view of the manager at `address`, starting from its first
    /// snapshot.
    pub(crate) fn new(address: String, snapshot: ManagerSnapshot) -> Self {
        // Until there are two refreshes, the manager's own recent rate.
        let rate_now = snapshot.totals.requests_per_second();
        App {
            address,
            snapshot,
            error: None,
            rates: VecDeque::from([rate_now.round() as u64]),
            rate_now,
            pane: Pane::Objects,
            sort: SortKey::Mailbox,
            reverse: false,
            filter: String::new(),
            editing: false,
            objects: TableState::default().with_selected(0),
            connections: TableState::default().with_selected(0),
            page: 10,
        }
    }

    /// Takes a refresh's outcome: a new snapshot, whose requests since the
    /// last one give the rate, or why there is none.
    pub(crate) fn update(&mut self, refresh: Result<ManagerSnapshot, manager::Error>) {
        let snapshot = match refresh {
            Ok(snapshot) => snapshot,
            Err(e) => {
                self.error = Some(e.to_string());
                return;
            }
        };
        self.error = None;
        let before = (
            self.snapshot.totals.taken_at,
            self.snapshot.totals.requests_total,
        );
        let after = (snapshot.totals.taken_at, snapshot.totals.requests_total);
        if let Some(rate) = rate(before, after) {
            self.rate_now = rate;
            if self.rates.len() == RATE_HISTORY {
                self.rates.pop_front();
            }
            self.rates.push_back(rate.round() as u64);
        }
        self.snapshot = snapshot;
        self.clamp();
    }

    /// The objects shown, filtered and in the chosen order.
    pub(crate) fn visible_objects(&self) -> Vec<&ObjectReport> {
        let needle = self.filter.to_lowercase();
        let mut rows: Vec<&ObjectReport> = self
            .snapshot
            .objects
            .iter()
            .filter(|o| needle.is_empty() || o.name.as_str().to_lowercase().contains(&needle))
            .collect();
        let bytes = |o: &ObjectReport| o.detail.as_ref().map_or(0, |d| d.bytes_held);
        // Figures biggest first; names A to Z, which also break ties.
        rows.sort_by(|a, b| {
            let by = match self.sort {
                SortKey::Mailbox => b.mailbox.cmp(&a.mailbox),
                SortKey::Requests => b.messages_handled.cmp(&a.messages_handled),
                SortKey::Bytes => bytes(b).cmp(&bytes(a)),
                SortKey::Name => std::cmp::Ordering::Equal,
            };
            by.then_with(|| a.name.as_str().cmp(b.name.as_str()))
        });
        if self.reverse {
            rows.reverse();
        }
        rows
    }

    /// The connections, by id.
    pub(crate) fn visible_connections(&self) -> &[ConnectionReport] {
        &self.snapshot.connections
    }

    /// Acts on a key press.
    pub(crate) fn key(&mut self, key: KeyEvent) -> Action {
        if key.kind == KeyEventKind::Release {
            return Action::Continue;
        }
        if key.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(key.code, KeyCode::Char('c' | 'C'))
        {
            return Action::Quit;
        }
        if self.editing {
            match key.code {
                KeyCode::Esc => {
                    self.filter.clear();
                    self.editing = false;
                    self.objects.select(Some(0));
                }
                KeyCode::Enter => self.editing = false,
                KeyCode::Backspace => {
                    self.filter.pop();
                    self.objects.select(Some(0));
                }
                KeyCode::Char(c) => {
                    self.filter.push(c);
                    self.objects.select(Some(0));
                }
                code => self.navigate(code),
            }
            self.clamp();
            return Action::Continue;
        }
        match key.code {
            KeyCode::Char('q' | 'Q') => return Action::Quit,
            KeyCode::Char('/') => {
                self.pane = Pane::Objects;
                self.editing = true;
            }
            KeyCode::Esc => {
                self.filter.clear();
                self.objects.select(Some(0));
            }
            KeyCode::Char('s') => self.resort(self.sort.next(), self.reverse),
            KeyCode::Char('S') => self.resort(self.sort.previous(), self.reverse),
            KeyCode::Char('r') => self.resort(self.sort, !self.reverse),
            KeyCode::Tab | KeyCode::BackTab => {
                self.pane = match self.pane {
                    Pane::Objects => Pane::Connections,
                    Pane::Connections => Pane::Objects,
                };
            }
            code => self.navigate(code),
        }
        self.clamp();
        Action::Continue
    }

    fn resort(&mut self, sort: SortKey, reverse: bool) {
        self.sort = sort;
        self.reverse = reverse;
        self.objects.select(Some(0));
    }

    /// Moves the selection of the pane shown.
    fn navigate(&mut self, code: KeyCode) {
        let page = self.page.max(1);
        let (state, len) = self.shown();
        let last = len.saturating_sub(1);
        let at = state.selected().unwrap_or(0);
        let to = match code {
            KeyCode::Up | KeyCode::Char('k') => at.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => at + 1,
            KeyCode::PageUp => at.saturating_sub(page),
            KeyCode::PageDown => at + page,
            KeyCode::Home | KeyCode::Char('g') => 0,
            KeyCode::End | KeyCode::Char('G') => last,
            _ => return,
        };
        state.select(Some(to.min(last)));
    }

    /// The pane shown's table state and its number of rows.
    fn shown(&mut self) -> (&mut TableState, usize) {
        match self.pane {
            Pane::Objects => {
                let len = self.visible_objects().len();
                (&mut self.objects, len)
            }
            Pane::Connections => {
                let len = self.visible_connections().len();
                (&mut self.connections, len)
            }
        }
    }

    /// Keeps both selections on a row that exists.
    fn clamp(&mut self) {
        let objects = self.visible_objects().len();
        let connections = self.visible_connections().len();
        for (state, len) in [
            (&mut self.objects, objects),
            (&mut self.connections, connections),
        ] {
            let at = state.selected().unwrap_or(0);
            state.select(Some(at.min(len.saturating_sub(1))));
        }
    }
}

/// Requests per second between two `(taken at, requests so far)` samples;
/// `None` if no time passed between them.
fn rate(before: (UnixMillis, u64), after: (UnixMillis, u64)) -> Option<f64> {
    let secs = before.0.elapsed_until(after.0).as_secs_f64();
    (secs > 0.0).then(|| after.1.saturating_sub(before.1) as f64 / secs)
}
