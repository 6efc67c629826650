//! adaptive's view of a topic's partitions: per partition, messages placed
//! and acknowledged (the backlog), the acknowledgements' latency, and
//! whether the partition is left out (far slower than the others, or not
//! drained for `adaptive.timeout.ms`). Counters live in segments that are
//! never moved, made only for partitions counted; producing threads and
//! broker threads write separate cache lines. docs/adaptive.md has the
//! rules and their reasons.

use super::brokers::Brokers;
use super::slow::{self, halve_toward};
use crate::atomic::Segments;
use crate::clock;
use crate::strategy::leaders::Leaders;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering::*};

/// One probe to a left-out partition this often (ms).
pub(crate) const PROBE_MS: u32 = 100;
/// Placement totals are compared over epochs this long (ms).
pub(crate) const EPOCH_MS: u32 = 1000;
/// Partitions with a latency sample before a topic is warm: until then no
/// partition's latency can be compared with others', and a long run on a
/// slow broker's partition would go on unseen.
pub(crate) const WARM_SAMPLES: u32 = 3;
/// adaptive's run length in bytes at most while a topic is not warm.
pub(crate) const WARM_RUN_BYTES: u32 = 16_384;
/// Partitions sampled for the latency quartile (no allocation).
const SAMPLE: usize = 256;
// Partitions beyond MAX_ITEMS (atomic.rs) have no counters: no backlog,
// never left out. A partition count may be anything up to 2^31 - 1.

thread_local! {
    /// The size of the message on_send saw last in this thread, + 1 (0: none).
    static SENDING: Cell<u32> = const { Cell::new(0) };
}

/// Hands this thread's next placement the size of the message it places
/// (on_send runs in the producing thread right before the partitioner).
#[inline]
pub(in crate::strategy) fn sending(bytes: u32) {
    let _ = SENDING.try_with(|c| c.set(bytes.min(u32::MAX - 1) + 1));
}

#[inline]
fn take_sending() -> Option<u32> {
    SENDING
        .try_with(|c| c.replace(0).checked_sub(1))
        .ok()
        .flatten()
}

/// One partition's counters: what producing threads write and what
/// acknowledging (broker) threads write on separate cache lines, so the
/// two never fight over one line on every message.
#[derive(Default)]
pub struct PartitionLoad {
    pub(in crate::strategy) sent: Sent,
    pub(in crate::strategy) acks: Acks,
}

#[repr(align(64))]
#[derive(Default)]
pub(in crate::strategy) struct Sent {
    /// Messages placed on (or sent to) the partition.
    pub(in crate::strategy) placed: AtomicI64,
    /// Clock (ms) when the backlog last went from none to some.
    pub(in crate::strategy) busy_since: AtomicU32,
    /// Left out at the last refresh.
    pub(in crate::strategy) out: AtomicBool,
    /// Its leader was down at the last refresh (a crashed broker): avoided
    /// even when every partition is left out.
    pub(in crate::strategy) dead: AtomicBool,
    /// `placed` when the current epoch began.
    pub(in crate::strategy) base: AtomicI64,
}

#[repr(align(64))]
#[derive(Default)]
pub(in crate::strategy) struct Acks {
    /// Messages acknowledged.
    pub(in crate::strategy) acked: AtomicI64,
    /// Clock (ms) of its last acknowledgement (0: none).
    pub(in crate::strategy) last_ack: AtomicU32,
    /// Average acknowledgement latency, µs (0: no sample yet).
    pub(in crate::strategy) latency_us: AtomicU32,
    /// The broker that acknowledged its last message, id + 1 (0: not known).
    pub(in crate::strategy) broker: AtomicU32,
}

impl PartitionLoad {
    #[inline]
    pub(in crate::strategy) fn backlog(&self) -> i64 {
        self.sent.placed.load(Relaxed) - self.acks.acked.load(Relaxed)
    }
}

