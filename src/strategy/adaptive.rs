//! adaptive: keyed messages as murmur2 over all partitions (per-key order
//! needs a fixed partition); keyless messages in sticky runs that end after
//! `adaptive.run.bytes` bytes (or `sticky.messages` messages, or
//! `sticky.linger.ms`), each run on a partition drawn at random with
//! weights that favour less backlog, among the partitions whose broker is
//! not slow.
//!
//! What it knows comes from the plugin's interceptors (plugin/interceptors.rs):
//! - *backlog*: per partition, messages placed and not yet acknowledged.
//!   Every message this strategy places counts +1 (keyed, keyless, probes),
//!   a message the application sent to an explicit partition counts +1 in
//!   `on_send`, and every acknowledgement, whatever its error (delivered,
//!   failed, timed out, purged), counts -1: after a flush the backlog is 0.
//! - *latency*: per partition, an average of the delivery latency of its
//!   acknowledged messages (`rd_kafka_message_latency`), halving the
//!   distance to each new sample.
//! - the size of the message being placed, handed over by `on_send` (which
//!   runs in the producing thread right before the partitioner) through a
//!   thread-local; messages parked before metadata are placed later on
//!   librdkafka's thread, where the size is the topic's running average.
//!
//! A partition is *left out* while either
//! - its latency is above `SLOW_FACTOR` times the lower quartile of the
//!   partitions' latencies and above `SLOW_FLOOR_US` (far slower than the
//!   others; this is what KIP-794 lacks: a slow broker that does drain has
//!   zero backlog after each round trip and would look the most
//!   attractive), or
//! - it has backlog and has not drained for `adaptive.timeout.ms` while
//!   other partitions were acknowledged (KIP-794's availability timeout),
//!
//! and comes back when its latency falls: every `PROBE_MS` one keyless
//! message goes to a left-out partition (in turn), a probe whose
//! acknowledgement updates the latency. Leaderless partitions are left out
//! as by every keyless strategy (available.rs).
//!
//! Without acknowledgements (the plain callback, or an rdpart_t nobody
//! reports deliveries to) the backlog only grows, the weights even out the
//! counts placed, nothing is ever slow: sticky runs by bytes, balanced.
//!
//! Costs: a keyed message adds one relaxed atomic add to its partition's
//! cache line (one line per partition); a keyless message in a run, the
//! same plus a few loads; a switch, one pass over the partitions (weights,
//! and at most once per millisecond per topic, the left-out flags), with
//! no lock and no allocation (the per-topic table is allocated once, when
//! the topic is first placed, and again only if it grows).

use super::available::{pick, PROBES};
use super::Ctx;
use crate::topics::TopicState;
use crate::{clock, rng};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU32, Ordering::*};

/// Slow: latency above this many times the lower quartile...
pub(crate) const SLOW_FACTOR: u64 = 4;
/// ...and above this (µs): ordinary jitter never leaves a partition out.
pub(crate) const SLOW_FLOOR_US: u32 = 50_000;
/// One probe to a left-out partition this often (ms).
pub(crate) const PROBE_MS: u32 = 100;
/// Placement totals are compared over epochs this long (ms).
pub(crate) const EPOCH_MS: u32 = 1000;
/// Partitions sampled for the latency quartile (no allocation).
const SAMPLE: usize = 256;
/// Partitions tracked per topic (at most 8 MB of counters); beyond them, a
/// partition has no backlog and is never left out. A partition count comes
/// from the caller and may be anything up to 2^31 - 1.
pub(crate) const MAX_TRACKED: u32 = 1 << 16;
/// Counters live in segments that are never moved or copied: segment k
/// holds `FIRST << k` partitions, so a topic's counters take at most twice
/// what its partitions need, made only for partitions counted.
const FIRST: u32 = 8;
const SEGMENTS: usize = 14;
const _: () = assert!(FIRST as u64 * ((1 << SEGMENTS) - 1) >= MAX_TRACKED as u64);

/// The segment of partition `p` and its index there.
#[inline]
fn locate(p: u32) -> (usize, usize) {
    let q = p / FIRST + 1;
    let k = 31 - q.leading_zeros();
    (k as usize, (p - FIRST * ((1 << k) - 1)) as usize)
}

thread_local! {
    /// The size of the message on_send saw last in this thread, + 1 (0: none).
    static SENDING: Cell<u32> = const { Cell::new(0) };
}

