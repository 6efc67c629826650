//! Which partitions keyless placement may use: a partition is *usable*
//! when it has a leader, or while the topic's leaders are not all known
//! yet (right after librdkafka learnt its partitions). Asked of librdkafka
//! with a bounded number of `rd_kafka_topic_partition_available()` calls;
//! docs/availability.md explains the warm-up, the costs and the outage
//! ("dark") rule. Under rack awareness (rack.rs) only partitions in the
//! client's rack are usable while one of them is.

use super::ctx::Ctx;
use super::state::TopicState;
use crate::sys::AvailableFn;
use crate::{clock, rng};
use std::sync::atomic::Ordering::Relaxed;

/// How long after its first placement a topic stays unsettled at most.
/// librdkafka applies leaders within a millisecond or two of learning the
/// partitions (measured on the mock cluster: 0-1 ms); a partition still
/// without one 100 ms later has none (for example, a leader lost between
/// the producer's start and its first metadata).
pub(crate) const WARMUP_MS: u32 = 100;
/// Topics with more partitions than this are not scanned while they
/// settle (a scan costs one availability call per partition).
pub(crate) const SCAN_MAX: u32 = 4096;
/// Random or next-ticket tries before a scan.
pub(crate) const PROBES: u32 = 8;
/// How long a scan that found no usable partition is trusted.
pub(crate) const DARK_MS: u32 = 100;

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
    pub fn usable(&self, t: &TopicState, p: u32, n: u32) -> bool {
        if !self.in_rack(t, p) {
            false
        } else if t.settled.load(Relaxed) {
            self.has_leader(p)
        } else {
            self.usable_unsettled(t, p, n)
        }
    }

    #[cold]
    #[inline(never)]
    fn usable_unsettled(&self, t: &TopicState, p: u32, n: u32) -> bool {
        if self.asker().is_none() {
            t.settled.store(true, Relaxed);
            return true;
        }
        let settled = self.settle(t, n);
        if self.has_leader(p) {
            t.mark_seen(p, n);
            return true;
        }
        // Without a leader: lost if it had one, else not known yet.
        !settled && !t.was_seen(p, n)
    }

    /// For an unsettled topic: scan (at most once per ms), recording which
    /// partitions have a leader, and settle it when every partition has
    /// been seen with one or the warm-up is over. Returns whether the topic
    /// is settled now.
    fn settle(&self, t: &TopicState, n: u32) -> bool {
        let now = clock::now_ms();
        let mut since = t.first_placed.load(Relaxed);
        if since == 0 {
            since = now | 1;
            t.first_placed.store(since, Relaxed);
        }
        if now.wrapping_sub(since) as i32 >= WARMUP_MS as i32 {
            t.settled.store(true, Relaxed);
            return true;
        }
        if n > SCAN_MAX || t.last_scan.swap(now, Relaxed) == now {
            // Too many partitions to scan each millisecond: the warm-up
            // then ends by time alone.
            return false;
        }
        let mut seen_all = true;
        for q in 0..n {
            if self.has_leader(q) {
                t.mark_seen(q, n);
            }
            seen_all &= t.was_seen(q, n);
        }
        if seen_all {
            t.settled.store(true, Relaxed);
        }
        seen_all
    }

    /// Whether a recent scan found no usable partition.
    fn dark(&self, t: &TopicState) -> bool {
        let until = t.dark_until.load(Relaxed);
        until != 0 && (until.wrapping_sub(clock::now_ms()) as i32) > 0
    }

    fn mark_dark(&self, t: &TopicState) {
        t.dark_until
            .store(clock::now_ms().wrapping_add(DARK_MS) | 1, Relaxed);
    }

    /// Uniform among the usable partitions other than `except`; None when
    /// there are none (or the topic is dark).
    #[cold]
    pub fn random_usable(&self, t: &TopicState, n: u32, except: Option<u32>) -> Option<u32> {
        let others = n - except.map_or(0, |e| (e < n) as u32);
        if others == 0 || self.dark(t) {
            return None;
        }
        for _ in 0..PROBES {
            let p = pick(n, except);
            if self.usable(t, p, n) {
                return Some(p);
            }
        }
        // One pass, choosing uniformly among the usable (reservoir sampling).
        let mut seen = 0;
        let mut chosen = None;
        for q in (0..n).filter(|&q| Some(q) != except) {
            if self.usable(t, q, n) {
                seen += 1;
                if rng::below(seen) == 0 {
                    chosen = Some(q);
                }
            }
        }
        if chosen.is_none() {
            if self.rack_fallback(t) {
                return self.random_usable(t, n, except);
            }
            self.mark_dark(t);
        }
        chosen
    }

    /// The first usable partition after `p` (cyclically); None when there
    /// are none (or the topic is dark).
    #[cold]
    pub fn next_usable(&self, t: &TopicState, p: u32, n: u32) -> Option<u32> {
        if self.dark(t) {
            return None;
        }
        let found = (1..n).map(|i| (p + i) % n).find(|&q| self.usable(t, q, n));
        if found.is_none() {
            if self.rack_fallback(t) {
                return self.next_usable(t, p, n);
            }
            self.mark_dark(t);
        }
        found
    }
}

/// Uniform in `0..n` other than `except` (when `except` is in range and
/// `n > 1`).
#[inline]
pub fn pick(n: u32, except: Option<u32>) -> u32 {
    match except {
        Some(e) if e < n && n > 1 => {
            let r = rng::below(n - 1);
            r + (r >= e) as u32
        }
        _ => rng::below(n),
    }
}