/// A topic's partitions, as adaptive sees them.
pub struct Load {
    /// Each partition's counters, made for partitions counted.
    pub(in crate::strategy) parts: Segments<PartitionLoad>,
    /// Clock (ms) of the last full weighing of the partitions (`choose`).
    pub(in crate::strategy) weighed: AtomicU32,
    /// Clock (ms) of the last acknowledgement of any partition.
    pub(in crate::strategy) last_ack: AtomicU32,
    /// Clock (ms) of the topic's first placement (0: none yet). Messages
    /// produced before the producer knew the topic's partitions waited
    /// for metadata before any placement: that wait is not the broker's.
    pub(in crate::strategy) first_placed: AtomicU32,
    /// Clock (ms) of the last refresh of the left-out flags.
    pub(in crate::strategy) refreshed: AtomicU32,
    /// Clock (ms) when the current epoch began.
    pub(in crate::strategy) epoch: AtomicU32,
    /// Some partition is left out.
    pub(in crate::strategy) any_out: AtomicBool,
    /// Some partition's leader is down.
    pub(in crate::strategy) any_dead: AtomicBool,
    /// Clock (ms) of the next probe.
    pub(in crate::strategy) next_probe: AtomicU32,
    /// Where the next probe looks first.
    pub(in crate::strategy) probe_cursor: AtomicU32,
    /// Running average of message sizes (bytes), for placements whose
    /// size on_send did not hand over.
    pub(in crate::strategy) avg_bytes: AtomicU32,
    /// Enough partitions have a latency sample to tell a slow one
    /// (`WARM_SAMPLES`); until then runs are short (adaptive/mod.rs).
    pub(in crate::strategy) warm: AtomicBool,
}

impl Default for Load {
    fn default() -> Load {
        Load {
            parts: Segments::default(),
            weighed: AtomicU32::new(0),
            last_ack: AtomicU32::new(0),
            first_placed: AtomicU32::new(0),
            refreshed: AtomicU32::new(0),
            epoch: AtomicU32::new(0),
            any_out: AtomicBool::new(false),
            any_dead: AtomicBool::new(false),
            next_probe: AtomicU32::new(0),
            probe_cursor: AtomicU32::new(0),
            avg_bytes: AtomicU32::new(0),
            warm: AtomicBool::new(false),
        }
    }
}

impl Load {
    /// A table with counters for partitions `0..n`.
    #[cfg(test)]
    pub(in crate::strategy) fn new(n: u32) -> Load {
        let l = Load::default();
        l.ensure(n);
        l
    }

    /// Partition `p`'s counters, if it has any.
    #[inline]
    pub(in crate::strategy) fn slot(&self, p: u32) -> Option<&PartitionLoad> {
        self.parts.get(p)
    }

    /// Partition `p`'s counters, made if needed (None: beyond MAX_ITEMS).
    #[inline]
    fn slot_or_make(&self, p: u32) -> Option<&PartitionLoad> {
        self.parts.get_or_make(p)
    }

    /// Makes counters for partitions `0..n` (n capped at MAX_ITEMS).
    #[inline]
    pub fn ensure(&self, n: u32) {
        self.parts.ensure(n)
    }

    /// Partitions known to exist: the most the partitioner was told of.
    #[inline]
    pub fn known_partitions(&self) -> u32 {
        self.parts.covered()
    }

    /// Partitions `0..n` with their counters, in order (those made).
    pub(in crate::strategy) fn upto(&self, n: u32) -> impl Iterator<Item = (u32, &PartitionLoad)> {
        self.parts.upto(n)
    }

    /// Every partition's counters made so far.
    pub(in crate::strategy) fn each(&self) -> impl Iterator<Item = &PartitionLoad> {
        self.parts.each()
    }

    /// Counts a message placed on (or sent to) partition `p`: one add to
    /// a line only producing threads write.
    #[inline]
    pub fn placed(&self, p: u32) {
        if let Some(s) = self.slot_or_make(p) {
            s.sent.placed.fetch_add(1, Relaxed);
        }
        if self.first_placed.load(Relaxed) == 0 {
            self.first_placed.store(clock::coarse_ms() | 1, Relaxed);
        }
    }