/// Called by the plugin's on_send for a message the partitioner places
/// next: its size, for this thread's next placement and the topic's average.
#[inline]
pub fn note_sending(t: &TopicState, bytes: usize) {
    let b = bytes.min(u32::MAX as usize - 1) as u32;
    let _ = SENDING.try_with(|c| c.set(b + 1));
    t.load_table().note_size(b);
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
pub struct Slot {
    sent: Sent,
    acks: Acks,
}

#[repr(align(64))]
#[derive(Default)]
struct Sent {
    /// Messages placed on (or sent to) the partition.
    placed: AtomicI64,
    /// Clock (ms) when the backlog last went from none to some.
    busy_since: AtomicU32,
    /// Left out at the last refresh.
    out: AtomicBool,
    /// `placed` when the current epoch began.
    base: AtomicI64,
}

#[repr(align(64))]
#[derive(Default)]
struct Acks {
    /// Messages acknowledged.
    acked: AtomicI64,
    /// Clock (ms) of its last acknowledgement (0: none).
    last_ack: AtomicU32,
    /// Average acknowledgement latency, µs (0: no sample yet).
    latency_us: AtomicU32,
}

impl Slot {
    #[inline]
    fn backlog(&self) -> i64 {
        self.sent.placed.load(Relaxed) - self.acks.acked.load(Relaxed)
    }
}

/// A topic's partitions, as adaptive sees them.
pub struct Load {
    /// Counter segments (see `locate`), made on first use, freed on drop.
    segs: [AtomicPtr<Slot>; SEGMENTS],
    /// Partitions `0..covered` all have counters.
    covered: AtomicU32,
    /// Clock (ms) of the last full weighing of the partitions (`choose`).
    weighed: AtomicU32,
    /// Clock (ms) of the last acknowledgement of any partition.
    last_ack: AtomicU32,
    /// Clock (ms) of the topic's first placement (0: none yet). Messages
    /// produced before the producer knew the topic's partitions waited
    /// for metadata before any placement: that wait is not the broker's.
    first_placed: AtomicU32,
    /// Clock (ms) of the last refresh of the left-out flags.
    refreshed: AtomicU32,
    /// Clock (ms) when the current epoch began.
    epoch: AtomicU32,
    /// Some partition is left out.
    any_out: AtomicBool,
    /// Clock (ms) of the next probe.
    next_probe: AtomicU32,
    /// Where the next probe looks first.
    probe_cursor: AtomicU32,
    /// Running average of message sizes (bytes), for placements whose
    /// size on_send did not hand over.
    avg_bytes: AtomicU32,
}

impl Drop for Load {
    fn drop(&mut self) {
        for (k, seg) in self.segs.iter_mut().enumerate() {
            let p = *seg.get_mut();
            if !p.is_null() {
                // SAFETY: made by `segment` from a boxed slice of this length.
                drop(unsafe {
                    Box::from_raw(std::ptr::slice_from_raw_parts_mut(p, (FIRST as usize) << k))
                });
            }
        }
    }
}

impl Load {
    fn new(n: u32) -> Load {
        let l = Load {
            segs: Default::default(),
            covered: AtomicU32::new(0),
            weighed: AtomicU32::new(0),
            last_ack: AtomicU32::new(0),
            first_placed: AtomicU32::new(0),
            refreshed: AtomicU32::new(0),
            epoch: AtomicU32::new(0),
            any_out: AtomicBool::new(false),
            next_probe: AtomicU32::new(0),
            probe_cursor: AtomicU32::new(0),
            avg_bytes: AtomicU32::new(0),
        };
        l.ensure(n);
        l
    }

    /// Partition `p`'s counters, if it has any.
    #[inline]
    fn slot(&self, p: u32) -> Option<&Slot> {
        if p >= MAX_TRACKED {
            return None;
        }
        let (k, i) = locate(p);
        let s = self.segs[k].load(Acquire);
        // SAFETY: a segment of `FIRST << k` slots, live while self is.
        (!s.is_null()).then(|| unsafe { &*s.add(i) })
    }

    /// Partition `p`'s counters, made if needed (None: beyond MAX_TRACKED).
    #[inline]
    fn slot_or_make(&self, p: u32) -> Option<&Slot> {
        if p >= MAX_TRACKED {
            return None;
        }
        let (k, i) = locate(p);
        let mut s = self.segs[k].load(Acquire);
        if s.is_null() {
            s = self.segment(k);
        }
        // SAFETY: as in slot().
        Some(unsafe { &*s.add(i) })
    }

    /// Segment `k`, made on first use (once: a racing maker frees its own).
    #[cold]
    fn segment(&self, k: usize) -> *mut Slot {
        let len = (FIRST as usize) << k;
        let new =
            Box::into_raw((0..len).map(|_| Slot::default()).collect::<Box<[Slot]>>()) as *mut Slot;
        match self.segs[k].compare_exchange(std::ptr::null_mut(), new, AcqRel, Acquire) {
            Ok(_) => new,
            Err(other) => {
                // SAFETY: ours, never shared.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(new, len)) });
                other
            }
        }
    }

    /// Makes counters for partitions `0..n` (n capped at MAX_TRACKED).
    #[inline]
    fn ensure(&self, n: u32) {
        let n = n.min(MAX_TRACKED);
        if self.covered.load(Relaxed) < n {
            self.cover(n);
        }
    }

    #[cold]
    fn cover(&self, n: u32) {
        if n == 0 {
            return;
        }
        for k in 0..=locate(n - 1).0 {
            if self.segs[k].load(Acquire).is_null() {
                self.segment(k);
            }
        }
        self.covered.fetch_max(n, Relaxed);
    }

    /// Partitions known to exist: the most the partitioner was told of.
    #[inline]
    pub fn known_partitions(&self) -> u32 {
        self.covered.load(Relaxed)
    }

    /// Partitions `0..n` with their counters, in order (those made).
    fn upto(&self, n: u32) -> impl Iterator<Item = (u32, &Slot)> {
        let n = n.min(MAX_TRACKED);
        self.segs.iter().enumerate().flat_map(move |(k, seg)| {
            let first = FIRST * ((1 << k) - 1);
            let p = seg.load(Acquire);
            let len = if p.is_null() || first >= n {
                0
            } else {
                ((FIRST << k) as usize).min((n - first) as usize)
            };
            // SAFETY: as in slot().
            (0..len).map(move |i| (first + i as u32, unsafe { &*p.add(i) }))
        })
    }

    /// Every partition's counters made so far.
    fn each(&self) -> impl Iterator<Item = &Slot> {
        self.segs.iter().enumerate().flat_map(|(k, seg)| {
            let p = seg.load(Acquire);
            let len = if p.is_null() {
                0
            } else {
                (FIRST as usize) << k
            };
            // SAFETY: as in slot().
            (0..len).map(move |i| unsafe { &*p.add(i) })
        })
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
    fn starting(&self, p: u32) {
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
            // Halve the distance: a recovered broker is back in a few probes.
            let new = if old == 0 {
                l.max(1)
            } else {
                (old / 2 + l / 2).max(1)
            };
            if new != old {
                a.latency_us.store(new, Relaxed);
            }
        }
    }

    /// Messages placed and not acknowledged, over all partitions.
    pub fn in_flight(&self) -> i64 {
        self.each().map(Slot::backlog).sum()
    }

    #[inline]
    fn out(&self, p: u32) -> bool {
        self.slot(p).is_some_and(|s| s.sent.out.load(Relaxed))
    }

    /// Recomputes which partitions are left out (at most once per ms).
    fn refresh(&self, now: u32, timeout_ms: u32) {
        // At most once per ms, and per ms per 1024 partitions.
        let covered = self.covered.load(Relaxed);
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
            let lead = |s: &Slot| (s.sent.placed.load(Relaxed) - s.sent.base.load(Relaxed)) / 2;
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
        let limit = if k >= 1 {
            let q = k / 4;
            let (_, quartile, _) = sample[..k].select_nth_unstable(q);
            (*quartile as u64 * SLOW_FACTOR).max(SLOW_FLOOR_US as u64)
        } else {
            u64::MAX
        };
        let topic_ack = self.last_ack.load(Relaxed);
        let first_placed = self.first_placed.load(Relaxed);
        let mut any = false;
        for s in self.each() {
            // Waiting counts as latency: a partition with backlog and no
            // acknowledgement for `age` has a latency of at least `age`,
            // so a broker that stops answering is left out within about
            // SLOW_FACTOR of the others' round trip, not after its own.
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
            let out = slow || stalled;
            if s.sent.out.load(Relaxed) != out {
                s.sent.out.store(out, Relaxed);
            }
            any |= out;
        }
        self.any_out.store(any, Relaxed);
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
    fn message_bytes(&self) -> u32 {
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

impl TopicState {
    /// This topic's load table with counters for partitions `0..n`, made
    /// on first use.
    #[inline]
    pub fn load(&self, n: u32) -> &Load {
        let l = self.load_table();
        l.ensure(n);
        l
    }

    /// This topic's load table, made on first use.
    #[inline]
    pub fn load_table(&self) -> &Load {
        // SAFETY: installed below from Box::into_raw; freed only on drop.
        match unsafe { self.load_ptr().load(Acquire).as_ref() } {
            Some(l) => l,
            None => self.make_load(),
        }
    }

    /// The load table, if adaptive placed any message of the topic.
    pub fn load_if_any(&self) -> Option<&Load> {
        // SAFETY: as above.
        unsafe { self.load_ptr().load(Acquire).as_ref() }
    }

    #[cold]
    fn make_load(&self) -> &Load {
        let cell: &AtomicPtr<Load> = self.load_ptr();
        let new = Box::into_raw(Box::new(Load::new(0)));
        match cell.compare_exchange(std::ptr::null_mut(), new, AcqRel, Acquire) {
            // SAFETY: now owned by the topic.
            Ok(_) => unsafe { &*new },
            Err(other) => {
                // SAFETY: ours, never shared; other is the topic's.
                drop(unsafe { Box::from_raw(new) });
                unsafe { &*other }
            }
        }
    }
}

/// Counts a keyed placement (the keyed path itself is murmur2's). Keyed
/// messages start no run, so a partition's waiting starts here when it had
/// no backlog.
#[inline]
pub fn keyed(p: u32, n: u32, ctx: &Ctx) {
    let load = ctx.topic().load(n);
    let _ = load.message_bytes();
    load.starting(p);
    load.placed(p);
}

/// Places a keyless message.
#[inline]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let t = ctx.topic();
    let load = t.load(n);
    let bytes = load.message_bytes();
    let limits = ctx.sticky;
    if load.any_out.load(Relaxed) {
        if let Some(p) = probe(load, n, ctx, t) {
            load.starting(p);
            load.placed(p);
            return p;
        }
    }
    let p = t.with_lane(|lane| {
        let tag = lane.sticky_tag;
        let current = (tag >= 1 && tag <= n).then(|| tag - 1);
        if let Some(p) = current {
            if lane.sticky_count < limits.messages
                && lane.run_bytes < limits.run_bytes as u64
                && (limits.linger_ms == 0
                    || clock::elapsed_below(lane.sticky_since, limits.linger_ms))
                && !load.out(p)
                && ctx.usable(t, p, n)
            {
                lane.sticky_count += 1;
                lane.run_bytes += bytes as u64;
                return p;
            }
        }
        let now = clock::now_ms() | 1;
        load.refresh(now, limits.timeout_ms);
        let next = choose(load, current, n, ctx, t, limits.weighting);
        load.starting(next);
        lane.sticky_tag = next + 1;
        lane.sticky_count = 1;
        lane.run_bytes = bytes as u64;
        lane.sticky_since = if limits.linger_ms > 0 { now } else { 0 };
        next
    });
    load.placed(p);
    p
}

/// Topics with more partitions than this choose among a few sampled ones
/// instead of weighing them all.
pub(crate) const WEIGH_MAX: u32 = 1024;
/// Topics with more partitions than this weigh them all at most once per
/// millisecond (runs of a message or two would pay a pass each); other
/// switches sample.
pub(crate) const WEIGH_ALWAYS: u32 = 16;

impl Load {
    /// Whether this switch may weigh every partition: the first in its
    /// millisecond.
    fn may_weigh(&self) -> bool {
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
        self.segs
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.load(Relaxed).is_null())
            .map(|(k, _)| std::mem::size_of::<Slot>() * ((FIRST as usize) << k))
            .sum()
    }
}

/// For large topics: of a few random usable partitions that are not left
/// out, the one with the least backlog (the power of several choices), or
/// without weighting the first one drawn.
fn choose_sampled(
    load: &Load,
    prev: Option<u32>,
    n: u32,
    ctx: &Ctx,
    t: &TopicState,
    weighting: bool,
) -> u32 {
    let mut best: Option<(i64, u32)> = None;
    for _ in 0..PROBES {
        let p = pick(n, prev);
        if load.out(p) || !ctx.usable(t, p, n) {
            continue;
        }
        let b = load.slot(p).map_or(0, Slot::backlog);
        if best.is_none_or(|(bb, _)| b < bb) {
            best = Some((b, p));
        }
        if !weighting {
            break;
        }
    }
    match best {
        Some((_, p)) => p,
        None => ctx
            .random_usable(t, n, prev)
            .unwrap_or_else(|| pick(n, prev)),
    }
}

/// A probe to a left-out partition, when one is due.
#[cold]
fn probe(load: &Load, n: u32, ctx: &Ctx, t: &TopicState) -> Option<u32> {
    let now = clock::coarse_ms() | 1;
    let due = load.next_probe.load(Relaxed);
    if due != 0 && (now.wrapping_sub(due) as i32) < 0 {
        return None;
    }
    if load
        .next_probe
        .compare_exchange(due, now.wrapping_add(PROBE_MS) | 1, Relaxed, Relaxed)
        .is_err()
    {
        return None;
    }
    let tracked = n.min(load.covered.load(Relaxed));
    if tracked == 0 {
        return None;
    }
    let start = load.probe_cursor.load(Relaxed) % tracked;
    for i in 0..tracked {
        let p = (start + i) % tracked;
        if load.out(p) && ctx.usable(t, p, n) {
            load.probe_cursor.store(p + 1, Relaxed);
            return Some(p);
        }
    }
    None
}

/// The next run's partition: at random among the usable partitions that
/// are not left out (other than `prev` when there are others), weighted by
/// `max load + 1 - load`, where a partition's load is its backlog plus its
/// lead this epoch (uniform without weighting). Failing that, any usable
/// one; failing that, any.
fn choose(
    load: &Load,
    prev: Option<u32>,
    n: u32,
    ctx: &Ctx,
    t: &TopicState,
    weighting: bool,
) -> u32 {
    if n > WEIGH_MAX || (n > WEIGH_ALWAYS && !load.may_weigh()) {
        return choose_sampled(load, prev, n, ctx, t, weighting);
    }
    if n == 1 {
        return 0;
    }
    #[cfg(test)]
    if n > WEIGH_ALWAYS {
        tests::FULL_PASSES.fetch_add(1, Relaxed);
    }
    // A partition's load: its backlog, plus how far it is ahead of the
    // least-placed eligible partition this epoch. Weights `max + 1 - load`
    // favour less backlog (KIP-794) and pull the epoch's totals together,
    // so runs of random length still spread evenly over a run; a partition
    // back from being left out starts the next epoch even, not with a debt.
    // Each pass walks the counters in order, segment by segment.
    let ahead = |s: &Slot| s.sent.placed.load(Relaxed) - s.sent.base.load(Relaxed);
    let eligible = |p: u32, s: &Slot| Some(p) != prev && !s.sent.out.load(Relaxed);
    let least = load
        .upto(n)
        .filter(|&(p, s)| eligible(p, s))
        .map(|(_, s)| ahead(s))
        .min();
    if let Some(least) = least {
        let score = |s: &Slot| (s.backlog().max(0) + (ahead(s) - least).max(0)) as u64;
        let max = load
            .upto(n)
            .filter(|&(p, s)| eligible(p, s))
            .map(|(_, s)| score(s))
            .max()
            .unwrap_or(0);
        let weight = |s: &Slot| if weighting { max + 1 - score(s) } else { 1 };
        let total: u64 = load
            .upto(n)
            .filter(|&(p, s)| eligible(p, s))
            .map(|(_, s)| weight(s))
            .sum();
        for _ in 0..PROBES {
            let mut r = rng::below_u64(total);
            let mut chosen = None;
            for (p, s) in load.upto(n).filter(|&(p, s)| eligible(p, s)) {
                let w = weight(s);
                if r < w {
                    chosen = Some(p);
                    break;
                }
                r -= w;
            }
            match chosen {
                Some(p) if ctx.usable(t, p, n) => return p,
                _ => {}
            }
        }
    }
    // Every other partition is left out or not usable: stay, or any usable.
    if let Some(p) = prev.filter(|&p| !load.out(p) && ctx.usable(t, p, n)) {
        return p;
    }
    let p = pick(n, prev);
    if ctx.usable(t, p, n) {
        return p;
    }
    ctx.random_usable(t, n, prev).unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{StickyLimits, TopicRef};
    use crate::topics::Topics;
    use std::sync::atomic::AtomicU64;

    /// Full weighings of every partition (`may_weigh`), for the test below.
    pub(super) static FULL_PASSES: AtomicU64 = AtomicU64::new(0);

    /// The README states adaptive's memory per topic.
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
    fn segments_cover_every_partition_once() {
        let mut seen = std::collections::HashSet::new();
        for p in 0..MAX_TRACKED {
            let (k, i) = locate(p);
            assert!(k < SEGMENTS && i < (FIRST as usize) << k, "{p}");
            assert!(seen.insert((k, i)), "{p}");
        }
    }

    #[test]
    fn explicit_partitions_take_memory_in_proportion() {
        // One message to each partition 0..3999 (the audit: 990 MB of RSS,
        // an O(n) copy per call): counters for at most twice as many.
        let l = Load::new(0);
        for p in 0..4000 {
            l.placed(p);
        }
        assert!(
            l.counter_bytes() <= 2 * 4000 * std::mem::size_of::<Slot>() + 8 * 1024,
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
    fn counts_are_exact_while_the_topic_grows() {
        // The audit: acknowledgements landing on a table being copied were
        // lost (100 -> 200 partitions under two threads: -86).
        let topics = Topics::new();
        let t = topics.get_or_insert(0x40);
        t.load(100);
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..200_000u32 {
                    let l = t.load(100);
                    l.placed(i % 100);
                    l.acknowledged(i % 100, None, false);
                }
            });
            s.spawn(|| {
                for n in 100..=4000 {
                    t.load(n).placed(n - 1);
                    t.load(n).acknowledged(n - 1, None, false);
                }
            });
        });
        assert_eq!(t.load_if_any().unwrap().in_flight(), 0);
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
    fn runs_of_one_message_weigh_every_partition_at_most_once_per_ms() {
        let topics = Topics::new();
        let c = Ctx {
            sticky: StickyLimits {
                run_bytes: 1,
                ..StickyLimits::default()
            },
            ..ctx(&topics)
        };
        let before = FULL_PASSES.load(Relaxed);
        let start = std::time::Instant::now();
        for _ in 0..20_000 {
            place(1024, &c);
        }
        let ms = start.elapsed().as_millis() as u64 + 2;
        let passes = FULL_PASSES.load(Relaxed) - before;
        assert!(passes <= ms + 1, "{passes} full passes in {ms} ms");
        assert!(passes >= 1, "the partitions were never weighed");
    }

    fn ctx(topics: &Topics) -> Ctx<'_> {
        Ctx {
            rkt: std::ptr::null(),
            host: None,
            topic: TopicRef::Table(topics),
            sticky: StickyLimits::default(),
            name: None,
            caller: 0,
        }
    }

    #[test]
    fn every_acknowledgement_ends_a_placement() {
        let l = Load::new(6);
        for p in 0..600 {
            l.placed(p % 6);
        }
        l.placed(MAX_TRACKED); // beyond the tracked: not counted either way
        assert_eq!(l.in_flight(), 600);
        for p in 0..600 {
            l.acknowledged(p % 6, Some(&|| Some(5_000)), false);
        }
        l.acknowledged(MAX_TRACKED, None, false);
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
        l.refresh(clock::now_ms() | 1, 500);
        let out: Vec<u32> = (0..6).filter(|&p| l.out(p)).collect();
        assert_eq!(out, [2, 5]);
        // Fast again: a few fast acknowledgements bring it back.
        for _ in 0..6 {
            l.placed(2);
            l.acknowledged(2, Some(&|| Some(5_000)), false);
        }
        l.refreshed.store(0, Relaxed);
        l.refresh(clock::now_ms() | 3, 500);
        assert!(!l.out(2) && l.out(5));
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
        l.refresh(now, 0);
        assert!(l.out(1) && !l.out(0) && !l.out(2));
    }

    #[test]
    fn runs_favour_partitions_with_less_backlog() {
        let topics = Topics::new();
        let c = ctx(&topics);
        let t = c.topic();
        let l = t.load(4);
        for _ in 0..1000 {
            l.placed(3);
        }
        let mut counts = [0u32; 4];
        for _ in 0..4000 {
            counts[choose(l, None, 4, &c, t, true) as usize] += 1;
        }
        // Weights 1001, 1001, 1001, 1: partition 3 about once in 3000.
        assert!(counts[3] < 10, "{counts:?}");
        assert!(counts[..3].iter().all(|&c| c > 1100), "{counts:?}");
        let mut uniform = [0u32; 4];
        for _ in 0..4000 {
            uniform[choose(l, None, 4, &c, t, false) as usize] += 1;
        }
        assert!(uniform.iter().all(|&c| c > 800), "{uniform:?}");
    }
}
