//! Rack awareness (`rack.aware`): keyless placement uses only the
//! partitions whose leader is in the client's rack (`client.rack`) while at
//! least one of them is usable, spread among them as the strategy spreads
//! (every strategy asks `Ctx::usable`, which asks `Ctx::in_rack`); when
//! none is, all usable partitions, for `DARK_MS` at a time. Keyed
//! placement never looks. Which partitions are local is fed from outside
//! (the plugin learns the leaders and their racks from the cluster:
//! plugin/leaders.rs); a topic with no local partition is placed as without.

use super::available::DARK_MS;
use super::ctx::Ctx;
use super::state::TopicState;
use crate::atomic::Segments;
use crate::clock;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};

/// The partitions of one topic whose leader is in the client's rack, and
/// each partition's leader. Updated in place (a reader may see an update
/// half done, which costs at most a message placed as before it).
#[derive(Default)]
pub struct Rack {
    /// A bit per partition: its leader is in the client's rack.
    local: Segments<AtomicU64>,
    /// Each partition's leader broker id + 1 (0: not known).
    leaders: Segments<AtomicU32>,
    /// Partitions the last update covered.
    known: AtomicU32,
    /// Local partitions among them.
    count: AtomicU32,
    /// Clock (ms, odd) until which every usable partition may be used: no
    /// local one was usable (0: none recorded).
    off_until: AtomicU32,
}

/// The most partitions whose leaders a topic keeps (64 bits a word).
pub const RACK_PARTITIONS: u32 = crate::atomic::MAX_ITEMS;

impl Rack {
    /// Records the leaders of partitions `0..n` (`leader(p)`: its broker id
    /// and whether that broker is in the client's rack; None: no leader).
    pub fn update(&self, n: u32, leader: impl Fn(u32) -> Option<(i32, bool)>) {
        let n = n.min(RACK_PARTITIONS);
        self.local.ensure(n.div_ceil(64));
        self.leaders.ensure(n);
        let mut count = 0;
        for w in 0..n.div_ceil(64) {
            let mut bits = 0u64;
            for p in w * 64..(w * 64 + 64).min(n) {
                let l = leader(p);
                if let Some(slot) = self.leaders.get(p) {
                    slot.store(l.map_or(0, |(id, _)| id as u32 + 1), Relaxed);
                }
                if let Some((_, true)) = l {
                    bits |= 1 << (p % 64);
                    count += 1;
                }
            }
            if let Some(word) = self.local.get(w) {
                word.store(bits, Relaxed);
            }
        }
        self.count.store(count, Relaxed);
        self.known.store(n, Relaxed);
    }

    /// Whether partition `p`'s leader is in the client's rack.
    #[inline]
    pub fn is_local(&self, p: u32) -> bool {
        p < self.known.load(Relaxed)
            && self
                .local
                .get(p / 64)
                .is_some_and(|w| w.load(Relaxed) >> (p % 64) & 1 == 1)
    }

    /// Partition `p`'s leader broker id, if known.
    pub fn leader(&self, p: u32) -> Option<i32> {
        if p >= self.known.load(Relaxed) {
            return None;
        }
        match self.leaders.get(p)?.load(Relaxed) {
            0 => None,
            id => Some(id as i32 - 1),
        }
    }

    /// How many partitions have their leader in the client's rack.
    pub fn local_count(&self) -> u32 {
        self.count.load(Relaxed)
    }

    /// Whether keyless placement may use partition `p` as far as racks go.
    #[inline]
    fn allows(&self, p: u32) -> bool {
        self.is_local(p) || self.count.load(Relaxed) == 0 || self.off()
    }

    #[cold]
    fn off(&self) -> bool {
        let until = self.off_until.load(Relaxed);
        until != 0 && (until.wrapping_sub(clock::now_ms()) as i32) > 0
    }
}

