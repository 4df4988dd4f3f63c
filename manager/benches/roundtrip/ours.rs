//! Our rows: the calls each row times through our clients.

use std::time::{Duration, Instant};

use anyhow::ensure;
use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use manager::{blocking, proxy};

use crate::measure::{Sample, Timed, measure_threads, summarize};
use crate::rows::{Obj, Op};
use crate::run::{Objects, Ours};
use crate::{ATTRIBUTE, DEPTH, DICT_KEY, SHARED_VALUE, VALUE, WARMUP_CALLS};

/// The custom type of the `custom type call` row: a counter whose request
/// is the amount to add and whose reply is the new total.
#[derive(Debug, Default)]
pub(crate) struct BenchCounter(i64);

impl manager::CustomType for BenchCounter {
    const TYPE_NAME: &'static str = "bench.counter";
    type Init = ();
    type Request = i64;
    type Reply = i64;
}

impl manager::CustomObject for BenchCounter {
    fn create((): ()) -> Result<Self, String> {
        Ok(BenchCounter(0))
    }

    fn handle(&mut self, delta: i64, _call: &manager::CallInfo<'_>) -> i64 {
        self.0 += delta;
        self.0
    }
}

/// One blocking client on one thread calling `obj`'s operation.
pub(crate) fn object_row(row: Duration, obj: Obj, objects: &Objects) -> Sample {
    let key = DICT_KEY.to_owned();
    let call = move || match obj {
        Obj::DictSet => {
            let old = objects.dict.insert(&key, &VALUE).expect("dict insert");
            assert_eq!(old, Some(VALUE));
        }
        Obj::DictGet => assert_eq!(objects.dict.get(&key).expect("dict get"), Some(VALUE)),
        Obj::ListAppend => objects.list.append(&VALUE).expect("list append"),
        Obj::QueuePair => {
            objects.queue.put(&VALUE).expect("queue put");
            assert_eq!(objects.queue.get().expect("queue get"), VALUE);
        }
        Obj::LockPair => {
            objects.lock.acquire().expect("lock acquire");
            objects.lock.release().expect("lock release");
        }
        Obj::ValueGet => assert_eq!(objects.value.get().expect("value get"), SHARED_VALUE),
        Obj::CustomAdd => assert_eq!(objects.custom.call(0).expect("custom call"), SHARED_VALUE),
    };
    measure_threads(row, 1, vec![call])
}

/// The shared counter: every client adds 1 to the one value, on its own
/// thread and connection. Starts the value at 0 and checks after the row
/// that it holds exactly the number of adds made, warm-up included: no
/// update lost. Returns the sample and that total.
pub(crate) fn counter_row(row: Duration, ours: &Ours<'_>) -> anyhow::Result<(Sample, i64)> {
    ours.objects.counter.set(&0)?;
    let workers: Vec<_> = ours
        .counters
        .iter()
        .map(|counter| {
            let counter = counter.clone();
            move || assert!(counter.add(1).expect("counter add") >= 1)
        })
        .collect();
    let sample = measure_threads(row, 1, workers);
    let adds = sample.ops + (WARMUP_CALLS * ours.counters.len()) as u64;
    let total = ours.objects.counter.get()?;
    ensure!(
        u64::try_from(total) == Ok(adds),
        "shared counter: final total {total} after {adds} adds: updates lost"
    );
    Ok((sample, total))
}

pub(crate) fn blocking_row(row: Duration, op: Op, namespaces: &[blocking::Namespace]) -> Sample {
    let workers: Vec<_> = namespaces
        .iter()
        .map(|ns| {
            let ns = ns.clone();
            move || match op {
                Op::Set => ns.set(ATTRIBUTE, &VALUE).expect("set"),
                Op::Get => assert_eq!(ns.get::<i64>(ATTRIBUTE).expect("get"), VALUE),
            }
        })
        .collect();
    measure_threads(row, 1, workers)
}

pub(crate) async fn async_single(
    row: Duration,
    op: Op,
    ns: &proxy::Namespace,
) -> anyhow::Result<Sample> {
    let call = || async move {
        match op {
            Op::Set => ns.set(ATTRIBUTE, &VALUE).await?,
            Op::Get => ensure!(ns.get::<i64>(ATTRIBUTE).await? == VALUE, "wrong value"),
        }
        Ok(())
    };
    timed_calls(row, WARMUP_CALLS, 1, call).await
}

/// Waves of 64 gets joined: 64 in flight at the start of a wave, fewer as
/// it drains. A wave is one call.
pub(crate) async fn async_waves(row: Duration, ns: &proxy::Namespace) -> anyhow::Result<Sample> {
    let wave = || async {
        for r in join_all((0..DEPTH).map(|_| ns.get::<i64>(ATTRIBUTE))).await {
            ensure!(r? == VALUE, "wrong value");
        }
        Ok(())
    };
    timed_calls(row, WARMUP_CALLS / 10, DEPTH as u64, wave).await
}

/// Awaits `call` `warmups` times, then again and again until `row` has
/// passed, timing each; a call counts as `ops_per_call` operations.
async fn timed_calls<F, Fut>(
    row: Duration,
    warmups: usize,
    ops_per_call: u64,
    call: F,
) -> anyhow::Result<Sample>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    for _ in 0..warmups {
        call().await?;
    }
    let start = Instant::now();
    let deadline = start + row;
    let mut calls = Vec::with_capacity(16 * 1024);
    loop {
        let t0 = Instant::now();
        call().await?;
        let t1 = Instant::now();
        calls.push((t1 - t0).as_nanos() as u64);
        if t1 >= deadline {
            let timed = Timed {
                start,
                end: t1,
                calls,
            };
            return Ok(summarize(&[timed], ops_per_call));
        }
    }
}

/// 64 gets kept in flight: a new one starts as each completes. A call is
/// one get, its time in the queue included.
pub(crate) async fn async_window(row: Duration, ns: &proxy::Namespace) -> anyhow::Result<Sample> {
    let get = || async {
        let t0 = Instant::now();
        let value = ns.get::<i64>(ATTRIBUTE).await;
        (t0.elapsed().as_nanos() as u64, value)
    };
    let mut in_flight: FuturesUnordered<_> = (0..DEPTH).map(|_| get()).collect();
    let start = Instant::now();
    let deadline = start + row;
    let mut calls = Vec::with_capacity(64 * 1024);
    let mut end = start;
    while let Some((took, value)) = in_flight.next().await {
        ensure!(value? == VALUE, "wrong value");
        calls.push(took);
        end = Instant::now();
        if end < deadline {
            in_flight.push(get());
        }
    }
    Ok(summarize(&[Timed { start, end, calls }], 1))
}
