//! The table printed for each placement, and its pictures.

use std::path::Path;

use crate::DEPTH;
use crate::histogram::{self, Histogram};
use crate::measure::{Results, Sample, median};
use crate::placement::Placement;
use crate::rows::{Obj, Op, Row};

/// Medians across rounds.
pub(crate) struct Summary {
    pub(crate) ops_per_s: f64,
    pub(crate) median_us: f64,
}

pub(crate) fn summary(samples: &[Sample]) -> Summary {
    Summary {
        ops_per_s: median(samples.iter().map(Sample::ops_per_s).collect()),
        median_us: median(samples.iter().map(|s| s.median_us).collect()),
    }
}

/// The smallest and largest of `floor ops/s / ours ops/s` over the rounds,
/// each round's row against the same round's floor.
pub(crate) fn ratio_range(ours: &[Sample], floor: &[Sample]) -> (f64, f64) {
    ours.iter()
        .zip(floor)
        .map(|(o, f)| f.ops_per_s() / o.ops_per_s())
        .fold((f64::INFINITY, 0.0_f64), |(lo, hi), r| {
            (lo.min(r), hi.max(r))
        })
}

/// The rows drawn together, by file name and title.
pub(crate) const PICTURES: [(&str, &str, &[Row]); 2] = [
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
pub(crate) fn draw_histograms(placement: Placement, results: &Results) -> anyhow::Result<()> {
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

pub(crate) fn print_table(placement: Placement, results: &Results) {
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
