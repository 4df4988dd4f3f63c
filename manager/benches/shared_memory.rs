//! Shared memory bandwidth: GB/s writing and reading a block from another
//! process, as a ratio to an in-process memcpy of the same size in the
//! same run (the physical limit).
//!
//! Run it with `cargo bench -p manager --bench shared_memory`;
//! docs/benchmarks.md has the figures.
//!
//! The main process creates a block of [`BYTES`] (a `SharedArray<u64>`);
//! one worker process (started by our launcher) maps it and copies a
//! private buffer of the same size into it (**write**), then the block
//! into that buffer (**read**), each [`COPIES`] times after one pass that
//! touches the pages, and reports the fastest pass of each through a
//! second shared array. The main process then times memcpy between two
//! private buffers of the same size the same way.
//!
//! **Python**: the same with `multiprocessing.shared_memory.SharedMemory`
//! and numpy (`np.copyto` between an array on the block and a private
//! one, in a child process), if `python3` can import numpy; skipped
//! otherwise.
//!
//! # Settings
//!
//! - `BENCH_SHM_BYTES` (default 256 MiB): the block's size.
//! - `BENCH_SKIP_PYTHON=1`: skip Python.
//!
//! Without `--bench` (as `cargo test --benches` runs it) it runs once with
//! a 4 MiB block, as a smoke test, without Python.
//!
//! # Bounded
//!
//! Every call has a timeout, the worker is joined with a deadline
//! (dropping it kills it), and Python is killed after two minutes.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use manager::launcher::Entries;
use manager::{Manager, blocking};

/// The block's size when `BENCH_SHM_BYTES` does not say.
const BYTES: usize = 256 << 20;
/// Timed passes of each copy; the fastest is reported.
const COPIES: usize = 5;
/// The deadline of every call.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the worker (or Python) may take.
const RUN_LIMIT: Duration = Duration::from_secs(120);
/// The blocks of a run.
const DATA: &str = "bench-data";
const TIMES: &str = "bench-times";

