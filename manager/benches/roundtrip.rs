//! Round trips through a manager, measured against the floor of the same
//! machine in the same run.
//!
//! Run it with `cargo bench -p manager --bench roundtrip`; the rows and
//! how to read them are described in `docs/benchmarks.md`.
//!
//! - **Ours**: Namespace `set` and `get` over the Unix socket with the
//!   blocking client (1, 2 and 4 clients, each its own connection and
//!   thread), the async client (one client), and one async connection with
//!   64 gets in flight.
//! - **Ours, other objects**: with one blocking client on one thread, a
//!   dict set (`insert`) and get, a list append, a value get, and two pairs
//!   of round trips: a queue put then get, and a lock acquire then release.
//! - **Floor**: a raw Unix-socket ping-pong between two threads with frames
//!   of exactly the sizes of our request and reply frames, 4-byte length
//!   prefix included (1, 2 and 4 pairs), and the same with 64 frames per
//!   write. A second floor also encodes and decodes every frame with our
//!   codec, to tell the cost of the codec from the rest. Each of the other
//!   objects' rows has a raw floor of its own with that operation's frames;
//!   for a pair, the floor makes the same two round trips, one after the
//!   other.
//! - **Shared counter**: 4 blocking clients, each its own connection and
//!   thread (as the manager sees them, the same as 4 processes), adding 1
//!   to one shared `Value<i64>` with its atomic `add`; total ops/s, against
//!   a raw floor of 4 pairs with the add's frames. After each round the bench
//!   checks (and fails if not) that the final total equals the number of
//!   adds made: no update lost.
//! - **Python**: `shared/bench/py_manager_bench.py`, if `python3` and the
//!   script are there, with the same thread placement; its latency rows for
//!   the namespace, the dict, the list, the queue, the lock and the value,
//!   and its counter (4 processes x 2000 increments of a dict entry under a
//!   manager `Lock`), against our shared counter.
//!
//! The manager runs on its default number of threads (the CPUs this
//! process may use, 2 here; `BENCH_MANAGER_THREADS` sets another), all
//! pinned as the placement says; the `threads` bench measures what more
//! threads bring.
//!
//! # Placement
//!
//! On a small virtual machine, waking a thread on another, idle CPU can cost
//! ten times a whole same-CPU round trip, and the scheduler decides per run
//! which one a pair of threads gets. So every row runs under a fixed
//! placement: `same` (every thread on CPU 0: the CPU work of a round trip)
//! and `split` (clients on CPU 0, the manager or echo threads on CPU 1:
//! cross-CPU wakeups included), like the Python script's `--pin`. `none`
//! leaves placement to the scheduler.
//!
//! # Settings
//!
//! - `BENCH_PIN` (default `same,split`): the placements to run, from `none`,
//!   `same`, `split`.
//! - `BENCH_SKIP_PYTHON=1`: skip the Python reference (3 to 10 s per
//!   placement).
//! - `BENCH_ROUNDS` (default 5) and `BENCH_ROW_MS` (default 200): rounds, and
//!   the time each row runs per round.
//!
//! Without `--bench` (as `cargo test --benches` runs it) every row runs once
//! for a few milliseconds, as a smoke test.
//!
//! # Bounded
//!
//! Raw sockets have read and write timeouts, the Python script is killed
//! (with its process group) after two minutes, and a watchdog thread ends the
//! process, removing the manager's socket, if any stage overruns its limit.
//! That also bounds the queue `get` and the lock `acquire`, which wait
//! without a limit as Python's do (neither should wait: the queue holds the
//! item just put, and the lock is free).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use futures_util::StreamExt;
use futures_util::future::join_all;
use futures_util::stream::FuturesUnordered;
use manager::{Address, Manager, blocking, proxy};
use manager_core::reply::{Reply, ReplyFrame};
use manager_core::request::{
    DictRequest, ListRequest, LockRequest, NamespaceRequest, ObjectRequest, QueueRequest, Request,
    RequestFrame, RequestId, ValueRequest, Wait,
};
use manager_core::{Encoded, ObjectId, codec};
use manager_ipc::frame::{DEFAULT_MAX_FRAME, encode_frame};

#[path = "support/histogram.rs"]
mod histogram;
use histogram::Histogram;

/// The attribute every row sets and gets, as Python's bench does `ns.x`.
const ATTRIBUTE: &str = "x";
/// The value stored, as Python's `ns.x = 1`, `d["k"] = 1`, `l.append(1)`
/// and `q.put(1)`.
const VALUE: i64 = 1;
/// The dict rows' key, as Python's `d["k"]`.
const DICT_KEY: &str = "k";
/// The shared counter's name.
const COUNTER: &str = "bench-counter";
/// What the shared value holds, as Python's `Value("i", 7)`.
const SHARED_VALUE: i64 = 7;
/// Requests kept in flight on one connection in the pipelined rows.
const DEPTH: usize = 64;
/// Client counts of the concurrent rows.
const CLIENTS: [usize; 3] = [1, 2, 4];
/// Clients of the shared counter row, as the Python script's 4 counter
/// workers.
const COUNTER_CLIENTS: usize = 4;
/// A total as large as most the shared counter answers during a row
/// (varint: 3 bytes).
const TYPICAL_TOTAL: i64 = 10_000;
/// Read and write timeout of every raw socket.
const IO_TIMEOUT: Duration = Duration::from_secs(10);
/// Calls each client makes before a row's clock starts.
const WARMUP_CALLS: usize = 50;
/// How long the Python reference may run.
const PYTHON_LIMIT: Duration = Duration::from_secs(120);
/// A request id as large as most of the run's ids (varint: 5 bytes).
const TYPICAL_ID: RequestId = RequestId(100_000);

fn main() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let watchdog = Watchdog::start();
    println!(
        "roundtrip: {} round(s) x {} ms per row, cpus {:?}, manager threads {}, placements: {}",
        settings.rounds,
        settings.row.as_millis(),
        settings.cpus,
        settings.manager_threads,
        settings
            .placements
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(", "),
    );
    for &placement in &settings.placements {
        if placement == Placement::Split && settings.cpus.len() < 2 {
            println!("\nplacement split skipped: one cpu");
            continue;
        }
        let results = run_placement(placement, &settings, &watchdog)?;
        set_affinity(0, &settings.cpus).context("unpin the main thread")?;
        print_table(placement, &results);
        draw_histograms(placement, &results)?;
        watchdog.stage("python", PYTHON_LIMIT + Duration::from_secs(30));
        if settings.python {
            match python_reference(placement) {
                Ok(Some(python)) => print_python(placement, &results, &python),
                Ok(None) => {}
                Err(e) => println!("\npython reference failed: {e:#}"),
            }
        }
    }
    if !settings.python {
        println!("\npython reference skipped (BENCH_SKIP_PYTHON, or run without --bench)");
    }
    watchdog.finish();
    Ok(())
}

