//! How long an object takes to handle its requests: a histogram each
//! object actor keeps of the time from the bridge reading a request to the
//! object having answered or parked it, reported to inspection as
//! percentiles ([`manager_core::inspect::Latency`]).
//!
//! # Cost
//!
//! One clock read per batch in the bridge, one per batch in the actor, and
//! one bucket increment per batch (its requests counted together): a few
//! tens of nanoseconds against a round trip of microseconds. The buckets
//! are allocated on the first request (an object never used costs a
//! pointer) and take 424 bytes.
//!
//! # Buckets
//!
//! Four per doubling from 1 µs to about 69 s, one below and one above:
//! a percentile is reported as the upper end of its bucket, at most 25%
//! above the true value and never below it. The longest is kept exactly.

use std::time::Duration;

use manager_core::inspect::Latency;

/// Nanoseconds below which everything shares the first bucket (1.02 µs).
const FIRST_OCTAVE: u32 = 10;
/// The first doubling not given buckets of its own (2^36 ns, 68.7 s).
const END_OCTAVE: u32 = 36;
/// Buckets per doubling.
const PER_OCTAVE: usize = 4;
/// All buckets: one below, four per doubling, one above.
const BUCKETS: usize = 2 + (END_OCTAVE - FIRST_OCTAVE) as usize * PER_OCTAVE;

/// An object's latency histogram.
#[derive(Debug, Default)]
pub(crate) struct LatencyHistogram {
    buckets: Option<Box<[u32; BUCKETS]>>,
    count: u64,
    max_nanos: u64,
}

/// The bucket of a duration of `nanos`.
fn bucket(nanos: u64) -> usize {
    if nanos < 1 << FIRST_OCTAVE {
        return 0;
    }
    let octave = 63 - nanos.leading_zeros();
    if octave >= END_OCTAVE {
        return BUCKETS - 1;
    }
    // The two bits after the leading one pick the quarter of the doubling.
    let quarter = ((nanos >> (octave - 2)) & 3) as usize;
    1 + (octave - FIRST_OCTAVE) as usize * PER_OCTAVE + quarter
}

/// The upper end of bucket `index`, in nanoseconds (the last: `max`).
fn upper_end(index: usize, max: u64) -> u64 {
    if index == 0 {
        return 1 << FIRST_OCTAVE;
    }
    if index == BUCKETS - 1 {
        return max;
    }
    let octave = FIRST_OCTAVE + ((index - 1) / PER_OCTAVE) as u32;
    let quarter = ((index - 1) % PER_OCTAVE) as u64;
    (4 + quarter + 1) << (octave - 2)
}

impl LatencyHistogram {
    /// Counts `n` requests that each took `took`.
    pub(crate) fn record(&mut self, took: Duration, n: u64) {
        if n == 0 {
            return;
        }
        let nanos = u64::try_from(took.as_nanos()).unwrap_or(u64::MAX);
        let buckets = self.buckets.get_or_insert_with(|| Box::new([0; BUCKETS]));
        let slot = &mut buckets[bucket(nanos)];
        let add = u32::try_from(n).unwrap_or(u32::MAX);
        match slot.checked_add(add) {
            Some(sum) => *slot = sum,
            None => {
                // Billions in one bucket: halve them all, which keeps the
                // shape (older requests then weigh less).
                for count in buckets.iter_mut() {
                    *count /= 2;
                }
                let slot = &mut buckets[bucket(nanos)];
                *slot = slot.saturating_add(add / 2 + 1);
            }
        }
        self.count = self.count.saturating_add(n);
        self.max_nanos = self.max_nanos.max(nanos);
    }

    /// The percentiles so far.
    pub(crate) fn summary(&self) -> Latency {
        let Some(buckets) = &self.buckets else {
            return Latency::default();
        };
        let total: u64 = buckets.iter().map(|&c| u64::from(c)).sum();
        let at = |share: f64| -> Duration {
            // The smallest bucket end at or below which `share` of all lie.
            let want = ((total as f64) * share).ceil().max(1.0) as u64;
            let mut seen = 0;
            for (index, &count) in buckets.iter().enumerate() {
                seen += u64::from(count);
                if seen >= want {
                    return Duration::from_nanos(
                        upper_end(index, self.max_nanos).min(self.max_nanos),
                    );
                }
            }
            Duration::from_nanos(self.max_nanos)
        };
        Latency {
            count: self.count,
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: Duration::from_nanos(self.max_nanos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_duration_lies_in_a_bucket_whose_end_is_within_a_quarter_above_it() {
        let mut nanos = 1_u64;
        while nanos < 1 << 40 {
            for v in [nanos, nanos + nanos / 3, nanos * 2 - 1] {
                let index = bucket(v);
                assert!(index < BUCKETS);
                let end = upper_end(index, u64::MAX);
                if index == BUCKETS - 1 {
                    continue;
                }
                assert!(end >= v, "{v} ns: bucket {index} ends at {end}");
                if index > 0 {
                    assert!(end * 4 <= v * 5 + 4, "{v} ns: bucket {index} ends at {end}");
                    // And the bucket below ends at or below it.
                    assert!(
                        upper_end(index - 1, u64::MAX) <= v,
                        "{v} ns, bucket {index}"
                    );
                }
            }
            nanos *= 2;
        }
    }

    #[test]
    fn percentiles_of_a_known_mix() {
        let mut histogram = LatencyHistogram::default();
        assert_eq!(histogram.summary(), Latency::default());
        // 90 fast requests, 9 slower, 1 slow.
        histogram.record(Duration::from_micros(10), 90);
        histogram.record(Duration::from_micros(200), 9);
        histogram.record(Duration::from_millis(30), 1);
        let latency = histogram.summary();
        assert_eq!(latency.count, 100);
        let near = |got: Duration, want: Duration| got >= want && got <= want * 5 / 4;
        assert!(near(latency.p50, Duration::from_micros(10)), "{latency:?}");
        assert!(near(latency.p90, Duration::from_micros(10)), "{latency:?}");
        assert!(near(latency.p99, Duration::from_micros(200)), "{latency:?}");
        assert_eq!(latency.max, Duration::from_millis(30));
        histogram.record(Duration::from_secs(100), 1);
        assert_eq!(histogram.summary().max, Duration::from_secs(100));
    }

    #[test]
    fn a_full_bucket_halves_them_all_and_keeps_counting() {
        let mut histogram = LatencyHistogram::default();
        histogram.record(Duration::from_micros(5), u64::from(u32::MAX));
        histogram.record(Duration::from_micros(500), 1_000);
        histogram.record(Duration::from_micros(5), 10);
        let latency = histogram.summary();
        assert_eq!(latency.count, u64::from(u32::MAX) + 1_010);
        assert!(latency.p50 <= Duration::from_micros(7), "{latency:?}");
        assert_eq!(latency.max, Duration::from_micros(500));
    }
}
