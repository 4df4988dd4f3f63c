//! The watchdog that ends a stage that overruns its limit.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Ends the process if a stage overruns its limit, so that the bench never
/// hangs. It removes the manager's socket first, as `exit` runs no
/// destructors.
pub(crate) struct Watchdog {
    shared: Arc<(Mutex<WatchState>, Condvar)>,
    thread: Option<thread::JoinHandle<()>>,
}

struct WatchState {
    stage: &'static str,
    deadline: Instant,
    socket: Option<PathBuf>,
    done: bool,
}

impl Watchdog {
    pub(crate) fn start() -> Self {
        let shared = Arc::new((
            Mutex::new(WatchState {
                stage: "start",
                deadline: Instant::now() + Duration::from_secs(60),
                socket: None,
                done: false,
            }),
            Condvar::new(),
        ));
        let watched = shared.clone();
        let thread = thread::Builder::new()
            .name("bench-watchdog".into())
            .spawn(move || {
                let (lock, wake) = &*watched;
                let mut state = lock.lock().expect("watchdog lock");
                while !state.done {
                    let now = Instant::now();
                    if now >= state.deadline {
                        eprintln!("roundtrip: stage `{}` overran its limit", state.stage);
                        if let Some(socket) = &state.socket {
                            let _ = std::fs::remove_file(socket);
                            if let Some(dir) = socket.parent() {
                                let _ = std::fs::remove_dir(dir);
                            }
                        }
                        std::process::exit(2);
                    }
                    let wait = state.deadline - now;
                    state = wake.wait_timeout(state, wait).expect("watchdog lock").0;
                }
            })
            .expect("spawn the watchdog");
        Watchdog {
            shared,
            thread: Some(thread),
        }
    }

    fn update(&self, f: impl FnOnce(&mut WatchState)) {
        let (lock, wake) = &*self.shared;
        f(&mut lock.lock().expect("watchdog lock"));
        wake.notify_one();
    }

    /// Starts a stage that must end within `limit`.
    pub(crate) fn stage(&self, stage: &'static str, limit: Duration) {
        self.update(|s| {
            s.stage = stage;
            s.deadline = Instant::now() + limit;
        });
    }

    pub(crate) fn remove_on_abort(&self, socket: PathBuf) {
        self.update(|s| s.socket = Some(socket));
    }

    pub(crate) fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.update(|s| s.done = true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}