// ---------------------------------------------------------------- settings

struct Settings {
    rounds: usize,
    row: Duration,
    python: bool,
    placements: Vec<Placement>,
    /// The CPUs this process may use at start, before any pinning.
    cpus: Vec<usize>,
    /// The manager's threads.
    manager_threads: usize,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let cpus = allowed_cpus().context("read this process's cpu affinity")?;
        let placements = match std::env::var("BENCH_PIN") {
            Ok(list) => list
                .split(',')
                .map(|name| match name.trim() {
                    "none" => Ok(Placement::None),
                    "same" => Ok(Placement::Same),
                    "split" => Ok(Placement::Split),
                    other => bail!("BENCH_PIN: unknown placement `{other}` (none, same, split)"),
                })
                .collect::<anyhow::Result<_>>()?,
            Err(_) => vec![Placement::Same, Placement::Split],
        };
        let number = |name: &str, default: u64| -> anyhow::Result<u64> {
            match std::env::var(name) {
                Ok(v) => v.parse().with_context(|| format!("{name}={v}")),
                Err(_) => Ok(default),
            }
        };
        let manager_threads = number(
            "BENCH_MANAGER_THREADS",
            manager::limits::default_threads() as u64,
        )?
        .max(1) as usize;
        if !std::env::args().any(|a| a == "--bench") {
            return Ok(Settings {
                rounds: 1,
                row: Duration::from_millis(5),
                python: false,
                placements,
                cpus,
                manager_threads,
            });
        }
        let skip_python =
            std::env::var("BENCH_SKIP_PYTHON").is_ok_and(|v| !v.is_empty() && v != "0");
        Ok(Settings {
            rounds: number("BENCH_ROUNDS", 5)?.max(1) as usize,
            row: Duration::from_millis(number("BENCH_ROW_MS", 200)?.max(1)),
            python: !skip_python,
            placements,
            cpus,
            manager_threads,
        })
    }
}

// --------------------------------------------------------------- placement

/// Which CPUs the client and server threads run on.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Placement {
    /// Wherever the scheduler puts them.
    None,
    /// Every thread on CPU 0.
    Same,
    /// Clients on CPU 0, the manager's thread and the echo threads on CPU 1.
    Split,
}

impl Placement {
    fn name(self) -> &'static str {
        match self {
            Placement::None => "none",
            Placement::Same => "same",
            Placement::Split => "split",
        }
    }

    /// Where the clients run, of the CPUs this process may use.
    fn client_cpus(self, allowed: &[usize]) -> Vec<usize> {
        match self {
            Placement::None => allowed.to_vec(),
            Placement::Same | Placement::Split => vec![allowed[0]],
        }
    }

    /// Where the manager's thread and the echo threads run.
    fn server_cpus(self, allowed: &[usize]) -> Vec<usize> {
        match self {
            Placement::None => allowed.to_vec(),
            Placement::Same => vec![allowed[0]],
            Placement::Split => vec![allowed[1]],
        }
    }
}

/// The CPUs this process may run on.
// sched_getaffinity and sched_setaffinity have no safe wrappers in std.
#[allow(unsafe_code)]
fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; sched_getaffinity
    // writes at most size_of::<cpu_set_t>() bytes into it, and CPU_ISSET
    // reads inside it for every CPU below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok((0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect())
    }
}

/// Lets thread `tid` (0: the calling thread) run on `cpus` only. Threads
/// inherit this from the thread that spawns them.
#[allow(unsafe_code)]
fn set_affinity(tid: libc::pid_t, cpus: &[usize]) -> io::Result<()> {
    // SAFETY: an all-zero cpu_set_t is a valid empty set; CPU_SET only
    // writes inside the set for a CPU below CPU_SETSIZE (checked), and
    // sched_setaffinity reads exactly size_of::<cpu_set_t>() bytes of it.
    let rc = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus {
            assert!(cpu < libc::CPU_SETSIZE as usize, "cpu {cpu} out of range");
            libc::CPU_SET(cpu, &mut set);
        }
        libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The ids of this process's threads whose name passes `name`.
fn threads_named(name: impl Fn(&str) -> bool) -> io::Result<Vec<libc::pid_t>> {
    let mut tids = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task")? {
        let entry = entry?;
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if name(comm.trim_end())
            && let Some(tid) = entry.file_name().to_str().and_then(|s| s.parse().ok())
        {
            tids.push(tid);
        }
    }
    Ok(tids)
}

// ------------------------------------------------------------------ frames

/// Our requests and replies for every row, and their exact bytes: a
/// Namespace set and get of `x = 1`, and the operations of the other
/// objects' rows, built as their proxies build them.
struct Frames {
    set: OpFrames,
    get: OpFrames,
    dict_set: OpFrames,
    dict_get: OpFrames,
    list_append: OpFrames,
    queue_put: OpFrames,
    queue_get: OpFrames,
    lock_acquire: OpFrames,
    lock_release: OpFrames,
    value_get: OpFrames,
    custom_add: OpFrames,
    counter_add: OpFrames,
}

struct OpFrames {
    request: Request,
    reply: Reply,
    request_bytes: Vec<u8>,
    reply_bytes: Vec<u8>,
}

impl OpFrames {
    fn new(target: ObjectId, op: ObjectRequest, reply: Reply) -> Self {
        let request = Request::Object { target, op };
        OpFrames {
            request_bytes: frame(&RequestFrame {
                id: TYPICAL_ID,
                request: request.clone(),
            }),
            reply_bytes: frame(&ReplyFrame {
                id: TYPICAL_ID,
                result: Ok(reply.clone()),
            }),
            request,
            reply,
        }
    }
}