/// The fastest of `COPIES` timed runs of `copy`, after one untimed run.
fn fastest(mut copy: impl FnMut()) -> Duration {
    copy();
    (0..COPIES)
        .map(|_| {
            let began = Instant::now();
            copy();
            began.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// The worker: writes then reads the block `DATA` of `len` `u64`s, and
/// puts its fastest write and read (in seconds) into `TIMES`.
fn worker(len: usize) -> anyhow::Result<()> {
    let client = blocking::Client::from_env()?.with_timeout(CALL_TIMEOUT);
    let data = client.shared_array::<u64>(DATA, len)?;
    let times = client.shared_array::<f64>(TIMES, 2)?;
    let mut private: Vec<u64> = (0..len as u64).collect();
    let write = fastest(|| data.copy_from(0, std::hint::black_box(&private)));
    let read = fastest(|| data.copy_to(0, std::hint::black_box(&mut private)));
    ensure!(
        private.iter().enumerate().all(|(i, &v)| v == i as u64),
        "the block gave back other bytes"
    );
    times.copy_from(0, &[write.as_secs_f64(), read.as_secs_f64()]);
    Ok(())
}

fn gbps(bytes: usize, took: Duration) -> f64 {
    bytes as f64 / took.as_secs_f64().max(1e-9) / 1e9
}

fn main() -> anyhow::Result<()> {
    Entries::new()
        .entry("shm-bench-worker", worker)
        .run_if_worker();
    let bench = std::env::args().any(|a| a == "--bench");
    let bytes = if bench {
        std::env::var("BENCH_SHM_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(BYTES)
    } else {
        4 << 20
    };
    let len = (bytes / 8).max(1);
    let bytes = len * 8;
    let python =
        bench && !std::env::var("BENCH_SKIP_PYTHON").is_ok_and(|v| !v.is_empty() && v != "0");

    let manager = Manager::start().context("start the manager")?;
    let client = manager.connect()?.with_timeout(CALL_TIMEOUT);
    let _data = client.shared_array::<u64>(DATA, len)?;
    let times = client.shared_array::<f64>(TIMES, 2)?;
    let mut worker = manager.launcher().spawn("shm-bench-worker", &len)?;
    worker.join_timeout(RUN_LIMIT)?;
    let [write, read] =
        [times.get(0), times.get(1)].map(|t| Duration::from_secs_f64(t.unwrap_or_default()));
    ensure!(
        !write.is_zero() && !read.is_zero(),
        "the worker reported no times"
    );

    let src = vec![1_u8; bytes];
    let mut dst = vec![0_u8; bytes];
    let memcpy = fastest(|| dst.copy_from_slice(std::hint::black_box(&src)));
    std::hint::black_box(&dst);
    let memcpy = gbps(bytes, memcpy);
    let (write, read) = (gbps(bytes, write), gbps(bytes, read));

    println!(
        "shared memory: a {} MiB block, one worker process, fastest of {COPIES} copies",
        bytes >> 20
    );
    println!("| copy | GB/s | x memcpy |");
    println!("|---|---:|---:|");
    println!("| memcpy, in process | {memcpy:.2} | 1.00 |");
    println!(
        "| worker writes the block | {write:.2} | {:.2} |",
        write / memcpy
    );
    println!(
        "| worker reads the block | {read:.2} | {:.2} |",
        read / memcpy
    );
    if python {
        match python_rates(bytes) {
            Ok(Some((write, read))) => {
                println!(
                    "| Python SharedMemory + numpy, child writes | {write:.2} | {:.2} |",
                    write / memcpy
                );
                println!(
                    "| Python SharedMemory + numpy, child reads | {read:.2} | {:.2} |",
                    read / memcpy
                );
            }
            Ok(None) => println!("(Python: numpy is not installed; skipped)"),
            Err(e) => println!("(Python failed: {e:#})"),
        }
    }
    manager.shutdown();
    Ok(())
}

/// Python's write and read rates in GB/s, or `None` without numpy.
fn python_rates(bytes: usize) -> anyhow::Result<Option<(f64, f64)>> {
    const SCRIPT: &str = r#"
import sys, time
try:
    import numpy as np
except ImportError:
    print("no-numpy"); sys.exit(0)
from multiprocessing import Process, Queue, shared_memory

def fastest(copy, copies):
    copy()
    best = None
    for _ in range(copies):
        began = time.perf_counter(); copy(); took = time.perf_counter() - began
        best = took if best is None else min(best, took)
    return best

def child(name, n, copies, out):
    block = shared_memory.SharedMemory(name=name)
    shared = np.ndarray((n,), dtype=np.uint64, buffer=block.buf)
    private = np.arange(n, dtype=np.uint64)
    write = fastest(lambda: np.copyto(shared, private), copies)
    read = fastest(lambda: np.copyto(private, shared), copies)
    del shared
    block.close()
    out.put((write, read))

if __name__ == "__main__":
    n, copies = int(sys.argv[1]), int(sys.argv[2])
    block = shared_memory.SharedMemory(create=True, size=n * 8)
    try:
        out = Queue()
        p = Process(target=child, args=(block.name, n, copies, out))
        p.start()
        write, read = out.get(timeout=100)
        p.join()
        print(write, read)
    finally:
        block.close()
        block.unlink()
"#;
    let mut child = match Command::new("python3")
        .args(["-c", SCRIPT, &(bytes / 8).to_string(), &COPIES.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).context("start python3"),
    };
    let began = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if began.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("python3 took over {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out)?;
    }
    ensure!(status.success(), "python3 failed: {status}");
    if out.trim() == "no-numpy" {
        return Ok(None);
    }
    let mut fields = out.split_whitespace().map(str::parse::<f64>);
    let (Some(Ok(write)), Some(Ok(read))) = (fields.next(), fields.next()) else {
        bail!("python3 printed {out:?}");
    };
    Ok(Some((
        gbps(bytes, Duration::from_secs_f64(write)),
        gbps(bytes, Duration::from_secs_f64(read)),
    )))
}
