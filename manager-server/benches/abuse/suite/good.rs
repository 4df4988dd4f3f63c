//! The good client: a blocking client on a connection of its own that
//! inserts into and reads from a dict, one call at a time, for as long as
//! a row runs, timing every call.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::Context;
use manager::{Address, AuthKey, Error, blocking};

/// A call that takes longer fails with `Error::Timeout` (and is recorded
/// as that long).
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

/// The pause between two rounds of insert and get, so that the good client
/// samples the manager's latency every millisecond or so without taking a
/// CPU of its own from a two-core machine.
const PACE: Duration = Duration::from_millis(1);

/// One timed call.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) error: Option<String>,
}

impl Call {
    fn took(&self) -> Duration {
        self.end - self.start
    }
}

/// The good client's thread.
#[derive(Debug)]
pub(crate) struct GoodClient {
    stop: Arc<AtomicBool>,
    calls: Arc<AtomicU64>,
    thread: Option<JoinHandle<Vec<Call>>>,
}

impl GoodClient {
    /// Connects and starts calling.
    pub(crate) fn start(address: Address, key: &AuthKey) -> anyhow::Result<GoodClient> {
        let client = blocking::Client::connect(&address, key)
            .context("the good client connects")?
            .with_timeout(CALL_TIMEOUT);
        let dict = client.dict::<String, u64>("good")?;
        dict.insert("k", &0)?;
        let stop = Arc::new(AtomicBool::new(false));
        let calls = Arc::new(AtomicU64::new(0));
        let (stopped, counted) = (stop.clone(), calls.clone());
        let thread = thread::Builder::new()
            .name("abuse-good-client".into())
            .spawn(move || {
                let mut log = Vec::with_capacity(1 << 16);
                let mut n = 0_u64;
                'run: while !stopped.load(Ordering::Relaxed) {
                    n += 1;
                    for insert in [true, false] {
                        let start = Instant::now();
                        let result = if insert {
                            dict.insert("k", &n).map(drop)
                        } else {
                            dict.get("k").map(drop)
                        };
                        let end = Instant::now();
                        let gone = matches!(
                            result,
                            Err(Error::ManagerGone { .. } | Error::Disconnected { .. })
                        );
                        log.push(Call {
                            start,
                            end,
                            error: result.err().map(|e| e.to_string()),
                        });
                        counted.fetch_add(1, Ordering::Relaxed);
                        if gone {
                            break 'run;
                        }
                    }
                    thread::sleep(PACE);
                }
                drop(client);
                log
            })?;
        Ok(GoodClient {
            stop,
            calls,
            thread: Some(thread),
        })
    }

    /// Calls made so far.
    pub(crate) fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Stops calling and returns every call.
    pub(crate) fn stop(mut self) -> anyhow::Result<Vec<Call>> {
        self.stop.store(true, Ordering::Relaxed);
        let thread = self.thread.take().expect("stopped once");
        thread
            .join()
            .map_err(|_| anyhow::anyhow!("the good client panicked"))
    }
}

impl Drop for GoodClient {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The good client's latency over one phase.
#[derive(Debug, Clone, Default)]
pub(crate) struct Latency {
    pub(crate) calls: usize,
    pub(crate) worst: Duration,
    /// When the worst call started.
    pub(crate) worst_start: Option<Instant>,
    pub(crate) p99: Duration,
    pub(crate) errors: usize,
    pub(crate) first_error: Option<String>,
}

impl Latency {
    fn of<'a>(calls: impl Iterator<Item = &'a Call>) -> Latency {
        let mut took = Vec::new();
        let mut latency = Latency::default();
        for call in calls {
            took.push(call.took());
            if call.took() >= latency.worst {
                latency.worst = call.took();
                latency.worst_start = Some(call.start);
            }
            if let Some(e) = &call.error {
                latency.errors += 1;
                latency.first_error.get_or_insert_with(|| e.clone());
            }
        }
        took.sort_unstable();
        latency.calls = took.len();
        if !took.is_empty() {
            let at = (took.len() * 99).div_ceil(100).saturating_sub(1);
            latency.p99 = took[at];
        }
        latency
    }
}

/// The calls that ended before `attack` began (the baseline), and those
/// that ended after it began and started before `end` (the attack: a call
/// that straddles the start felt the attack).
pub(crate) fn split(calls: &[Call], attack: Instant, end: Instant) -> (Latency, Latency) {
    let baseline = Latency::of(calls.iter().filter(|c| c.end <= attack));
    let during = Latency::of(calls.iter().filter(|c| c.end > attack && c.start < end));
    (baseline, during)
}