impl Frames {
    fn new(ns: ObjectId, objects: &Objects) -> Self {
        let encode = |v: &i64| Encoded::encode(v).expect("an i64 encodes");
        let value = encode(&VALUE);
        // The dict's proxy encodes a `&String` key, as `Dict<String, i64>`.
        let key = Encoded::encode(&DICT_KEY.to_owned()).expect("a string encodes");
        // A blocking call is owned by its thread. Threads are numbered from
        // 1 as they first ask, so the bench's owners stay below 251: one
        // byte in the codec, as this thread's.
        let owner = proxy::current_owner();
        // An insert and a get both answer with the value the key had: 1,
        // set before the first round.
        let dict = |op| {
            let reply = Reply::MaybeValue(Some(value.clone()));
            OpFrames::new(objects.dict.id(), ObjectRequest::Dict(op), reply)
        };
        let queue = |op, reply| OpFrames::new(objects.queue.id(), ObjectRequest::Queue(op), reply);
        let lock = |op, reply| OpFrames::new(objects.lock.id(), ObjectRequest::Lock(op), reply);
        Frames {
            set: OpFrames::new(
                ns,
                ObjectRequest::Namespace(NamespaceRequest::Set {
                    attribute: ATTRIBUTE.to_owned(),
                    value: value.clone(),
                }),
                Reply::Done,
            ),
            get: OpFrames::new(
                ns,
                ObjectRequest::Namespace(NamespaceRequest::Get {
                    attribute: ATTRIBUTE.to_owned(),
                }),
                Reply::Value(value.clone()),
            ),
            dict_set: dict(DictRequest::Insert {
                key: key.clone(),
                value: value.clone(),
            }),
            dict_get: dict(DictRequest::Get { key }),
            list_append: OpFrames::new(
                objects.list.id(),
                ObjectRequest::List(ListRequest::Append {
                    value: value.clone(),
                }),
                Reply::Done,
            ),
            queue_put: queue(
                QueueRequest::Put {
                    value: value.clone(),
                    wait: Wait::Forever,
                },
                Reply::Done,
            ),
            queue_get: queue(
                QueueRequest::Get {
                    wait: Wait::Forever,
                },
                Reply::Value(value.clone()),
            ),
            lock_acquire: lock(
                LockRequest::Acquire {
                    owner,
                    wait: Wait::Forever,
                },
                Reply::Bool(true),
            ),
            lock_release: lock(LockRequest::Release { owner }, Reply::Done),
            value_get: OpFrames::new(
                objects.value.id(),
                ObjectRequest::Value(ValueRequest::Get),
                Reply::Value(encode(&SHARED_VALUE)),
            ),
            // The counter answers its total, which stays above 0: the
            // bench adds 0 each call, after one add of SHARED_VALUE.
            custom_add: OpFrames::new(
                objects.custom.id(),
                ObjectRequest::Custom(encode(&0)),
                Reply::Value(encode(&SHARED_VALUE)),
            ),
            counter_add: OpFrames::new(
                objects.counter.id(),
                ObjectRequest::Value(ValueRequest::Add { delta: 1 }),
                Reply::Integer(TYPICAL_TOTAL),
            ),
        }
    }

    fn of(&self, op: Op) -> &OpFrames {
        match op {
            Op::Set => &self.set,
            Op::Get => &self.get,
        }
    }

    /// The round trips of one call of `obj`, in order.
    fn steps(&self, obj: Obj) -> Vec<&OpFrames> {
        match obj {
            Obj::DictSet => vec![&self.dict_set],
            Obj::DictGet => vec![&self.dict_get],
            Obj::ListAppend => vec![&self.list_append],
            Obj::QueuePair => vec![&self.queue_put, &self.queue_get],
            Obj::LockPair => vec![&self.lock_acquire, &self.lock_release],
            Obj::ValueGet => vec![&self.value_get],
            Obj::CustomAdd => vec![&self.custom_add],
        }
    }

    /// `request → reply` bytes of each of `obj`'s round trips.
    fn sizes(&self, obj: Obj) -> String {
        self.steps(obj)
            .iter()
            .map(|f| format!("{} → {} B", f.request_bytes.len(), f.reply_bytes.len()))
            .collect::<Vec<_>>()
            .join(", then ")
    }
}

fn frame<T: serde::Serialize>(message: &T) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(message, &mut out, DEFAULT_MAX_FRAME).expect("a small frame encodes");
    out
}

// -------------------------------------------------------------------- rows

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Op {
    Set,
    Get,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Set => "set",
            Op::Get => "get",
        }
    }

    /// The same operation's row in the Python script's latency suite.
    fn python_label(self) -> &'static str {
        match self {
            Op::Set => "Namespace set (ns.x = v)",
            Op::Get => "Namespace get (ns.x)",
        }
    }
}

/// An operation on one of the other objects, by one blocking client. A call
/// of a pair is two round trips.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Obj {
    /// `Dict::insert` of `"k" → 1`.
    DictSet,
    /// `Dict::get` of `"k"`.
    DictGet,
    /// `List::append` of 1.
    ListAppend,
    /// `Queue::put` of 1, then `Queue::get`.
    QueuePair,
    /// `Lock::acquire`, then `Lock::release`.
    LockPair,
    /// `Value::get`.
    ValueGet,
    /// One call of a custom type (a counter's add), as registered by an
    /// application.
    CustomAdd,
}

impl Obj {
    const ALL: [Obj; 7] = [
        Obj::DictSet,
        Obj::DictGet,
        Obj::ListAppend,
        Obj::QueuePair,
        Obj::LockPair,
        Obj::ValueGet,
        Obj::CustomAdd,
    ];

    fn name(self) -> &'static str {
        match self {
            Obj::DictSet => "dict set",
            Obj::DictGet => "dict get",
            Obj::ListAppend => "list append",
            Obj::QueuePair => "queue put+get pair",
            Obj::LockPair => "lock acq+rel pair",
            Obj::ValueGet => "value get",
            Obj::CustomAdd => "custom type call",
        }
    }

    /// The same operation's row in the Python script's latency suite.
    fn python_label(self) -> &'static str {
        match self {
            Obj::DictSet => "dict __setitem__",
            Obj::DictGet => "dict __getitem__",
            Obj::ListAppend => "list append",
            Obj::QueuePair => "Queue put+get pair",
            Obj::LockPair => "Lock acquire+release pair",
            Obj::ValueGet => "Value get (v.value)",
            // The Python workload has no registered type of its own.
            Obj::CustomAdd => "custom type call",
        }
    }
}

/// One line of the table.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Row {
    /// Raw socket ping-pong, `n` pairs.
    Floor(Op, usize),
    /// Ping-pong that also encodes and decodes every frame, one pair.
    FloorCodec(Op),
    /// Raw socket, 64 frames per write.
    FloorPipelined,
    /// 64 frames per write, every frame encoded and decoded.
    FloorCodecPipelined,
    /// 64 frames in flight, encoded and decoded, one write each.
    FloorCodecWriteEach,
    /// Blocking client, `n` clients.
    Blocking(Op, usize),
    /// Async client, one.
    Async(Op),
    /// Async client, waves of 64 gets joined.
    AsyncWaves,
    /// Async client, 64 gets kept in flight.
    AsyncWindow,
    /// Raw socket ping-pong with the frames of one call of `Obj`, one pair.
    ObjFloor(Obj),
    /// `Obj` by one blocking client.
    Obj(Obj),
    /// Raw socket ping-pong with the frames of a shared value's add, 4
    /// pairs.
    CounterFloor,
    /// 4 blocking clients adding 1 to one shared value.
    Counter,
}

