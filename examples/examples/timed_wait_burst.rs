//! What many timed waits on one object cost: parking them, every other
//! request while they are parked, and their expiry.
//!
//! One connection parks [`PARKED`] `get_timeout(WAIT)` requests on the
//! empty queue `burst`, all at once, so they share (nearly) one deadline.
//! A second connection meanwhile times `len()` round trips on the same
//! queue and on another queue, `other`:
//!
//! 1. **idle**: before anything is parked, the floor;
//! 2. **parked**: while every wait is parked, which shows what a message to
//!    an object costs with that many waits parked there (and, since every
//!    object runs on the manager's one actor thread, to the other objects);
//! 3. **expiry**: while the waits end, which shows how long the burst
//!    stalls everyone else.
//!
//! The report gives how long the burst took (from the first `Empty` reply to
//! the last, and how far the last one came after its deadline) and the
//! probes' latencies in each phase. It is a measurement, not a test: it
//! checks only that every wait ended in `Empty`.
//!
//! Run it with
//!
//! ```text
//! cargo run --release -p examples --example timed_wait_burst
//! cargo run --release -p examples --example timed_wait_burst -- 20000
//! ```
//!
//! (the argument is how many waits to park; 40,000 by default).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use manager::{Client, Error, Manager, ManagerError, proxy::Queue};

/// How many timed waits to park, unless the command line says.
const PARKED: usize = 40_000;
/// How long each wait lasts; long enough for all of them to be parked
/// well before the first one ends.
const WAIT: Duration = Duration::from_secs(8);
/// Probe round trips per object in the idle and parked phases.
const PROBES: usize = 200;
/// How long any one step may take before the program gives up.
const DEADLINE: Duration = Duration::from_secs(120);

/// Latencies of one series of probes.
#[derive(Debug, Default)]
struct Latencies(Vec<Duration>);

impl Latencies {
    fn push(&mut self, d: Duration) {
        self.0.push(d);
    }

    fn report(&mut self, what: &str) {
        if self.0.is_empty() {
            println!("  {what:<28} no probes");
            return;
        }
        self.0.sort_unstable();
        let at = |q: f64| self.0[((self.0.len() - 1) as f64 * q) as usize];
        println!(
            "  {what:<28} n={:<5} median {:>9.3?}  p99 {:>9.3?}  max {:>9.3?}",
            self.0.len(),
            at(0.5),
            at(0.99),
            self.0[self.0.len() - 1],
        );
    }
}

/// One timed `len()` round trip.
async fn probe(queue: &Queue<u64>) -> Result<Duration> {
    let start = Instant::now();
    queue.len().await?;
    Ok(start.elapsed())
}

/// `PROBES` round trips on each of `same` and `other`, alternating.
async fn probe_series(same: &Queue<u64>, other: &Queue<u64>) -> Result<(Latencies, Latencies)> {
    let (mut on_same, mut on_other) = (Latencies::default(), Latencies::default());
    for _ in 0..PROBES {
        on_same.push(probe(same).await?);
        on_other.push(probe(other).await?);
    }
    Ok((on_same, on_other))
}

/// Waits until the object `name` has handled at least `n` requests.
async fn handled_at_least(client: &Client, name: &str, n: u64) -> Result<()> {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let handled = client
            .objects()
            .await?
            .into_iter()
            .find(|o| o.name.as_str() == name)
            .map_or(0, |o| o.messages_handled);
        if handled >= n {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("{name} handled only {handled} of {n} requests within {DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn main() -> Result<()> {
    let parked: usize = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .context("the argument is how many waits to park")?,
        None => PARKED,
    };
    let manager = Manager::start()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(&manager, parked))
}

async fn run(manager: &Manager, parked: usize) -> Result<()> {
    let waiter = manager.connect_async().await?;
    let prober = manager.connect_async().await?.with_timeout(DEADLINE);
    let burst = waiter.queue::<u64>("burst", None).await?;
    let same = prober.queue::<u64>("burst", None).await?;
    let other = prober.queue::<u64>("other", None).await?;
    println!("{parked} timed waits of {WAIT:?} on one queue");

    let (mut idle_same, mut idle_other) = probe_series(&same, &other).await?;

    let before = prober
        .objects()
        .await?
        .into_iter()
        .find(|o| o.name.as_str() == "burst")
        .map_or(0, |o| o.messages_handled);
    let park_start = Instant::now();
    let waits: Vec<_> = (0..parked)
        .map(|_| {
            let burst = burst.clone();
            tokio::spawn(async move {
                let outcome = burst.get_timeout(WAIT).await;
                (Instant::now(), outcome)
            })
        })
        .collect();
    handled_at_least(&prober, "burst", before + parked as u64).await?;
    let all_parked = Instant::now();
    // Every deadline lies between `park_start + WAIT` and this.
    let last_deadline = all_parked + WAIT;

    let (mut parked_same, mut parked_other) = probe_series(&same, &other).await?;
    ensure!(
        Instant::now() + Duration::from_secs(1) < park_start + WAIT,
        "the parked phase ran into the expiry; make WAIT longer"
    );

    // Probe until the last wait has ended.
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel::<()>();
    let probes = {
        let (same, other) = (same.clone(), other.clone());
        tokio::spawn(async move {
            let (mut on_same, mut on_other) = (Latencies::default(), Latencies::default());
            // Start shortly before the first deadline.
            tokio::time::sleep_until((park_start + WAIT - Duration::from_millis(200)).into()).await;
            loop {
                on_same.push(probe(&same).await?);
                on_other.push(probe(&other).await?);
                if done_rx.try_recv().is_ok() {
                    return anyhow::Ok((on_same, on_other));
                }
            }
        })
    };
    let mut first_end: Option<Instant> = None;
    let mut last_end = park_start;
    for wait in waits {
        let (ended, outcome) = tokio::time::timeout(DEADLINE, wait).await??;
        match outcome {
            Err(Error::Manager(ManagerError::Empty { .. })) => {}
            other => bail!("a timed wait ended with {other:?}, not Empty"),
        }
        first_end = Some(first_end.map_or(ended, |f| f.min(ended)));
        last_end = last_end.max(ended);
    }
    let _ = done_tx.send(());
    let (mut burst_same, mut burst_other) = tokio::time::timeout(DEADLINE, probes).await???;
    let first_end = first_end.unwrap_or(last_end);

    println!(
        "parking:  {:>9.3?} to park all (deadlines spread over that)",
        all_parked - park_start
    );
    println!(
        "expiry:   {:>9.3?} from the first Empty to the last; the last came {:.3?} after the latest deadline",
        last_end - first_end,
        last_end.saturating_duration_since(last_deadline),
    );
    println!("len() round trips from another connection:");
    idle_same.report("idle, same queue");
    idle_other.report("idle, other queue");
    parked_same.report("all parked, same queue");
    parked_other.report("all parked, other queue");
    burst_same.report("during expiry, same queue");
    burst_other.report("during expiry, other queue");
    Ok(())
}