    /// A run (or a probe) starts on partition `p`: when it had no backlog,
    /// its waiting starts now.
    pub(in crate::strategy) fn starting(&self, p: u32) {
        if let Some(s) = self.slot(p) {
            if s.backlog() <= 0 {
                s.sent.busy_since.store(clock::coarse_ms() | 1, Relaxed);
            }
        }
    }

    /// Counts an acknowledgement of a message on partition `p`; for a
    /// delivered one, `latency_us` gives its delivery latency (asked only
    /// when sampled). Stores only what changed.
    /// With `clamp`, an acknowledgement of a partition with no backlog is
    /// not counted: rdpart_delivered() is handed delivery reports of
    /// messages rdpart did not place (explicit partitions) too.
    pub fn acknowledged(&self, p: u32, latency_us: Option<&dyn Fn() -> Option<u64>>, clamp: bool) {
        let Some(s) = self.slot(p) else {
            return;
        };
        let a = &s.acks;
        let acked = if clamp {
            match a.acked.fetch_update(Relaxed, Relaxed, |acked| {
                (acked < s.sent.placed.load(Relaxed)).then_some(acked + 1)
            }) {
                Ok(acked) => acked,
                Err(_) => return,
            }
        } else {
            a.acked.fetch_add(1, Relaxed)
        };
        // When it was last drained: on every acknowledgement (a partition
        // with few messages must not look stalled between samples).
        let now = clock::coarse_ms() | 1;
        if a.last_ack.load(Relaxed) != now {
            a.last_ack.store(now, Relaxed);
        }
        if self.last_ack.load(Relaxed) != now {
            self.last_ack.store(now, Relaxed);
        }
        // The latency: of every 8th acknowledgement, and of each of a
        // left-out partition (its probes).
        if acked % 8 != 0 && !s.sent.out.load(Relaxed) {
            return;
        }
        if let Some(l) = latency_us.and_then(|f| f()) {
            // Not more than the time since the topic's first placement: a
            // message parked before metadata waited for it, not for the
            // broker (without this, the first burst's latencies, which
            // include the metadata wait, leave healthy brokers out).
            let first = self.first_placed.load(Relaxed);
            let since_first = (now.wrapping_sub(first) as i32).max(0) as u64 * 1000;
            let l = if first == 0 { l } else { l.min(since_first) };
            let l = l.min(u32::MAX as u64 / 2) as u32;
            let old = a.latency_us.load(Relaxed);
            let new = halve_toward(old, l);
            if new != old {
                a.latency_us.store(new, Relaxed);
            }
        }
    }

    /// Partition `p` as adaptive sees it: its backlog, its latency (µs; 0:
    /// no sample yet) and whether it is left out.
    pub fn view(&self, p: u32) -> Option<(i64, u32, bool)> {
        self.slot(p).map(|s| {
            (
                s.backlog(),
                s.acks.latency_us.load(Relaxed),
                s.sent.out.load(Relaxed),
            )
        })
    }

    /// Messages placed and not acknowledged, over all partitions.
    pub fn in_flight(&self) -> i64 {
        self.each().map(PartitionLoad::backlog).sum()
    }

    #[inline]
    pub(in crate::strategy) fn out(&self, p: u32) -> bool {
        self.slot(p).is_some_and(|s| s.sent.out.load(Relaxed))
    }

    /// Whether `p`'s leader was down at the last refresh.
    #[inline]
    pub(in crate::strategy) fn dead(&self, p: u32) -> bool {
        self.slot(p).is_some_and(|s| s.sent.dead.load(Relaxed))
    }