impl Row {
    /// Every row, in the order of the table.
    fn all() -> Vec<Row> {
        let mut rows = Vec::new();
        for op in [Op::Set, Op::Get] {
            rows.extend(CLIENTS.map(|n| Row::Floor(op, n)));
            rows.push(Row::FloorCodec(op));
            rows.extend(CLIENTS.map(|n| Row::Blocking(op, n)));
            rows.push(Row::Async(op));
        }
        for obj in Obj::ALL {
            rows.extend([Row::ObjFloor(obj), Row::Obj(obj)]);
        }
        rows.extend([Row::CounterFloor, Row::Counter]);
        rows.extend([
            Row::FloorPipelined,
            Row::FloorCodecPipelined,
            Row::FloorCodecWriteEach,
            Row::AsyncWaves,
            Row::AsyncWindow,
        ]);
        rows
    }

    /// The raw floor this row is compared with; `None` for the raw floors.
    fn floor(self) -> Option<Row> {
        match self {
            Row::Floor(..) | Row::FloorPipelined | Row::ObjFloor(_) | Row::CounterFloor => None,
            Row::Obj(obj) => Some(Row::ObjFloor(obj)),
            Row::Counter => Some(Row::CounterFloor),
            Row::FloorCodec(op) | Row::Async(op) => Some(Row::Floor(op, 1)),
            Row::Blocking(op, n) => Some(Row::Floor(op, n)),
            Row::FloorCodecPipelined
            | Row::FloorCodecWriteEach
            | Row::AsyncWaves
            | Row::AsyncWindow => Some(Row::FloorPipelined),
        }
    }

    fn label(self) -> String {
        match self {
            Row::Floor(op, _) => format!("floor: raw ping-pong, {} frames", op.name()),
            Row::FloorCodec(op) => format!("floor + codec, {} frames", op.name()),
            Row::FloorPipelined => format!("floor: raw, {DEPTH} get frames a write"),
            Row::FloorCodecPipelined => format!("floor + codec, {DEPTH} get frames a write"),
            Row::FloorCodecWriteEach => format!("floor + codec, {DEPTH} gets, a write each"),
            Row::Blocking(op, _) => format!("ns.{}, blocking client", op.name()),
            Row::Async(op) => format!("ns.{}, async client", op.name()),
            Row::AsyncWaves => format!("ns.get, async, join_all of {DEPTH}"),
            Row::AsyncWindow => format!("ns.get, async, {DEPTH} kept in flight"),
            Row::ObjFloor(obj) => format!("floor: raw ping-pong, {} frames", obj.name()),
            Row::Obj(obj) => format!("{}, blocking client", obj.name()),
            Row::CounterFloor => "floor: raw ping-pong, value add frames".to_owned(),
            Row::Counter => "shared counter: value.add(1), blocking".to_owned(),
        }
    }

    fn clients(self) -> usize {
        match self {
            Row::Floor(_, n) | Row::Blocking(_, n) => n,
            Row::CounterFloor | Row::Counter => COUNTER_CLIENTS,
            _ => 1,
        }
    }
}

// ------------------------------------------------------------ measurements

/// One measurement of one row.
#[derive(Clone, Debug)]
struct Sample {
    ops: u64,
    secs: f64,
    /// Median time of one call in microseconds. A call is one request,
    /// except in the waves and the pipelined floor rows, where it is a wave
    /// of 64.
    median_us: f64,
    /// Every call's time.
    histogram: Histogram,
}

impl Sample {
    fn ops_per_s(&self) -> f64 {
        self.ops as f64 / self.secs
    }
}

/// Every round's sample of every row, and the shared counter's final
/// total of every round (each checked equal to the adds made).
#[derive(Default)]
struct Results(HashMap<Row, Vec<Sample>>, Vec<i64>);

impl Results {
    fn push(&mut self, row: Row, sample: Sample) {
        self.0.entry(row).or_default().push(sample);
    }
}

/// What one client measured: when it started and stopped, and the time of
/// each call in nanoseconds.
struct Timed {
    start: Instant,
    end: Instant,
    calls: Vec<u64>,
}

