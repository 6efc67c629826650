//! When adaptive calls a latency slow: one rule for a topic's partitions
//! (load.rs, their acknowledgement latencies) and for a producer's brokers
//! (brokers.rs, their round trips).

/// Slow: a latency above this many times the lower quartile of the
/// others'...
pub(crate) const SLOW_FACTOR: u64 = 4;
/// ...and above this (µs): ordinary jitter never leaves a partition out.
pub(crate) const SLOW_FLOOR_US: u32 = 50_000;

/// The latency (µs) above which one is slow, given the latencies known
/// (`sample`, reordered; None when empty): `SLOW_FACTOR` times their lower
/// quartile, and at least `SLOW_FLOOR_US`.
pub(crate) fn limit_us(sample: &mut [u32]) -> Option<u64> {
    if sample.is_empty() {
        return None;
    }
    let q = sample.len() / 4;
    let (_, quartile, _) = sample.select_nth_unstable(q);
    Some((*quartile as u64 * SLOW_FACTOR).max(SLOW_FLOOR_US as u64))
}

/// A latency average (µs, 0: none yet) after one more sample: halfway to
/// it, so a recovered broker is back in a few samples.
pub(crate) fn halve_toward(old: u32, sample: u32) -> u32 {
    if old == 0 {
        sample.max(1)
    } else {
        (old / 2 + sample / 2).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_four_lower_quartiles_and_never_below_the_floor() {
        // Lower quartile of 8 values: the 3rd smallest (index 8 / 4 = 2).
        let mut s = [
            90_000, 20_000, 10_000, 30_000, 400_000, 25_000, 15_000, 50_000,
        ];
        assert_eq!(limit_us(&mut s), Some(4 * 20_000));
        let mut fast = [1_000, 2_000, 3_000];
        assert_eq!(limit_us(&mut fast), Some(50_000), "the floor");
        assert_eq!(limit_us(&mut []), None);
    }

    #[test]
    fn an_average_moves_halfway_to_each_sample() {
        assert_eq!(halve_toward(0, 800), 800);
        assert_eq!(halve_toward(800, 200), 500);
        assert_eq!(halve_toward(0, 0), 1, "never 0 (none) once sampled");
    }
}