impl Ctx<'_> {
    /// Whether rack awareness lets keyless placement use partition `p`.
    #[inline(always)]
    pub fn in_rack(&self, t: &TopicState, p: u32) -> bool {
        t.rack_if_any().is_none_or(|r| r.allows(p))
    }

    /// After a search under rack awareness found no usable partition: let
    /// every usable partition be used for `DARK_MS`. Returns whether the
    /// search should be made again (the filter was on).
    #[cold]
    pub fn rack_fallback(&self, t: &TopicState) -> bool {
        match t.rack_if_any() {
            Some(r) if r.count.load(Relaxed) > 0 && !r.off() => {
                r.off_until
                    .store(clock::now_ms().wrapping_add(DARK_MS) | 1, Relaxed);
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{Strategy, TopicRef};
    use crate::topics::Topics;

    fn place_many(s: Strategy, n: u32, topics: &Topics<TopicState>) -> Vec<u32> {
        let ctx = Ctx::new(std::ptr::null(), TopicRef::Table(topics));
        let mut counts = vec![0; n as usize];
        for _ in 0..60_000 {
            counts[s.place(None, n, &ctx) as usize] += 1;
        }
        counts
    }

    #[test]
    fn keyless_messages_stay_in_the_rack_and_spread_there() {
        for s in [
            Strategy::Random,
            Strategy::RoundRobin,
            Strategy::Sticky,
            Strategy::Adaptive,
            Strategy::ConsistentRandom,
        ] {
            let topics: Topics<TopicState> = Topics::default();
            let t = topics.get_or_insert(0);
            // Leaders 1, 2, 3, 1, 2, 3; the client is in broker 1's rack.
            t.rack().update(6, |p| Some((p as i32 % 3 + 1, p % 3 == 0)));
            let c = place_many(s, 6, &topics);
            assert_eq!(c[0] + c[3], 60_000, "{s:?}: {c:?}");
            assert!(c[0].abs_diff(c[3]) < 6_000, "{s:?}: {c:?}");
            // No local partition: every partition (a fresh topic: adaptive
            // would avoid the backlog the first half left on 0 and 3).
            let topics: Topics<TopicState> = Topics::default();
            let t = topics.get_or_insert(0);
            t.rack().update(6, |p| Some((p as i32 % 3 + 2, false)));
            let c = place_many(s, 6, &topics);
            assert!(c.iter().all(|&k| k > 2_000), "{s:?}: {c:?}");
        }
    }

    #[test]
    fn without_a_usable_local_partition_every_usable_one() {
        // Partitions 0 and 3 are local, but have no leader.
        unsafe extern "C" fn available(_: *const crate::sys::rd_kafka_topic_t, p: i32) -> i32 {
            (p % 3 != 0) as i32
        }
        let t = TopicState::null();
        t.rack().update(6, |p| Some((p as i32 % 3 + 1, p % 3 == 0)));
        let mut ctx = Ctx::new(8 as *const _, TopicRef::Known(&t));
        ctx.available = Some(available);
        for s in [Strategy::Random, Strategy::RoundRobin, Strategy::Sticky] {
            let mut counts = [0u32; 6];
            for _ in 0..60_000 {
                counts[s.place(None, 6, &ctx) as usize] += 1;
            }
            assert_eq!(counts[0] + counts[3], 0, "{s:?}: {counts:?}");
            assert!(
                counts.iter().filter(|&&c| c > 2_000).count() == 4,
                "{s:?}: {counts:?}"
            );
        }
    }

    #[test]
    fn keyed_messages_ignore_racks() {
        let topics: Topics<TopicState> = Topics::default();
        let t = topics.get_or_insert(0);
        t.rack().update(6, |p| Some((p as i32 % 3 + 1, p == 0)));
        let ctx = Ctx::new(std::ptr::null(), TopicRef::Table(&topics));
        for k in 0..1000u32 {
            let key = k.to_le_bytes();
            assert_eq!(
                Strategy::Sticky.place(Some(&key), 6, &ctx),
                Strategy::Murmur2.place(Some(&key), 6, &ctx)
            );
        }
    }

    #[test]
    fn leaders_are_kept_per_partition() {
        let r = Rack::default();
        r.update(200, |p| (p != 7).then_some((p as i32 % 5, p % 5 == 4)));
        assert_eq!(r.leader(3), Some(3));
        assert_eq!(r.leader(7), None);
        assert_eq!(r.leader(200), None);
        assert_eq!(r.local_count(), 40);
        assert!(r.is_local(199) && !r.is_local(198));
    }
}