/// Calls `call` until `row` has passed, timing each call.
fn timed_loop(row: Duration, mut call: impl FnMut()) -> Timed {
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
fn measure_threads<W: FnMut() + Send>(row: Duration, ops_per_call: u64, workers: Vec<W>) -> Sample {
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

fn summarize(timed: &[Timed], ops_per_call: u64) -> Sample {
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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Starts a manager and the clients under `placement`, runs the rounds and
/// shuts everything down.
fn run_placement(
    placement: Placement,
    settings: &Settings,
    watchdog: &Watchdog,
) -> anyhow::Result<Results> {
    watchdog.stage("connect", Duration::from_secs(30));
    // The manager's thread and the clients' threads inherit this.
    let client_cpus = placement.client_cpus(&settings.cpus);
    let server_cpus = placement.server_cpus(&settings.cpus);
    set_affinity(0, &client_cpus).context("pin the main thread")?;
    let manager = Manager::builder()
        .register::<BenchCounter>()
        .threads(settings.manager_threads)
        .start()
        .context("start the manager")?;
    if let Address::Unix(path) = manager.address() {
        watchdog.remove_on_abort(path.clone());
    }
    // The system's thread `manager` and its arbiters `manager-1`, ...
    let actor_threads = threads_named(|comm| {
        comm == "manager"
            || comm
                .strip_prefix("manager-")
                .is_some_and(|n| n.parse::<usize>().is_ok())
    })?;
    // With more than one, the registry has a thread of its own besides.
    let expected = match settings.manager_threads {
        1 => 1,
        n => n + 1,
    };
    ensure!(
        actor_threads.len() == expected,
        "expected {expected} manager threads, found {actor_threads:?}"
    );
    for tid in actor_threads {
        set_affinity(tid, &server_cpus).context("pin the manager's threads")?;
    }

    let blocking_ns: Vec<blocking::Namespace> = (0..CLIENTS[CLIENTS.len() - 1])
        .map(|_| manager.connect()?.namespace("bench"))
        .collect::<Result<_, _>>()
        .context("connect the blocking clients")?;
    blocking_ns[0].set(ATTRIBUTE, &VALUE)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("build the tokio runtime")?;
    let async_ns = rt.block_on(async {
        let client = manager.connect_async().await?;
        client.namespace("bench").await
    })?;
    let objects = Objects::connect(&manager).context("connect the objects' client")?;
    // The shared counter's clients: a connection each, as 4 processes.
    let counters: Vec<blocking::Value<i64>> = (0..COUNTER_CLIENTS)
        .map(|_| manager.connect()?.value(COUNTER, &0))
        .collect::<Result<_, _>>()
        .context("connect the shared counter's clients")?;
    let frames = Frames::new(async_ns.id(), &objects);
    let ours = Ours {
        blocking: &blocking_ns,
        rt: &rt,
        ns: &async_ns,
        objects: &objects,
        counters: &counters,
    };

    println!(
        "\n== placement {}: client threads on cpus {client_cpus:?}, \
         manager and echo threads on cpus {server_cpus:?} ==",
        placement.name(),
    );
    println!(
        "frames, 4-byte header included: set request {} B, reply {} B; \
         get request {} B, reply {} B",
        frames.set.request_bytes.len(),
        frames.set.reply_bytes.len(),
        frames.get.request_bytes.len(),
        frames.get.reply_bytes.len(),
    );
    for obj in Obj::ALL {
        println!("  {}: {}", obj.name(), frames.sizes(obj));
    }
    println!(
        "  shared counter add: {} → {} B",
        frames.counter_add.request_bytes.len(),
        frames.counter_add.reply_bytes.len(),
    );

    let mut results = Results::default();
    // One shorter, unrecorded round first: page faults, socket buffers,
    // the actor's first batches.
    for round in 0..=settings.rounds {
        watchdog.stage("round", Duration::from_secs(60) + settings.row * 50);
        let mut warmup = Results::default();
        let (row, out) = if round == 0 {
            (settings.row / 4, &mut warmup)
        } else {
            (settings.row, &mut results)
        };
        run_round(row, &server_cpus, &frames, &ours, out)?;
    }

    watchdog.stage("disconnect", Duration::from_secs(30));
    drop(async_ns);
    drop(rt);
    drop(blocking_ns);
    drop(counters);
    drop(objects);
    manager.shutdown();
    Ok(results)
}

/// Our clients, connected once per placement.
struct Ours<'a> {
    blocking: &'a [blocking::Namespace],
    rt: &'a tokio::runtime::Runtime,
    ns: &'a proxy::Namespace,
    objects: &'a Objects,
    /// The shared counter, once per client.
    counters: &'a [blocking::Value<i64>],
}

/// The other objects' proxies, on one blocking client of their own.
struct Objects {
    dict: blocking::Dict<String, i64>,
    list: blocking::List<i64>,
    queue: blocking::Queue<i64>,
    lock: blocking::Lock,
    value: blocking::Value<i64>,
    custom: blocking::Custom<BenchCounter>,
    /// The shared counter, to reset and read it (untimed).
    counter: blocking::Value<i64>,
}

impl Objects {
    fn connect(manager: &Manager) -> anyhow::Result<Self> {
        let client = manager.connect()?;
        let objects = Objects {
            dict: client.dict("bench-dict")?,
            list: client.list("bench-list")?,
            queue: client.queue("bench-queue", None)?,
            lock: client.lock("bench-lock")?,
            value: client.value("bench-value", &SHARED_VALUE)?,
            custom: client.custom::<BenchCounter>("bench-custom", &())?,
            counter: client.value(COUNTER, &0)?,
        };
        objects.custom.call(SHARED_VALUE)?;
        objects.dict.insert(&DICT_KEY.to_owned(), &VALUE)?;
        Ok(objects)
    }
}

/// One round: every row once, each floor right before the rows compared
/// with it, so that a slow phase of the machine hits both.
fn run_round(
    row: Duration,
    server_cpus: &[usize],
    frames: &Frames,
    ours: &Ours<'_>,
    out: &mut Results,
) -> anyhow::Result<()> {
    for op in [Op::Set, Op::Get] {
        let f = frames.of(op);
        for n in CLIENTS {
            let floor = Floor {
                pairs: n,
                depth: 1,
                codec: false,
                write_each: false,
                server_cpus,
            };
            out.push(Row::Floor(op, n), floor.run(row, &[f])?);
            out.push(
                Row::Blocking(op, n),
                blocking_row(row, op, &ours.blocking[..n]),
            );
            if n == 1 {
                let floor = Floor {
                    codec: true,
                    ..floor
                };
                out.push(Row::FloorCodec(op), floor.run(row, &[f])?);
                out.push(
                    Row::Async(op),
                    ours.rt.block_on(async_single(row, op, ours.ns))?,
                );
            }
        }
    }
    for obj in Obj::ALL {
        let floor = Floor {
            pairs: 1,
            depth: 1,
            codec: false,
            write_each: false,
            server_cpus,
        };
        out.push(Row::ObjFloor(obj), floor.run(row, &frames.steps(obj))?);
        if obj == Obj::ListAppend {
            // Keeps the list from growing over the rounds; not timed.
            ours.objects.list.clear()?;
        }
        out.push(Row::Obj(obj), object_row(row, obj, ours.objects));
    }
    let floor = Floor {
        pairs: COUNTER_CLIENTS,
        depth: 1,
        codec: false,
        write_each: false,
        server_cpus,
    };
    out.push(Row::CounterFloor, floor.run(row, &[&frames.counter_add])?);
    let (sample, total) = counter_row(row, ours)?;
    out.push(Row::Counter, sample);
    out.1.push(total);
    let pipelined = Floor {
        pairs: 1,
        depth: DEPTH,
        codec: false,
        write_each: false,
        server_cpus,
    };
    out.push(Row::FloorPipelined, pipelined.run(row, &[&frames.get])?);
    let with_codec = Floor {
        codec: true,
        ..pipelined
    };
    out.push(
        Row::FloorCodecPipelined,
        with_codec.run(row, &[&frames.get])?,
    );
    let write_each = Floor {
        write_each: true,
        ..with_codec
    };
    out.push(
        Row::FloorCodecWriteEach,
        write_each.run(row, &[&frames.get])?,
    );
    out.push(
        Row::AsyncWaves,
        ours.rt.block_on(async_waves(row, ours.ns))?,
    );
    out.push(
        Row::AsyncWindow,
        ours.rt.block_on(async_window(row, ours.ns))?,
    );
    Ok(())
}

// ------------------------------------------------------------------- floor

/// Bytes read from a raw socket, cut into length-prefixed frames.
struct FrameReader {
    buf: Vec<u8>,
    len: usize,
}

impl FrameReader {
    fn new() -> Self {
        FrameReader {
            buf: vec![0; 64 * 1024],
            len: 0,
        }
    }

    /// Reads once and hands every whole frame's payload to `each`; returns
    /// how many there were, or `None` at a clean end of stream.
    fn read_frames(
        &mut self,
        stream: &mut UnixStream,
        mut each: impl FnMut(&[u8]),
    ) -> io::Result<Option<usize>> {
        let n = stream.read(&mut self.buf[self.len..])?;
        if n == 0 {
            return if self.len == 0 {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        self.len += n;
        let mut at = 0;
        let mut frames = 0;
        while self.len - at >= 4 {
            let body = u32::from_le_bytes(self.buf[at..at + 4].try_into().expect("4 bytes"));
            let end = at + 4 + body as usize;
            if end > self.len {
                break;
            }
            each(&self.buf[at + 4..end]);
            at = end;
            frames += 1;
        }
        self.buf.copy_within(at..self.len, 0);
        self.len -= at;
        Ok(Some(frames))
    }
}

/// A ping-pong between raw sockets.
#[derive(Clone, Copy)]
struct Floor<'a> {
    /// Client threads, each with its own echo thread.
    pairs: usize,
    /// Request frames written with one write before reading the replies.
    depth: usize,
    /// Whether both sides encode and decode every frame with our codec, as
    /// our client and server must.
    codec: bool,
    /// Whether the client writes each request frame with a write of its
    /// own, as our client did before it coalesced writes, instead of all `depth` in one.
    write_each: bool,
    /// Where the echo threads run.
    server_cpus: &'a [usize],
}

impl Floor<'_> {
    /// Runs the ping-pong; a call makes the round trips of `steps` in
    /// order, `depth` requests each.
    fn run(self, row: Duration, steps: &[&OpFrames]) -> anyhow::Result<Sample> {
        assert!(
            self.depth == 1 || steps.len() == 1,
            "pipelined floors have one step"
        );
        let mut clients = Vec::with_capacity(self.pairs);
        let mut servers = Vec::with_capacity(self.pairs);
        for _ in 0..self.pairs {
            let (client, server) = UnixStream::pair()?;
            for s in [&client, &server] {
                s.set_read_timeout(Some(IO_TIMEOUT))?;
                s.set_write_timeout(Some(IO_TIMEOUT))?;
            }
            clients.push(client);
            servers.push(server);
        }
        thread::scope(|s| {
            let echoes: Vec<_> = servers
                .into_iter()
                .map(|server| s.spawn(move || self.echo(server, steps)))
                .collect();
            let workers: Vec<_> = clients
                .into_iter()
                .map(|client| self.client(client, steps))
                .collect();
            // The workers own the client ends: once they are done, the echo
            // threads see the end of their streams and return.
            let sample = measure_threads(row, self.depth as u64, workers);
            for echo in echoes {
                echo.join().expect("an echo thread panicked")?;
            }
            Ok(sample)
        })
    }

    /// The echo side: one reply frame for every whole request frame, all the
    /// replies of one read in one write, as our server does. The `k`-th
    /// request (from 0) gets the reply of step `k / depth`, modulo the steps.
    fn echo(self, mut stream: UnixStream, steps: &[&OpFrames]) -> anyhow::Result<()> {
        set_affinity(0, self.server_cpus)?;
        let mut reader = FrameReader::new();
        let longest = steps.iter().map(|f| f.reply_bytes.len()).max();
        let mut out = Vec::with_capacity(longest.unwrap_or(0) * DEPTH);
        let mut seen = 0;
        loop {
            out.clear();
            let read = reader.read_frames(&mut stream, |payload| {
                let step = steps[(seen / self.depth) % steps.len()];
                seen += 1;
                if self.codec {
                    let request: RequestFrame = codec::decode(payload).expect("a request frame");
                    let reply = ReplyFrame {
                        id: request.id,
                        result: Ok(step.reply.clone()),
                    };
                    encode_frame(&reply, &mut out, DEFAULT_MAX_FRAME).expect("a reply encodes");
                } else {
                    out.extend_from_slice(&step.reply_bytes);
                }
            })?;
            match read {
                None => return Ok(()),
                Some(0) => {}
                Some(_) => stream.write_all(&out)?,
            }
        }
    }

    /// One call of the client side: for each step, `depth` requests in one
    /// write (or one write each), then read until as many replies are in.
    fn client<'a>(
        self,
        mut stream: UnixStream,
        steps: &'a [&'a OpFrames],
    ) -> impl FnMut() + Send + 'a {
        let raws: Vec<Vec<u8>> = steps
            .iter()
            .map(|f| f.request_bytes.repeat(self.depth))
            .collect();
        let longest = raws.iter().map(Vec::len).max();
        let mut out = Vec::with_capacity(longest.unwrap_or(0));
        let mut reader = FrameReader::new();
        let mut next_id = 0;
        move || {
            for (frames, raw) in steps.iter().zip(&raws) {
                if self.codec {
                    out.clear();
                    for _ in 0..self.depth {
                        next_id += 1;
                        let request = RequestFrame {
                            id: RequestId(next_id),
                            request: frames.request.clone(),
                        };
                        let start = out.len();
                        encode_frame(&request, &mut out, DEFAULT_MAX_FRAME)
                            .expect("a request encodes");
                        if self.write_each {
                            stream.write_all(&out[start..]).expect("floor write");
                        }
                    }
                    if !self.write_each {
                        stream.write_all(&out).expect("floor write");
                    }
                } else {
                    stream.write_all(raw).expect("floor write");
                }
                let mut got = 0;
                while got < self.depth {
                    let read = reader.read_frames(&mut stream, |payload| {
                        if self.codec {
                            let reply: ReplyFrame = codec::decode(payload).expect("a reply frame");
                            assert!(reply.result.is_ok());
                        }
                    });
                    match read.expect("floor read") {
                        Some(n) => got += n,
                        None => panic!("the echo thread closed its socket"),
                    }
                }
            }
        }
    }
}

