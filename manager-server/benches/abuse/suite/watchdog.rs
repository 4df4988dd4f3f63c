//! [`Watchdog`]: ends the process if a row overruns its limit, killing that
//! row's server and removing its directory first (`exit` runs no
//! destructors), so that the bench never hangs and leaves nothing behind.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct State {
    row: String,
    deadline: Option<Instant>,
    /// The row's server and its directory.
    server: Option<(u32, PathBuf)>,
    done: bool,
}

/// The watchdog's thread.
#[derive(Debug)]
pub(crate) struct Watchdog {
    shared: Arc<(Mutex<State>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    pub(crate) fn start() -> Watchdog {
        let shared = Arc::new((
            Mutex::new(State {
                row: String::new(),
                deadline: None,
                server: None,
                done: false,
            }),
            Condvar::new(),
        ));
        let watched = shared.clone();
        let thread = thread::Builder::new()
            .name("abuse-watchdog".into())
            .spawn(move || {
                let (lock, wake) = &*watched;
                let mut state = lock.lock().expect("watchdog lock");
                while !state.done {
                    let now = Instant::now();
                    match state.deadline {
                        Some(deadline) if now >= deadline => {
                            eprintln!("abuse: row `{}` overran its limit; giving up", state.row);
                            if let Some((pid, dir)) = &state.server {
                                let _ = Command::new("kill")
                                    .args(["-KILL", &pid.to_string()])
                                    .stdout(Stdio::null())
                                    .stderr(Stdio::null())
                                    .status();
                                let _ = std::fs::remove_dir_all(dir);
                            }
                            std::process::exit(2);
                        }
                        Some(deadline) => {
                            state = wake
                                .wait_timeout(state, deadline - now)
                                .expect("watchdog lock")
                                .0;
                        }
                        None => state = wake.wait(state).expect("watchdog lock"),
                    }
                }
            })
            .expect("spawn the watchdog");
        Watchdog {
            shared,
            thread: Some(thread),
        }
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        let (lock, wake) = &*self.shared;
        f(&mut lock.lock().expect("watchdog lock"));
        wake.notify_one();
    }

    /// Starts a row that must end within `limit`.
    pub(crate) fn row(&self, row: &str, limit: Duration) {
        self.update(|s| {
            s.row = row.to_owned();
            s.deadline = Some(Instant::now() + limit);
            s.server = None;
        });
    }

    /// The row's server, to kill if the row overruns.
    pub(crate) fn server(&self, pid: u32, dir: PathBuf) {
        self.update(|s| s.server = Some((pid, dir)));
    }

    /// The row has ended (its server is gone).
    pub(crate) fn idle(&self) {
        self.update(|s| {
            s.deadline = None;
            s.server = None;
        });
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.update(|s| s.done = true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
