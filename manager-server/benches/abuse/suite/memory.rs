//! The manager process's memory, from `/proc/PID/status`.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often the sampler reads the status during an attack.
const SAMPLE_EVERY: Duration = Duration::from_millis(5);

/// One reading, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Status {
    /// Resident now.
    pub(crate) rss: u64,
    /// Resident at most (since start, or since [`reset_peak_rss`]).
    pub(crate) hwm: u64,
    /// Address space reserved now.
    pub(crate) size: u64,
    /// Address space reserved at most.
    pub(crate) peak: u64,
}

/// Reads `pid`'s status.
pub(crate) fn status(pid: u32) -> io::Result<Status> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| io::Error::other(format!("no {name} in /proc/{pid}/status")))
    };
    Ok(Status {
        rss: field("VmRSS:")?,
        hwm: field("VmHWM:")?,
        size: field("VmSize:")?,
        peak: field("VmPeak:")?,
    })
}

/// Resets `pid`'s VmHWM to its current RSS (`clear_refs` 5); `false` if
/// the kernel did not let us.
pub(crate) fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Reads VmRSS every few milliseconds and keeps the largest, for when
/// [`reset_peak_rss`] is not allowed.
#[derive(Debug)]
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<u64>>,
}

impl Sampler {
    /// Starts sampling `pid`.
    pub(crate) fn start(pid: u32) -> io::Result<Sampler> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = thread::Builder::new()
            .name("abuse-rss-sampler".into())
            .spawn(move || {
                let mut max = 0;
                while !stopped.load(Ordering::Relaxed) {
                    match status(pid) {
                        Ok(s) => max = max.max(s.rss),
                        Err(_) => break,
                    }
                    thread::sleep(SAMPLE_EVERY);
                }
                max
            })?;
        Ok(Sampler {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops and returns the largest VmRSS seen, in KiB.
    pub(crate) fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// `pid`'s RSS once it has stopped falling (no new low for `limit` less a
/// second, and at least a second: a manager process trims its heaps every
/// 5 s, so a full run's 7 s see one trim), or after `limit`; in KiB.
pub(crate) fn settled_rss(pid: u32, limit: Duration) -> io::Result<u64> {
    let deadline = Instant::now() + limit;
    let quiet = limit
        .saturating_sub(Duration::from_secs(1))
        .max(Duration::from_secs(1));
    let mut low = status(pid)?.rss;
    let mut low_since = Instant::now();
    while Instant::now() < deadline && low_since.elapsed() < quiet {
        thread::sleep(Duration::from_millis(50));
        let now = status(pid)?.rss;
        if now < low {
            low = now;
            low_since = Instant::now();
        }
    }
    Ok(low)
}