// --------------------------------------------------------------------- ours

/// The custom type of the `custom type call` row: a counter whose request
/// is the amount to add and whose reply is the new total.
#[derive(Debug, Default)]
struct BenchCounter(i64);

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
fn object_row(row: Duration, obj: Obj, objects: &Objects) -> Sample {
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
fn counter_row(row: Duration, ours: &Ours<'_>) -> anyhow::Result<(Sample, i64)> {
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

fn blocking_row(row: Duration, op: Op, namespaces: &[blocking::Namespace]) -> Sample {
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

async fn async_single(row: Duration, op: Op, ns: &proxy::Namespace) -> anyhow::Result<Sample> {
    let call = || async move {
        match op {
            Op::Set => ns.set(ATTRIBUTE, &VALUE).await,
            Op::Get => ns.get::<i64>(ATTRIBUTE).await.map(|v| assert_eq!(v, VALUE)),
        }
    };
    for _ in 0..WARMUP_CALLS {
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
            return Ok(summarize(&[timed], 1));
        }
    }
}

/// Waves of 64 gets joined: 64 in flight at the start of a wave, fewer as
/// it drains. A wave is one call.
async fn async_waves(row: Duration, ns: &proxy::Namespace) -> anyhow::Result<Sample> {
    let wave = || async {
        for r in join_all((0..DEPTH).map(|_| ns.get::<i64>(ATTRIBUTE))).await {
            ensure!(r? == VALUE, "wrong value");
        }
        Ok(())
    };
    for _ in 0..WARMUP_CALLS / 10 {
        wave().await?;
    }
    let start = Instant::now();
    let deadline = start + row;
    let mut calls = Vec::with_capacity(1024);
    loop {
        let t0 = Instant::now();
        wave().await?;
        let t1 = Instant::now();
        calls.push((t1 - t0).as_nanos() as u64);
        if t1 >= deadline {
            let timed = Timed {
                start,
                end: t1,
                calls,
            };
            return Ok(summarize(&[timed], DEPTH as u64));
        }
    }
}

/// 64 gets kept in flight: a new one starts as each completes. A call is
/// one get, its time in the queue included.
async fn async_window(row: Duration, ns: &proxy::Namespace) -> anyhow::Result<Sample> {
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

// ------------------------------------------------------------------- report

/// Medians across rounds.
struct Summary {
    ops_per_s: f64,
    median_us: f64,
}

fn summary(samples: &[Sample]) -> Summary {
    Summary {
        ops_per_s: median(samples.iter().map(Sample::ops_per_s).collect()),
        median_us: median(samples.iter().map(|s| s.median_us).collect()),
    }
}

/// The smallest and largest of `floor ops/s / ours ops/s` over the rounds,
/// each round's row against the same round's floor.
fn ratio_range(ours: &[Sample], floor: &[Sample]) -> (f64, f64) {
    ours.iter()
        .zip(floor)
        .map(|(o, f)| f.ops_per_s() / o.ops_per_s())
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), r| {
            (lo.min(r), hi.max(r))
        })
}

/// The rows drawn together, by file name and title.
const PICTURES: [(&str, &str, &[Row]); 2] = [
    (
        "one-client",
        "one blocking client: calls against their raw floor",
        &[
            Row::Floor(Op::Get, 1),
            Row::FloorCodec(Op::Get),
            Row::Blocking(Op::Get, 1),
            Row::Async(Op::Get),
            Row::Obj(Obj::DictGet),
            Row::Obj(Obj::QueuePair),
        ],
    ),
    (
        "four-clients",
        "four blocking clients at once: one namespace, and one shared counter",
        &[
            Row::Floor(Op::Get, 4),
            Row::Blocking(Op::Get, 4),
            Row::CounterFloor,
            Row::Counter,
        ],
    ),
];

/// Writes one SVG per group of [`PICTURES`] to `target/bench-plots/`:
/// each row's latencies over every round.
fn draw_histograms(placement: Placement, results: &Results) -> anyhow::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-plots");
    for (file, title, rows) in PICTURES {
        let series: Vec<(String, Histogram)> = rows
            .iter()
            .filter_map(|row| {
                let samples = results.0.get(row)?;
                let mut merged = Histogram::default();
                for sample in samples {
                    merged.merge(&sample.histogram);
                }
                let label = match row.clients() {
                    1 => row.label(),
                    n => format!("{} ({n})", row.label()),
                };
                Some((label, merged))
            })
            .collect();
        let path = dir.join(format!("roundtrip-{}-{file}.svg", placement.name()));
        let title = format!("{title} ({})", placement.name());
        histogram::draw(&path, &title, &series)?;
        println!("latency histogram: {}", path.display());
    }
    Ok(())
}

