//! Which partitions keyless placement may use, from the topic's view
//! (view.rs): a partition is *usable* when it has a leader, or while the
//! topic's leaders are not all known yet (available.rs), and, under rack
//! awareness, while it is in the client's rack or none there is (rack.rs).
//! Asked of librdkafka with a bounded number of
//! `rd_kafka_topic_partition_available()` calls.

use super::available::{pick, PROBES, SCAN_MAX, WARMUP_MS};
use super::ctx::Ctx;
use super::view::View;
use crate::sys::AvailableFn;
use crate::{clock, rng};
use std::sync::atomic::Ordering::Relaxed;

impl Ctx<'_> {
    /// The availability function, when there is a topic to ask about.
    #[inline(always)]
    fn asker(&self) -> Option<AvailableFn> {
        if self.rkt.is_null() {
            None
        } else {
            self.available.or_else(crate::loader::global_available)
        }
    }

    /// Whether partition `p` (of `n`) has a leader; true when rdpart cannot ask.
    #[inline(always)]
    pub fn has_leader(&self, p: u32) -> bool {
        match self.asker() {
            // SAFETY: rkt is the topic librdkafka passed to the partitioner
            // and f is that librdkafka's rd_kafka_topic_partition_available.
            Some(f) => unsafe { f(self.rkt, p as i32) != 0 },
            None => true,
        }
    }

    /// Whether keyless placement may use partition `p` of `n`.
    #[inline(always)]
    pub fn usable(&self, v: &View, p: u32, n: u32) -> bool {
        if !self.in_rack(v, p) {
            false
        } else if v.availability.settled.load(Relaxed) {
            self.has_leader(p)
        } else {
            self.usable_unsettled(v, p, n)
        }
    }

    #[cold]
    #[inline(never)]
    fn usable_unsettled(&self, v: &View, p: u32, n: u32) -> bool {
        if self.asker().is_none() {
            v.availability.settled.store(true, Relaxed);
            return true;
        }
        let settled = self.settle(v, n);
        if self.has_leader(p) {
            v.availability.mark_seen(p, n);
            return true;
        }
        // Without a leader: lost if it had one or the cluster says it has
        // none (the plugin's leaders, when learnt), else not known yet.
        !settled
            && !v.availability.was_seen(p, n)
            && !v.leaders_if_any().is_some_and(|l| l.leaderless(p))
    }

    /// For an unsettled topic: scan (at most once per ms), recording which
    /// partitions have a leader, and settle it when every partition has
    /// been seen with one or the warm-up is over. Returns whether the topic
    /// is settled now.
    fn settle(&self, v: &View, n: u32) -> bool {
        let now = clock::now_ms();
        let mut since = v.availability.first_placed.load(Relaxed);
        if since == 0 {
            since = now | 1;
            v.availability.first_placed.store(since, Relaxed);
        }
        if now.wrapping_sub(since) as i32 >= WARMUP_MS as i32 {
            v.availability.settled.store(true, Relaxed);
            return true;
        }
        if n > SCAN_MAX || v.availability.last_scan.swap(now, Relaxed) == now {
            // Too many partitions to scan each millisecond: the warm-up
            // then ends by time alone.
            return false;
        }
        let mut seen_all = true;
        for q in 0..n {
            if self.has_leader(q) {
                v.availability.mark_seen(q, n);
            }
            seen_all &= v.availability.was_seen(q, n);
        }
        if seen_all {
            v.availability.settled.store(true, Relaxed);
        }
        seen_all
    }

    /// Uniform among the usable partitions other than `except`; None when
    /// there are none (or the topic is dark).
    #[cold]
    pub fn random_usable(&self, v: &View, n: u32, except: Option<u32>) -> Option<u32> {
        let others = n - except.map_or(0, |e| (e < n) as u32);
        if others == 0 || v.availability.dark() {
            return None;
        }
        for _ in 0..PROBES {
            let p = pick(n, except);
            if self.usable(v, p, n) {
                return Some(p);
            }
        }
        // One pass, choosing uniformly among the usable (reservoir sampling).
        let mut seen = 0;
        let mut chosen = None;
        for q in (0..n).filter(|&q| Some(q) != except) {
            if self.usable(v, q, n) {
                seen += 1;
                if rng::below(seen) == 0 {
                    chosen = Some(q);
                }
            }
        }
        if chosen.is_none() {
            if self.rack_fallback(v) {
                return self.random_usable(v, n, except);
            }
            v.availability.mark_dark();
        }
        chosen
    }

    /// The first usable partition after `p` (cyclically); None when there
    /// are none (or the topic is dark).
    #[cold]
    pub fn next_usable(&self, v: &View, p: u32, n: u32) -> Option<u32> {
        if v.availability.dark() {
            return None;
        }
        let found = (1..n).map(|i| (p + i) % n).find(|&q| self.usable(v, q, n));
        if found.is_none() {
            if self.rack_fallback(v) {
                return self.next_usable(v, p, n);
            }
            v.availability.mark_dark();
        }
        found
    }

    /// Whether rack awareness lets keyless placement use partition `p`.
    #[inline(always)]
    pub fn in_rack(&self, v: &View, p: u32) -> bool {
        v.rack_if_any().is_none_or(|r| r.allows(p))
    }

    /// After a search under rack awareness found no usable partition: let
    /// every usable partition be used for `DARK_MS`. Returns whether the
    /// search should be made again (the filter was on).
    #[cold]
    pub fn rack_fallback(&self, v: &View) -> bool {
        v.rack_if_any().is_some_and(|r| r.fall_back())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{Strategy, TopicRef, TopicState};
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
    fn a_delivery_shows_its_partition_had_a_leader() {
        use crate::strategy::{acknowledged, Report};
        use crate::topics::Fresh;
        // librdkafka has applied no leader yet, as right after it learnt
        // the partitions: while the topic warms up, each may be about to
        // get one.
        unsafe extern "C" fn none(_: *const crate::sys::rd_kafka_topic_t, _: i32) -> i32 {
            0
        }
        let t = TopicState::fresh(8, 0);
        let mut ctx = Ctx::new(8 as *const _, TopicRef::Known(&t));
        ctx.available = Some(none);
        assert!(ctx.usable(&t.view, 2, 6) && ctx.usable(&t.view, 3, 6));
        // A message delivered to partition 2 (rdpart_delivered() or the
        // plugin): it had a leader, so without one now it is lost.
        let latency = || None;
        let report = Report {
            partition: 2,
            delivered: true,
            latency_us: &latency,
            bytes: Some(100),
            broker: -1,
        };
        acknowledged(&t, report);
        assert!(!ctx.usable(&t.view, 2, 6), "lost, not still to come");
        assert!(ctx.usable(&t.view, 3, 6), "never seen: still to come");
    }

    #[test]
    fn a_partition_the_cluster_says_has_no_leader_is_not_waited_for() {
        use crate::topics::Fresh;
        // Right after librdkafka learnt the partitions: it has applied no
        // leader yet, but the cluster said partition 4 has none.
        unsafe extern "C" fn none(_: *const crate::sys::rd_kafka_topic_t, _: i32) -> i32 {
            0
        }
        let t = TopicState::fresh(8, 0);
        t.view
            .leaders()
            .update(6, |p| (p != 4).then_some(p as i32 % 3));
        let mut ctx = Ctx::new(8 as *const _, TopicRef::Known(&t));
        ctx.available = Some(none);
        assert!(ctx.usable(&t.view, 3, 6), "about to get its leader");
        assert!(!ctx.usable(&t.view, 4, 6), "has none to get");
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
            t.view.rack().update(6, |p| p % 3 == 0);
            let c = place_many(s, 6, &topics);
            assert_eq!(c[0] + c[3], 60_000, "{s:?}: {c:?}");
            assert!(c[0].abs_diff(c[3]) < 6_000, "{s:?}: {c:?}");
            // No local partition: every partition (a fresh topic: adaptive
            // would avoid the backlog the first half left on 0 and 3).
            let topics: Topics<TopicState> = Topics::default();
            let t = topics.get_or_insert(0);
            t.view.rack().update(6, |_| false);
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
        t.view.rack().update(6, |p| p % 3 == 0);
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
        t.view.rack().update(6, |p| p == 0);
        let ctx = Ctx::new(std::ptr::null(), TopicRef::Table(&topics));
        for k in 0..1000u32 {
            let key = k.to_le_bytes();
            assert_eq!(
                Strategy::Sticky.place(Some(&key), 6, &ctx),
                Strategy::Murmur2.place(Some(&key), 6, &ctx)
            );
        }
    }
}
