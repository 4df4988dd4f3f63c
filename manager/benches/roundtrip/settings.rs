//! The bench's settings, read from the environment (see the crate docs).

use std::time::Duration;

use anyhow::{Context, bail};

use crate::placement::{Placement, allowed_cpus};

pub(crate) struct Settings {
    pub(crate) rounds: usize,
    pub(crate) row: Duration,
    pub(crate) python: bool,
    pub(crate) placements: Vec<Placement>,
    /// The CPUs this process may use at start, before any pinning.
    pub(crate) cpus: Vec<usize>,
    /// The manager's threads.
    pub(crate) manager_threads: usize,
}

impl Settings {
    pub(crate) fn from_env() -> anyhow::Result<Self> {
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