    /// Recomputes which partitions are left out (at most once per ms).
    /// `leaders`: each partition's leader, when learnt from the cluster
    /// (else the broker that acknowledged its last message); `brokers`: the
    /// producer's brokers' round trips, when the plugin reports them.
    pub(in crate::strategy) fn refresh(
        &self,
        now: u32,
        timeout_ms: u32,
        leaders: Option<&Leaders>,
        brokers: Option<&Brokers>,
    ) {
        // At most once per ms, and per ms per 1024 partitions.
        let covered = self.parts.covered();
        let every = (covered / 1024).max(1);
        let last = self.refreshed.load(Relaxed);
        if (now.wrapping_sub(last) as i32) < every as i32
            || self
                .refreshed
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_err()
        {
            return;
        }
        // A new epoch: this epoch's totals start from here.
        let epoch = self.epoch.load(Relaxed);
        if (epoch == 0 || now.wrapping_sub(epoch) as i32 >= EPOCH_MS as i32)
            && self
                .epoch
                .compare_exchange(epoch, now, Relaxed, Relaxed)
                .is_ok()
        {
            // Half of each partition's lead carries over, so an imbalance
            // (the burst placed before metadata, a broker that connected
            // late) fades over a few epochs. A left-out partition's debt
            // is capped at half an epoch's average share: a broker back
            // from being slow catches up a little, it is not flooded.
            let lead =
                |s: &PartitionLoad| (s.sent.placed.load(Relaxed) - s.sent.base.load(Relaxed)) / 2;
            let (mut top, mut sum, mut k) = (0i64, 0i64, 0i64);
            for s in self.each().filter(|s| !s.sent.out.load(Relaxed)) {
                let l = lead(s);
                top = top.max(l);
                sum += l;
                k += 1;
            }
            let floor = top - sum / k.max(1) / 2;
            for s in self.each() {
                let carry = if s.sent.out.load(Relaxed) {
                    lead(s).max(floor)
                } else {
                    lead(s)
                };
                s.sent
                    .base
                    .store(s.sent.placed.load(Relaxed) - carry, Relaxed);
            }
        }
        // The lower quartile of the latencies, from up to SAMPLE partitions.
        let mut sample = [0u32; SAMPLE];
        let mut k = 0;
        let step = (covered as usize).div_ceil(SAMPLE).max(1);
        for s in self.each().step_by(step) {
            let l = s.acks.latency_us.load(Relaxed);
            if l != 0 && k < SAMPLE {
                sample[k] = l;
                k += 1;
            }
        }
        if !self.warm.load(Relaxed) && k >= (covered.min(WARM_SAMPLES) as usize).max(1) {
            self.warm.store(true, Relaxed);
        }
        let limit = slow::limit_us(&mut sample[..k]).unwrap_or(u64::MAX);
        let topic_ack = self.last_ack.load(Relaxed);
        let first_placed = self.first_placed.load(Relaxed);
        let (mut any, mut all_out, mut led) = (false, true, false);
        // Brokers slow by their own round trips: a broker's slowness shows
        // on all its partitions at once, so its partitions with no sample
        // yet (or an old one) are left out with it, before any of their
        // messages is acknowledged. (Not inferred from a partition's
        // latency, which may be its own: messages that waited for a leader.)
        let slow_now = brokers.map(|b| b.slow(now)).unwrap_or_default();
        let down_now = brokers.map(|b| b.down()).unwrap_or_default();
        let mut any_dead = false;
        let broker_of = |p: u32, s: &PartitionLoad| match leaders.and_then(|r| r.leader(p)) {
            Some(id) => id as u32 + 1,
            None => s.acks.broker.load(Relaxed),
        };
        for (p, s) in self.upto(u32::MAX) {
            // Waiting counts as latency: a partition with backlog and no
            // acknowledgement for `age` has a latency of at least `age`,
            // so a broker that stops answering is left out within about
            // slow::SLOW_FACTOR of the others' round trip, not after its own.
            // (A backlog that no run or keyed message has dated, such as
            // the burst placed before metadata, dates from the topic's
            // first placement.)
            let (busy, since) = (
                s.backlog() > 0,
                later(
                    later(
                        s.acks.last_ack.load(Relaxed),
                        s.sent.busy_since.load(Relaxed),
                    ),
                    first_placed,
                ),
            );
            let age_us = if busy && since != 0 {
                (now.wrapping_sub(since) as i32).max(0) as u64 * 1000
            } else {
                0
            };
            let slow = (s.acks.latency_us.load(Relaxed) as u64).max(age_us) > limit;
            // KIP-794's availability timeout: not drained for timeout_ms
            // while others were acknowledged.
            let stalled = timeout_ms > 0
                && busy
                && topic_ack != 0
                && age_us > timeout_ms as u64 * 1000
                && topic_ack.wrapping_sub(since) as i32 > 0;
            let broker = broker_of(p, s);
            let dead = broker != 0 && down_now.contains(broker as i32 - 1);
            let out =
                dead || slow || stalled || (broker != 0 && slow_now.contains(broker as i32 - 1));
            if s.sent.out.load(Relaxed) != out {
                s.sent.out.store(out, Relaxed);
            }
            if s.sent.dead.load(Relaxed) != dead {
                s.sent.dead.store(dead, Relaxed);
            }
            any |= out;
            if broker != 0 {
                // (Partitions with no known leader, such as counters made
                // past the topic's partitions, say nothing here.)
                all_out &= out;
                led = true;
            }
            any_dead |= dead;
        }
        // Every partition left out says nothing (each kept waiting by a busy
        // cluster): then only those of slow or dead brokers are, so that the
        // others take the messages rather than all partitions alike.
        if all_out && led {
            let mut still = false;
            for (p, s) in self.upto(u32::MAX) {
                let broker = broker_of(p, s);
                let out = broker != 0
                    && (down_now.contains(broker as i32 - 1)
                        || slow_now.contains(broker as i32 - 1));
                if s.sent.out.load(Relaxed) != out {
                    s.sent.out.store(out, Relaxed);
                }
                still |= out;
            }
            any = still;
        }
        self.any_out.store(any, Relaxed);
        self.any_dead.store(any_dead, Relaxed);
    }

