//! The run rule sticky and adaptive share: a thread's keyless messages stay
//! on one partition until `messages` have been placed there, `linger_ms`
//! have passed since the run began, or (adaptive) `bytes` have been placed,
//! or the strategy says the partition must be left; then a new run begins
//! on a partition the strategy chooses.

use crate::clock;

/// adaptive's default run length in bytes: long enough to fill a batch,
/// short enough to spread a burst (BENCHMARKS.md has throughput against
/// run length).
pub const RUN_BYTES: u32 = 262_144;

/// Limits of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunLimits {
    /// End the run after this many messages (>= 1).
    pub messages: u32,
    /// End the run this many ms after it began (0: no time limit).
    pub linger_ms: u32,
    /// adaptive: end the run after this many bytes.
    pub bytes: u32,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            messages: 1000,
            linger_ms: 10,
            bytes: RUN_BYTES,
        }
    }
}

/// One thread's current run on one topic.
#[derive(Default)]
pub struct Run {
    /// The run's partition + 1 (0: none yet).
    tag: u32,
    /// Messages placed in the run.
    count: u32,
    /// Clock (ms) when the run began (0 without a time limit).
    since: u32,
    /// Bytes placed in the run.
    bytes: u64,
}

impl Run {
    /// Messages placed in the current run.
    #[inline]
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Places one message of `bytes` bytes (None: runs have no byte
    /// limit): on the run's partition while the run is within `limits` and
    /// `stay(partition)`; else on `next(previous partition)`, which begins
    /// a new run.
    #[inline(always)]
    pub fn place(
        &mut self,
        n: u32,
        limits: &RunLimits,
        bytes: Option<u32>,
        stay: impl FnOnce(u32) -> bool,
        next: impl FnOnce(Option<u32>) -> u32,
    ) -> u32 {
        let current = (self.tag >= 1 && self.tag <= n).then(|| self.tag - 1);
        if let Some(p) = current {
            if self.count < limits.messages
                && bytes.is_none_or(|_| self.bytes < limits.bytes as u64)
                && (limits.linger_ms == 0 || clock::elapsed_below(self.since, limits.linger_ms))
                && stay(p)
            {
                self.count += 1;
                if let Some(b) = bytes {
                    self.bytes += b as u64;
                }
                return p;
            }
        }
        let p = next(current);
        *self = Run {
            tag: p + 1,
            count: 1,
            since: if limits.linger_ms > 0 {
                clock::now_ms()
            } else {
                0
            },
            bytes: bytes.unwrap_or(0) as u64,
        };
        p
    }
}
