//! Latency histograms for the benches: counted cheaply while a row runs
//! (one add per call, in buckets ten to a decade) and drawn as SVG line
//! charts with plotters, one chart per group of rows, so the shape of a
//! distribution (its tail, a second mode from cross-CPU wakeups) shows
//! beside the tables' medians.

use std::path::Path;

use anyhow::Context;
use plotters::prelude::*;

/// Buckets per decade of latency.
const PER_DECADE: f64 = 10.0;
/// The lowest bucket starts here, in nanoseconds.
const FLOOR_NS: f64 = 100.0;
/// 100 ns to 1 s.
const BUCKETS: usize = 70;

/// How many calls took how long, in log-spaced buckets.
#[derive(Clone, Debug)]
pub(crate) struct Histogram {
    counts: [u64; BUCKETS],
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: [0; BUCKETS],
            total: 0,
        }
    }
}

impl Histogram {
    /// Counts one call of `nanos`.
    pub(crate) fn add(&mut self, nanos: u64) {
        let position = ((nanos.max(1) as f64) / FLOOR_NS).log10() * PER_DECADE;
        let bucket = (position.max(0.0) as usize).min(BUCKETS - 1);
        self.counts[bucket] += 1;
        self.total += 1;
    }

    /// Adds every call of `other`.
    pub(crate) fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
    }

    /// Each non-empty bucket's middle in microseconds, and its share of
    /// the calls in percent.
    fn points(&self) -> Vec<(f64, f64)> {
        if self.total == 0 {
            return Vec::new();
        }
        self.counts
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let middle_ns = FLOOR_NS * 10_f64.powf((i as f64 + 0.5) / PER_DECADE);
                (middle_ns / 1000.0, 100.0 * n as f64 / self.total as f64)
            })
            .collect()
    }
}

/// Draws `series` (a label and its histogram each) as one SVG chart at
/// `path`: latency in microseconds on a log axis, share of calls in
/// percent per bucket.
pub(crate) fn draw(path: &Path, title: &str, series: &[(String, Histogram)]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let points: Vec<Vec<(f64, f64)>> = series.iter().map(|(_, h)| h.points()).collect();
    let nonzero = || points.iter().flatten().filter(|p| p.1 > 0.0);
    let lo = nonzero().map(|p| p.0).fold(f64::INFINITY, f64::min);
    let hi = nonzero().map(|p| p.0).fold(0.0, f64::max);
    let top = nonzero().map(|p| p.1).fold(0.0, f64::max);
    if !lo.is_finite() || hi <= 0.0 {
        return Ok(());
    }
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d((lo / 1.5..hi * 1.5).log_scale(), 0.0..top * 1.1)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("latency of one call, µs (log scale)")
        .y_desc("% of calls")
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for (i, ((label, _), points)) in series.iter().zip(&points).enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(|e| anyhow::anyhow!("{e}"))?
            .label(label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