    /// Records the broker (its id) that acknowledged a message of `p`.
    #[inline]
    pub fn acknowledged_by(&self, p: u32, broker: i32) {
        if let (Some(s), Ok(b)) = (self.slot(p), u32::try_from(broker)) {
            let b = b.saturating_add(1);
            if s.acks.broker.load(Relaxed) != b {
                s.acks.broker.store(b, Relaxed);
            }
        }
    }

    /// Notes the size of a message about to be placed (on_send sees every
    /// message, those parked before metadata included): a running average
    /// (1/16 of the distance), written only when it moves.
    #[inline]
    pub fn note_size(&self, bytes: u32) {
        let avg = self.avg_bytes.load(Relaxed);
        let new = if avg == 0 {
            bytes.max(1)
        } else {
            (avg - avg / 16 + bytes / 16).max(1)
        };
        if new != avg {
            self.avg_bytes.store(new, Relaxed);
        }
    }

    /// The size to count for a message placed now: what on_send handed
    /// over in this thread, else (librdkafka's thread placing messages
    /// parked before metadata) the average.
    #[inline]
    pub(in crate::strategy) fn message_bytes(&self) -> u32 {
        take_sending().unwrap_or_else(|| self.avg_bytes.load(Relaxed).max(1))
    }
}

/// The later of two clock readings (0: none).
fn later(a: u32, b: u32) -> u32 {
    if a == 0 {
        b
    } else if b == 0 || a.wrapping_sub(b) as i32 > 0 {
        a
    } else {
        b
    }
}

impl Load {
    /// Whether this switch may weigh every partition: the first in its
    /// millisecond.
    pub(in crate::strategy) fn may_weigh(&self) -> bool {
        let now = clock::coarse_ms() | 1;
        let last = self.weighed.load(Relaxed);
        last != now
            && self
                .weighed
                .compare_exchange(last, now, Relaxed, Relaxed)
                .is_ok()
    }

