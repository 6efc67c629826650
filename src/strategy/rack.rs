//! Rack awareness (`rack.aware`): keyless placement uses only the
//! partitions whose leader is in the client's rack (`client.rack`) while at
//! least one of them is usable, spread among them as the strategy spreads
//! (every strategy asks `Ctx::usable`, usable.rs, which asks this); when
//! none is, all usable partitions, for `DARK_MS` at a time. Keyed
//! placement never looks. Which partitions are local is fed from outside
//! (the plugin learns the leaders and their racks from the cluster:
//! plugin/leaders.rs); a topic with no local partition is placed as without.
//! Which broker leads each partition is leaders.rs's.

use super::available::DARK_MS;
use crate::atomic::Segments;
use crate::clock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::*};

/// The partitions of one topic whose leader is in the client's rack.
/// Updated in place (a reader may see an update half done, which costs at
/// most a message placed as before it).
#[derive(Default)]
pub struct Rack {
    /// A bit per partition: its leader is in the client's rack.
    local: Segments<AtomicU64>,
    /// Partitions the last update covered.
    known: AtomicU32,
    /// Local partitions among them.
    count: AtomicU32,
    /// Clock (ms, odd) until which every usable partition may be used: no
    /// local one was usable (0: none recorded).
    off_until: AtomicU32,
}

/// The most partitions a topic's rack view covers (64 bits a word).
const RACK_PARTITIONS: u32 = crate::atomic::MAX_ITEMS;

impl Rack {
    /// Records which of partitions `0..n` have their leader in the
    /// client's rack (`local(p)`; false also for no leader).
    pub fn update(&self, n: u32, local: impl Fn(u32) -> bool) {
        let n = n.min(RACK_PARTITIONS);
        self.local.ensure(n.div_ceil(64));
        let mut count = 0;
        for w in 0..n.div_ceil(64) {
            let mut bits = 0u64;
            for p in w * 64..(w * 64 + 64).min(n) {
                if local(p) {
                    bits |= 1 << (p % 64);
                    count += 1;
                }
            }
            if let Some(word) = self.local.get(w) {
                word.store(bits, Relaxed);
            }
        }
        // The bits, then how many partitions they cover, then how many are
        // local: a reader that sees a count sees what it counts (a count
        // seen before the partitions would refuse every partition).
        self.known.store(n, Release);
        self.count.store(count, Release);
    }

    /// Whether partition `p`'s leader is in the client's rack.
    #[inline]
    pub fn is_local(&self, p: u32) -> bool {
        p < self.known.load(Acquire)
            && self
                .local
                .get(p / 64)
                .is_some_and(|w| w.load(Relaxed) >> (p % 64) & 1 == 1)
    }

    /// How many partitions have their leader in the client's rack.
    pub fn local_count(&self) -> u32 {
        self.count.load(Relaxed)
    }

    /// Whether keyless placement may use partition `p` as far as racks go.
    #[inline]
    pub(super) fn allows(&self, p: u32) -> bool {
        self.count.load(Acquire) == 0 || self.is_local(p) || self.off()
    }

    #[cold]
    fn off(&self) -> bool {
        let until = self.off_until.load(Relaxed);
        until != 0 && (until.wrapping_sub(clock::now_ms()) as i32) > 0
    }

    /// After a search found no usable partition in the rack: let every
    /// usable partition be used for `DARK_MS`. Returns whether the filter
    /// was on (the search should then be made again).
    #[cold]
    pub(super) fn fall_back(&self) -> bool {
        if self.count.load(Relaxed) > 0 && !self.off() {
            self.off_until
                .store(clock::now_ms().wrapping_add(DARK_MS) | 1, Relaxed);
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_partitions_are_kept_per_partition() {
        let r = Rack::default();
        r.update(200, |p| p % 5 == 4);
        assert_eq!(r.local_count(), 40);
        assert!(r.is_local(199) && !r.is_local(198));
        assert!(!r.is_local(204), "beyond the partitions learnt");
        r.update(3, |p| p == 1);
        assert_eq!(r.local_count(), 1);
        assert!(
            r.is_local(1) && !r.is_local(4),
            "learnt with 3 partitions last"
        );
    }
}
