//! The Python reference: its script run with the same placement, and
//! its numbers beside ours.

use std::collections::HashMap;
use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};

use crate::measure::Results;
use crate::placement::Placement;
use crate::report::summary;
use crate::rows::{Obj, Op, Row};
use crate::{CLIENTS, COUNTER_CLIENTS, PYTHON_LIMIT};

/// Numbers read from the Python script's JSON.
pub(crate) struct Python(pub(crate) HashMap<String, f64>);

/// Prints the few numbers the table needs from the script's JSON, one
/// `key<TAB>value` a line, so that the bench needs no JSON crate. The keys
/// are `<latency row>.median_us`, `<latency row>.ops_per_s` (the rows as the
/// script names them, for example `dict __setitem__`), `dict_set.<workers>`,
/// and the locked counter's `counter.increments_per_s` and `counter.correct`
/// (1 if its final total was right).
pub(crate) const PYTHON_EXTRACT: &str = r#"
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

pub(crate) fn python_reference(placement: Placement) -> anyhow::Result<Option<Python>> {
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
pub(crate) fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

pub(crate) fn print_python(placement: Placement, results: &Results, python: &Python) {
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