    /// Bytes of counters this table holds.
    pub fn counter_bytes(&self) -> usize {
        self.parts.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atomic::MAX_ITEMS;
    /// docs/c_api.md states adaptive's memory per topic.
    #[test]
    fn memory_per_topic_matches_the_readme() {
        let table = std::mem::size_of::<Load>();
        let six = table + Load::new(6).counter_bytes();
        let hundred = table + Load::new(100).counter_bytes();
        println!("Load {table} B; 6 partitions {six} B, 100 partitions {hundred} B");
        assert!(six <= 1400, "{six}");
        assert!(hundred <= 2 * 100 * 128 + 1400, "{hundred}");
    }

    #[test]
    fn explicit_partitions_take_memory_in_proportion() {
        // One message to each partition 0..3999: counters for at most
        // twice as many, never a copy per call.
        let l = Load::new(0);
        for p in 0..4000 {
            l.placed(p);
        }
        assert!(
            l.counter_bytes() <= 2 * 4000 * std::mem::size_of::<PartitionLoad>() + 8 * 1024,
            "{}",
            l.counter_bytes()
        );
        // Partitions beyond what is tracked take nothing.
        let before = l.counter_bytes();
        for _ in 0..50 {
            l.placed(i32::MAX as u32);
        }
        assert_eq!(l.counter_bytes(), before);
        assert_eq!(l.in_flight(), 4000);
        for p in 0..4000 {
            l.acknowledged(p, None, false);
        }
        l.acknowledged(i32::MAX as u32, None, false);
        assert_eq!(l.in_flight(), 0);
        // Freed without recursion, on a thread with a small stack.
        let l = Box::new(l);
        std::thread::Builder::new()
            .stack_size(64 * 1024)
            .spawn(move || drop(l))
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn delivery_reports_of_messages_not_placed_do_not_count() {
        let l = Load::new(4);
        l.placed(1);
        // Reports for explicit partitions, which rdpart did not place.
        for _ in 0..500 {
            l.acknowledged(2, None, true);
        }
        assert_eq!(l.in_flight(), 1);
        l.acknowledged(1, None, true);
        l.acknowledged(1, None, true);
        assert_eq!(l.in_flight(), 0);
    }

    #[test]
    fn every_acknowledgement_ends_a_placement() {
        let l = Load::new(6);
        for p in 0..600 {
            l.placed(p % 6);
        }
        l.placed(MAX_ITEMS); // beyond the tracked: not counted either way
        assert_eq!(l.in_flight(), 600);
        for p in 0..600 {
            l.acknowledged(p % 6, Some(&|| Some(5_000)), false);
        }
        l.acknowledged(MAX_ITEMS, None, false);
        assert_eq!(l.in_flight(), 0);
    }

    #[test]
    fn a_partition_far_slower_than_the_others_is_left_out_and_comes_back() {
        let l = Load::new(6);
        // Placing began 10 s ago (latencies up to that are believed).
        l.first_placed
            .store(clock::coarse_ms().wrapping_sub(10_000) | 1, Relaxed);
        for _ in 0..8 {
            for p in 0..6 {
                l.placed(p);
                let slow = p == 2 || p == 5;
                l.acknowledged(
                    p,
                    Some(&|| Some(if slow { 1_000_000 } else { 5_000 })),
                    false,
                );
            }
        }
        l.refresh(clock::now_ms() | 1, 500, None, None);
        let out: Vec<u32> = (0..6).filter(|&p| l.out(p)).collect();
        assert_eq!(out, [2, 5]);
        // Fast again: a few fast acknowledgements bring it back.
        for _ in 0..6 {
            l.placed(2);
            l.acknowledged(2, Some(&|| Some(5_000)), false);
        }
        l.refreshed.store(0, Relaxed);
        l.refresh(clock::now_ms() | 3, 500, None, None);
        assert!(!l.out(2) && l.out(5));
    }

    #[test]
    fn a_broker_slow_by_its_round_trips_has_all_its_partitions_left_out() {
        let l = Load::new(6);
        l.first_placed
            .store(clock::coarse_ms().wrapping_sub(10_000) | 1, Relaxed);
        // Leaders: broker p % 3, known from acknowledgements; no partition
        // has a latency sample that says anything.
        for p in 0..6 {
            l.acknowledged_by(p, (p % 3) as i32);
        }
        let b = Brokers::default();
        for id in 0..3 {
            b.request_sent(id);
        }
        b.response_received(0, 900, false);
        b.response_received(1, 1100, false);
        b.response_received(2, 800_000, false);
        l.refresh(clock::now_ms() | 1, 500, None, Some(&b));
        assert_eq!((0..6).filter(|&p| l.out(p)).collect::<Vec<_>>(), [2, 5]);
        // Leaders learnt from the cluster win over the last acknowledgement.
        let r = Leaders::default();
        r.update(6, |p| Some((p as i32 + 1) % 3));
        l.refreshed.store(0, Relaxed);
        l.refresh(clock::now_ms() | 3, 500, Some(&r), Some(&b));
        assert_eq!((0..6).filter(|&p| l.out(p)).collect::<Vec<_>>(), [1, 4]);
        // A partition slow by itself (it waited for a leader) leaves out no other.
        let m = Load::new(6);
        m.first_placed.store(l.first_placed.load(Relaxed), Relaxed);
        for p in 0..6 {
            m.acknowledged_by(p, (p % 3) as i32);
        }
        for _ in 0..8 {
            for p in [0, 1, 2, 3, 4] {
                m.placed(p);
                m.acknowledged(
                    p,
                    Some(&|| Some(if p == 2 { 1_000_000 } else { 5_000 })),
                    false,
                );
            }
        }
        m.refresh(clock::now_ms() | 1, 500, None, None);
        assert_eq!((0..6).filter(|&p| m.out(p)).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn every_partition_kept_waiting_leaves_only_the_slow_brokers_out() {
        // A busy cluster's first seconds: every partition has backlog that
        // has waited 200 ms (4 times the 5 ms latencies), so each is slow by
        // itself; broker 2 is also slow by its round trips. Only broker 2's
        // partitions are left out (not all, which would spread the messages
        // over every partition alike, the slow broker's included).
        let l = Load::new(6);
        l.first_placed
            .store(clock::coarse_ms().wrapping_sub(10_000) | 1, Relaxed);
        let now = clock::now_ms() | 1;
        for p in 0..6 {
            l.acknowledged_by(p, (p % 3) as i32);
            l.placed(p);
            l.acknowledged(p, Some(&|| Some(5_000)), false);
            l.placed(p);
            let s = l.slot(p).unwrap();
            s.sent.busy_since.store(now.wrapping_sub(200), Relaxed);
            s.acks.last_ack.store(now.wrapping_sub(200), Relaxed);
        }
        let b = Brokers::default();
        for (id, rtt) in [(0, 900), (1, 1_100), (2, 500_000)] {
            b.request_sent(id);
            b.response_received(id, rtt, false);
        }
        l.refresh(now, 0, None, Some(&b));
        assert_eq!((0..6).filter(|&p| l.out(p)).collect::<Vec<_>>(), [2, 5]);
        // Without the brokers' round trips nothing tells them apart: none.
        l.refreshed.store(0, Relaxed);
        l.refresh(now | 3, 0, None, None);
        assert_eq!((0..6).filter(|&p| l.out(p)).count(), 0);
    }

    #[test]
    fn the_wait_for_metadata_is_not_latency() {
        let l = Load::new(2);
        l.placed(0);
        l.placed(1);
        // Acknowledged at once, but produced 5 s earlier (parked for metadata).
        l.acknowledged(0, Some(&|| Some(5_000_000)), false);
        l.acknowledged(1, Some(&|| Some(5_000_000)), false);
        assert!(l.each().all(|s| s.acks.latency_us.load(Relaxed) < 100_000));
    }

    #[test]
    fn waiting_counts_as_latency() {
        let l = Load::new(3);
        l.first_placed
            .store(clock::coarse_ms().wrapping_sub(10_000) | 1, Relaxed);
        for p in 0..3 {
            l.placed(p);
            l.acknowledged(p, Some(&|| Some(5_000)), false);
        }
        // Partition 1 has backlog that has waited 200 ms, the others none.
        l.placed(1);
        let now = clock::now_ms() | 1;
        l.slot(1)
            .unwrap()
            .sent
            .busy_since
            .store(now.wrapping_sub(200), Relaxed);
        l.slot(1)
            .unwrap()
            .acks
            .last_ack
            .store(now.wrapping_sub(200), Relaxed);
        l.refresh(now, 0, None, None);
        assert!(l.out(1) && !l.out(0) && !l.out(2));
    }
}
