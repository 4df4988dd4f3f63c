//! Every input the fuzzers kept passes its target's check again: the
//! corpus in `fuzz/corpus/<target>/` and the crash reproducers in
//! `fuzz/regressions/<target>/`, replayed by a plain `cargo test`, so a
//! change that breaks a decoder on one of them fails without a fuzzer.
//! The checks are the fuzz targets' own ([`tests::fuzz_checks`]).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use tests::fuzz_checks::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// The files of `dir`, none if it does not exist.
fn files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        files.push(entry?.path());
    }
    files.sort();
    Ok(files)
}

#[test]
fn fuzz_corpus_replays_cleanly() -> anyhow::Result<()> {
    let fuzz = fuzz_dir();
    let mut inputs = Vec::new();
    for (target, check) in TARGETS {
        let corpus = files(&fuzz.join("corpus").join(target))?;
        // An empty replay proves nothing.
        anyhow::ensure!(!corpus.is_empty(), "no corpus for the fuzz target {target}");
        let regressions = files(&fuzz.join("regressions").join(target))?;
        for path in corpus.into_iter().chain(regressions) {
            inputs.push((std::fs::read(&path)?, path, *check));
        }
    }
    // Quietly, or a broken check prints a backtrace per input.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let failed: Vec<_> = inputs
        .iter()
        .filter(|(bytes, _, check)| catch_unwind(AssertUnwindSafe(|| check(bytes))).is_err())
        .collect();
    std::panic::set_hook(report);
    if let Some((bytes, path, check)) = failed.first() {
        let paths: Vec<_> = failed.iter().take(10).map(|(_, path, _)| path).collect();
        eprintln!(
            "{} of {} inputs failed their target's check, among them {paths:#?}",
            failed.len(),
            inputs.len()
        );
        eprintln!("the first of them again, {}:", path.display());
        check(bytes);
        panic!("{} failed only the first time", path.display());
    }
    Ok(())
}

#[test]
fn every_fuzz_target_is_replayed() -> anyhow::Result<()> {
    let mut targets = Vec::new();
    for path in files(&fuzz_dir().join("fuzz_targets"))? {
        if let Some(name) = path.file_stem().and_then(|n| n.to_str()) {
            targets.push(name.to_owned());
        }
    }
    let mut checked: Vec<_> = TARGETS.iter().map(|(name, _)| name.to_string()).collect();
    checked.sort();
    anyhow::ensure!(
        targets == checked,
        "fuzz targets {targets:?}, checks {checked:?}: each target needs a check"
    );
    Ok(())
}