fn print_table(placement: Placement, results: &Results) {
    println!("\nplacement {}: medians over the rounds", placement.name());
    println!(
        "{:<47} {:>2} {:>10} {:>8} | {:>10} {:>8} | {:>6} {:>6} {:>12}",
        "row", "n", "ops/s", "p50 us", "floor op/s", "floor us", "x lat", "x ops", "x ops range"
    );
    for row in Row::all() {
        let Some(samples) = results.0.get(&row) else {
            continue;
        };
        let ours = summary(samples);
        let head = format!(
            "{:<47} {:>2} {:>10.0} {:>8.1} |",
            row.label(),
            row.clients(),
            ours.ops_per_s,
            ours.median_us
        );
        let Some(floor_samples) = row.floor().and_then(|f| results.0.get(&f)) else {
            println!("{head}");
            continue;
        };
        let floor = summary(floor_samples);
        let (lo, hi) = ratio_range(samples, floor_samples);
        // A kept-in-flight get waits behind up to 63 others: its time has no
        // counterpart in the floor.
        let lat = if row == Row::AsyncWindow {
            "-".to_owned()
        } else {
            format!("{:.2}", ours.median_us / floor.median_us)
        };
        println!(
            "{head} {:>10.0} {:>8.1} | {:>6} {:>6.2} {:>5.2}-{:<5.2}",
            floor.ops_per_s,
            floor.median_us,
            lat,
            floor.ops_per_s / ours.ops_per_s,
            lo,
            hi,
        );
    }
    if let Some(last) = results.1.last() {
        println!(
            "shared counter: final total equals the adds made in each of {} round(s) \
             (no update lost); last round: {last} = {last} adds",
            results.1.len()
        );
    }
    println!(
        "x lat = p50 / floor p50; x ops = floor ops/s / ops/s; 1.00 is the floor, the \
         aim is 1.20 or less.\nx ops range: that ratio in the best and worst round. \
         p50 of the pipelined floor and join_all rows is one wave of {DEPTH}.\n\
         A pair row's op is the pair: two round trips, against a floor of the same two."
    );
}

// ------------------------------------------------------------------- python

/// Numbers read from the Python script's JSON.
struct Python(HashMap<String, f64>);

