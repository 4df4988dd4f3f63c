//! `manager-inspect --watch`: a live view of a running manager in the
//! terminal, refreshed every interval, until `q`.
//!
//! # What it shows
//!
//! The first line is the header (uptime, threads, versions, address), the
//! second the totals (objects, connections, errors, failed handshakes, the
//! manager's memory), then the manager's request rate over the refreshes
//! as a sparkline, and a table: the objects, or with `Tab` the client
//! connections. The line under the table shows the selected row in full.
//! Everything is laid out to the terminal's size and redrawn when it
//! changes; nothing wraps.
//!
//! # Keys
//!
//! | key | does |
//! |---|---|
//! | `q`, Ctrl-C | quit |
//! | `Tab` | objects / connections |
//! | `s`, `S` | sort the objects by the next (previous) of mailbox depth, requests handled, bytes held, name |
//! | `r` | turn the order around |
//! | `/` then text | show only objects whose name contains it (any case); `Enter` keeps it, `Esc` clears it |
//! | `Esc` | clear the filter |
//! | `↑` `↓` (`k` `j`), `PgUp` `PgDn`, `Home` `End` (`g` `G`) | move through the table |
//!
//! # Restoring the terminal
//!
//! The terminal is put back as it was however the view ends: `q`, an
//! error, a panic, or SIGINT, SIGTERM or SIGHUP. A refresh that fails (the
//! manager is gone, a call timed out) does not end the view: it is shown
//! on the last line, with the last snapshot kept above it.
//!
//! # Without a terminal
//!
//! When standard output is not a terminal (a pipe, a file), the plain page
//! of [`render`](crate::render) is printed at every refresh instead, each
//! after a blank line, until the manager cannot be inspected.

mod app;
mod draw;
mod terminal;

use std::io::{IsTerminal as _, Write as _};
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt as _;
use manager::inspect::ManagerSnapshot;
use manager::{Address, Client};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use self::app::{Action, App};
use self::terminal::Screen;

/// Why the view ended with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The first snapshot could not be taken (once the view is up, failed
    /// refreshes are shown instead), or, without a terminal, any snapshot.
    #[error("inspect the manager: {0}")]
    Inspect(#[from] manager::Error),
    /// The terminal (or standard output) failed: not a terminal that can
    /// be put in raw mode, a write that failed, events that cannot be read.
    #[error("the terminal: {0}")]
    Terminal(#[from] std::io::Error),
}

/// Shows the manager that `client` is connected to (at `address`, for the
/// header), refreshed every `every`, until the user quits (see the
/// [module's documentation](self)).
///
/// # Errors
///
/// [`WatchError::Inspect`] if the first snapshot cannot be taken (or,
/// without a terminal, any); [`WatchError::Terminal`] if the terminal
/// fails.
///
/// # Panics
///
/// Outside a tokio runtime with its I/O, time and signal drivers enabled.
pub async fn watch(client: Client, address: &Address, every: Duration) -> Result<(), WatchError> {
    let first = client.inspect().await?;
    if !std::io::stdout().is_terminal() {
        return print_pages(&client, address, first, every).await;
    }
    let mut app = App::new(address.to_string(), first);
    let (snapshots, mut refreshed) = mpsc::channel(1);
    let refresher = refresh(&client, every, snapshots);
    tokio::pin!(refresher);
    let mut events = EventStream::new();
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut screen = Screen::enter()?;
    loop {
        screen.terminal.draw(|frame| draw::draw(frame, &mut app))?;
        tokio::select! {
            () = &mut refresher => break,
            Some(snapshot) = refreshed.recv() => app.update(snapshot),
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => {
                    if app.key(key) == Action::Quit {
                        break;
                    }
                }
                // A resize or anything else: drawn again at the new size.
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            _ = interrupt.recv() => break,
            _ = terminate.recv() => break,
            _ = hangup.recv() => break,
        }
    }
    drop(screen);
    Ok(())
}

/// Takes a snapshot every `every` (the first one `every` from now) and
/// sends it, or why it failed, to the view; returns once the view is gone.
async fn refresh(
    client: &Client,
    every: Duration,
    snapshots: mpsc::Sender<Result<ManagerSnapshot, manager::Error>>,
) {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if snapshots.send(client.inspect().await).await.is_err() {
            return;
        }
    }
}

/// Without a terminal: the plain page, every `every`.
async fn print_pages(
    client: &Client,
    address: &Address,
    first: ManagerSnapshot,
    every: Duration,
) -> Result<(), WatchError> {
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut snapshot = first;
    loop {
        {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", crate::render(address, &snapshot))?;
            out.flush()?;
        }
        ticks.tick().await;
        snapshot = client.inspect().await?;
    }
}
