//! The terminal while the view is up: raw mode on the alternate screen,
//! given back as it was however the view ends.
//!
//! # Restoring the terminal
//!
//! [`Screen`] restores the terminal when dropped: on a normal return, on an
//! error (`?` drops it on the way out) and while a panic unwinds. A panic
//! hook restores it too, before the panic's message is printed, so the
//! message lands on the normal screen instead of the alternate one that is
//! about to vanish. `q`, Ctrl-C (a key in raw mode, not a signal) and
//! SIGINT, SIGTERM or SIGHUP from elsewhere all end the view through the
//! normal return. Only SIGKILL leaves the terminal raw (`reset` mends it).

use std::io::{self, Stdout};
use std::sync::Once;

use crossterm::cursor::{Hide, Show};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// The terminal in raw mode on the alternate screen, restored on drop.
pub(crate) struct Screen {
    pub(crate) terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl Screen {
    /// Enters raw mode and the alternate screen, hiding the cursor.
    ///
    /// # Errors
    ///
    /// The terminal's, if it is not one or refuses a mode; whatever was
    /// switched on by then is switched off again.
    pub(crate) fn enter() -> io::Result<Self> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore();
                previous(info);
            }));
        });
        // Armed before anything is switched on: a failure half-way switches
        // back what was switched.
        let armed = Restore;
        enable_raw_mode()?;
        execute!(io::stdout(), EnterAlternateScreen, Hide)?;
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
        std::mem::forget(armed);
        Ok(Screen { terminal })
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        restore();
    }
}

impl std::fmt::Debug for Screen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Screen").finish_non_exhaustive()
    }
}

/// Restores the terminal when dropped, until forgotten.
struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        restore();
    }
}

/// Leaves raw mode and the alternate screen and shows the cursor; harmless
/// when they are already off, so it may run twice (panic hook, then drop).
fn restore() {
    // Raw mode first: it is the one that leaves a shell unusable.
    let _ = disable_raw_mode();
    let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
}