/// Prints the few numbers the table needs from the script's JSON, one
/// `key<TAB>value` a line, so that the bench needs no JSON crate. The keys
/// are `<latency row>.median_us`, `<latency row>.ops_per_s` (the rows as the
/// script names them, for example `dict __setitem__`), `dict_set.<workers>`,
/// and the locked counter's `counter.increments_per_s` and `counter.correct`
/// (1 if its final total was right).
const PYTHON_EXTRACT: &str = r#"
import json, sys
doc = json.load(open(sys.argv[1]))
res = doc.get("median_of_runs") or doc["runs"][0]
for op, row in res["latency"].items():
    print("%s.median_us\t%s" % (op, row["median_us"]))
    print("%s.ops_per_s\t%s" % (op, row["ops_per_s"]))
for workers, row in res["throughput_dict_set"].items():
    print("dict_set.%s\t%s" % (workers, row["ops_per_s"]))
counter = res.get("counter_locked")
if counter:
    print("counter.increments_per_s\t%s" % counter["increments_per_s"])
    correct = counter.get("correct", counter.get("all_correct"))
    print("counter.correct\t%d" % int(bool(correct)))
"#;

fn python_reference(placement: Placement) -> anyhow::Result<Option<Python>> {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/bench/py_manager_bench.py");
    if !script.exists() {
        println!("\npython reference skipped: no {}", script.display());
        return Ok(None);
    }
    let has_python = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !has_python {
        println!("\npython reference skipped: no python3");
        return Ok(None);
    }
    println!(
        "\nrunning {} --pin {} ...",
        script.display(),
        placement.name()
    );
    let dir = tempfile::tempdir().context("temp dir for the python results")?;
    let json = dir.path().join("python.json");
    let log = dir.path().join("python.log");
    let log_file = File::create(&log)?;
    let mut child = Command::new("python3")
        .arg(&script)
        .arg("--pin")
        .arg(placement.name())
        .arg("--out")
        .arg(&json)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone()?)
        .stderr(log_file)
        // Its own process group, so that a timeout also kills the manager
        // process and the workers it forks.
        .process_group(0)
        .spawn()
        .context("start python3")?;
    let deadline = Instant::now() + PYTHON_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() >= deadline {
            kill_group(child.id());
            let _ = child.wait();
            bail!("python reference took over {PYTHON_LIMIT:?}; killed");
        }
        thread::sleep(Duration::from_millis(100));
    };
    if !status.success() {
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        bail!("python reference failed ({status}):\n{output}");
    }
    let extract = Command::new("python3")
        .arg("-c")
        .arg(PYTHON_EXTRACT)
        .arg(&json)
        .stdin(Stdio::null())
        .output()
        .context("run python3 to read the results")?;
    ensure!(
        extract.status.success(),
        "reading {}: {}",
        json.display(),
        String::from_utf8_lossy(&extract.stderr)
    );
    let mut values = HashMap::new();
    for line in String::from_utf8_lossy(&extract.stdout).lines() {
        if let Some((key, value)) = line.split_once('\t') {
            let value = value.trim().parse().with_context(|| line.to_owned())?;
            values.insert(key.to_owned(), value);
        }
    }
    Ok(Some(Python(values)))
}

/// Kills the process group `pgid`: the Python script and all it forked.
fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

fn print_python(placement: Placement, results: &Results, python: &Python) {
    println!(
        "\n{:<46} {:>10} {:>10} {:>8}",
        format!("placement {}: ours vs Python", placement.name()),
        "ours",
        "python",
        "py/ours"
    );
    let line = |what: String, ours: f64, py: Option<&f64>, lower_is_better: bool| {
        if let Some(&py) = py {
            let ratio = if lower_is_better {
                py / ours
            } else {
                ours / py
            };
            println!("{what:<46} {ours:>10.1} {py:>10.1} {ratio:>7.1}x");
        }
    };
    for op in [Op::Set, Op::Get] {
        let Some(samples) = results.0.get(&Row::Blocking(op, 1)) else {
            continue;
        };
        let ours = summary(samples);
        let (name, py) = (op.name(), op.python_label());
        line(
            format!("ns.{name} p50 us, blocking, 1 client"),
            ours.median_us,
            python.0.get(&format!("{py}.median_us")),
            true,
        );
        line(
            format!("ns.{name} ops/s, blocking, 1 client"),
            ours.ops_per_s,
            python.0.get(&format!("{py}.ops_per_s")),
            false,
        );
    }
    for obj in Obj::ALL {
        let Some(samples) = results.0.get(&Row::Obj(obj)) else {
            continue;
        };
        let ours = summary(samples);
        let (name, py) = (obj.name(), obj.python_label());
        line(
            format!("{name} p50 us, blocking"),
            ours.median_us,
            python.0.get(&format!("{py}.median_us")),
            true,
        );
        line(
            format!("{name} ops/s, blocking"),
            ours.ops_per_s,
            python.0.get(&format!("{py}.ops_per_s")),
            false,
        );
    }
    for n in CLIENTS {
        let Some(samples) = results.0.get(&Row::Blocking(Op::Set, n)) else {
            continue;
        };
        line(
            format!("ns.set ops/s, {n} clients (py: dict set, {n} procs)"),
            summary(samples).ops_per_s,
            python.0.get(&format!("dict_set.{n}")),
            false,
        );
    }
    if let Some(samples) = results.0.get(&Row::Counter) {
        line(
            format!("counter ops/s, {COUNTER_CLIENTS} clients (py: Lock, {COUNTER_CLIENTS} procs)"),
            summary(samples).ops_per_s,
            python.0.get("counter.increments_per_s"),
            false,
        );
        if python.0.get("counter.correct") == Some(&0.0) {
            println!("python's locked counter lost updates");
        }
    }
    println!(
        "py/ours: how many times faster ours is (below 1: slower). A counter op is one \
         value.add for ours; one locked increment for Python (acquire, get, set, release: \
         4 round trips)."
    );
}

// ----------------------------------------------------------------- watchdog

/// Ends the process if a stage overruns its limit, so that the bench never
/// hangs. It removes the manager's socket first, as `exit` runs no
/// destructors.
struct Watchdog {
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
    fn start() -> Self {
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
    fn stage(&self, stage: &'static str, limit: Duration) {
        self.update(|s| {
            s.stage = stage;
            s.deadline = Instant::now() + limit;
        });
    }

    fn remove_on_abort(&self, socket: PathBuf) {
        self.update(|s| s.socket = Some(socket));
    }

    fn finish(mut self) {
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
