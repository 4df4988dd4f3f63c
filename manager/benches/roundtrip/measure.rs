//! Timing calls: one row's sample, and the results of a placement.

use std::collections::HashMap;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use crate::WARMUP_CALLS;
use crate::histogram::Histogram;
use crate::rows::Row;

/// One measurement of one row.
#[derive(Clone, Debug)]
pub(crate) struct Sample {
    pub(crate) ops: u64,
    pub(crate) secs: f64,
    /// Median time of one call in microseconds. A call is one request,
    /// except in the waves and the pipelined floor rows, where it is a wave
    /// of 64.
    pub(crate) median_us: f64,
    /// Every call's time.
    pub(crate) histogram: Histogram,
}

impl Sample {
    pub(crate) fn ops_per_s(&self) -> f64 {
        self.ops as f64 / self.secs
    }
}

/// Every round's sample of every row, and the shared counter's final
/// total of every round (each checked equal to the adds made).
#[derive(Default)]
pub(crate) struct Results(pub(crate) HashMap<Row, Vec<Sample>>, pub(crate) Vec<i64>);

impl Results {
    pub(crate) fn push(&mut self, row: Row, sample: Sample) {
        self.0.entry(row).or_default().push(sample);
    }
}

/// What one client measured: when it started and stopped, and the time of
/// each call in nanoseconds.
pub(crate) struct Timed {
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) calls: Vec<u64>,
}

/// Calls `call` until `row` has passed, timing each call.
pub(crate) fn timed_loop(row: Duration, mut call: impl FnMut()) -> Timed {
    let start = Instant::now();
    let deadline = start + row;
    let mut calls = Vec::with_capacity(16 * 1024);
    loop {
        let t0 = Instant::now();
        call();
        let t1 = Instant::now();
        calls.push((t1 - t0).as_nanos() as u64);
        if t1 >= deadline {
            return Timed {
                start,
                end: t1,
                calls,
            };
        }
    }
}

/// Runs each worker on its own thread, all starting together after a
/// warm-up, and sums what they did.
pub(crate) fn measure_threads<W: FnMut() + Send>(
    row: Duration,
    ops_per_call: u64,
    workers: Vec<W>,
) -> Sample {
    let barrier = Barrier::new(workers.len());
    let timed: Vec<Timed> = thread::scope(|s| {
        let handles: Vec<_> = workers
            .into_iter()
            .map(|mut call| {
                let barrier = &barrier;
                s.spawn(move || {
                    for _ in 0..WARMUP_CALLS {
                        call();
                    }
                    barrier.wait();
                    timed_loop(row, call)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a bench thread panicked"))
            .collect()
    });
    summarize(&timed, ops_per_call)
}

pub(crate) fn summarize(timed: &[Timed], ops_per_call: u64) -> Sample {
    let start = timed.iter().map(|t| t.start).min().expect("one client");
    let end = timed.iter().map(|t| t.end).max().expect("one client");
    let mut calls: Vec<u64> = timed.iter().flat_map(|t| t.calls.iter().copied()).collect();
    calls.sort_unstable();
    let mut histogram = Histogram::default();
    for &nanos in &calls {
        histogram.add(nanos);
    }
    Sample {
        ops: calls.len() as u64 * ops_per_call,
        secs: (end - start).as_secs_f64(),
        median_us: calls[calls.len() / 2] as f64 / 1000.0,
        histogram,
    }
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
