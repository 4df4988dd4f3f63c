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
    let mut failed = Vec::new();
    for (target, check) in TARGETS {
        let corpus = files(&fuzz.join("corpus").join(target))?;
        // An empty replay proves nothing.
        anyhow::ensure!(!corpus.is_empty(), "no corpus for the fuzz target {target}");
        let regressions = files(&fuzz.join("regressions").join(target))?;
        for path in corpus.iter().chain(&regressions) {
            let bytes = std::fs::read(path)?;
            if catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err() {
                failed.push(path.clone());
            }
        }
    }
    anyhow::ensure!(
        failed.is_empty(),
        "these inputs failed their target's check: {failed:#?}"
    );
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
    assert_eq!(
        targets, checked,
        "fuzz targets without a check, or checks without a target"
    );
    Ok(())
}
