//! adaptive: keyed messages as murmur2 over all partitions (per-key order
//! needs a fixed partition); keyless messages in runs (run.rs) that also
//! end after `adaptive.run.bytes` bytes, each run on a partition drawn at
//! random with weights that favour less backlog, among the partitions that
//! are not left out (far slower than the others, or not drained for
//! `adaptive.timeout.ms`; load.rs). Every `PROBE_MS` one keyless message
//! probes a left-out partition. What it learns comes through feedback.rs,
//! from the plugin's interceptors or `rdpart_delivered()`; without it,
//! runs by bytes, balanced by the counts placed. docs/adaptive.md has the
//! rules, their reasons and their costs.

mod feedback;

pub use feedback::{acknowledged, sending, Report};

use super::available::{pick, PROBES};
use super::backlog::{Load, PartitionLoad, PROBE_MS, WARM_RUN_BYTES};
use super::ctx::Ctx;
use super::view::View;
use crate::{clock, rng};
use std::sync::atomic::Ordering::*;

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
    let (load, v) = (t.load(n), &t.view);
    let bytes = load.message_bytes();
    if load.any_out.load(Relaxed) {
        if let Some(p) = probe(load, n, ctx, v) {
            load.starting(p);
            load.placed(p);
            return p;
        }
    }
    let p = t.with_lane(|lane| {
        // Within a long run too, every RECHECK messages: a broker found slow
        // meanwhile ends the run on its partition (the refresh itself runs
        // at most once per ms).
        if lane.run.count() % RECHECK == RECHECK - 1 {
            load.refresh(
                clock::coarse_ms() | 1,
                ctx.adaptive.timeout_ms,
                v.leaders_if_any(),
                v.brokers(),
            );
        }
        // Short runs until enough partitions have answered to compare:
        // the first messages reach several brokers, so a slow one shows.
        let warming;
        let limits = if load.warm.load(Relaxed) {
            &ctx.run
        } else {
            warming = super::run::RunLimits {
                bytes: ctx.run.bytes.min(WARM_RUN_BYTES),
                ..ctx.run
            };
            &warming
        };
        lane.run.place(
            n,
            limits,
            Some(bytes),
            |p| !load.out(p) && ctx.usable(v, p, n),
            |prev| {
                load.refresh(
                    clock::now_ms() | 1,
                    ctx.adaptive.timeout_ms,
                    v.leaders_if_any(),
                    v.brokers(),
                );
                let next = choose(load, prev, n, ctx, v, ctx.adaptive.weighting);
                load.starting(next);
                next
            },
        )
    });
    load.placed(p);
    p
}

/// Messages of a run between two looks at which partitions are left out.
pub(crate) const RECHECK: u32 = 64;

/// Topics with more partitions than this choose among a few sampled ones
/// instead of weighing them all.
pub(crate) const WEIGH_MAX: u32 = 1024;
/// Topics with more partitions than this weigh them all at most once per
/// millisecond (runs of a message or two would pay a pass each); other
/// switches sample.
pub(crate) const WEIGH_ALWAYS: u32 = 16;

/// For large topics: of a few random usable partitions that are not left
/// out, the one with the least backlog (the power of several choices), or
/// without weighting the first one drawn.
fn choose_sampled(
    load: &Load,
    prev: Option<u32>,
    n: u32,
    ctx: &Ctx,
    v: &View,
    weighting: bool,
) -> u32 {
    let mut best: Option<(i64, u32)> = None;
    for _ in 0..PROBES {
        let p = pick(n, prev);
        if load.out(p) || !ctx.usable(v, p, n) {
            continue;
        }
        let b = load.slot(p).map_or(0, PartitionLoad::backlog);
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
            .random_usable(v, n, prev)
            .unwrap_or_else(|| pick(n, prev)),
    }
}

/// A probe to a left-out partition, when one is due.
#[cold]
fn probe(load: &Load, n: u32, ctx: &Ctx, v: &View) -> Option<u32> {
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
    let tracked = n.min(load.known_partitions());
    if tracked == 0 {
        return None;
    }
    let start = load.probe_cursor.load(Relaxed) % tracked;
    for i in 0..tracked {
        let p = (start + i) % tracked;
        // One probe at a time per partition: the next waits for the last
        // one's acknowledgement (a broker a second slow gets one a second).
        if load.out(p) && load.slot(p).is_none_or(|s| s.backlog() <= 0) && ctx.usable(v, p, n) {
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
fn choose(load: &Load, prev: Option<u32>, n: u32, ctx: &Ctx, v: &View, weighting: bool) -> u32 {
    if n > WEIGH_MAX || (n > WEIGH_ALWAYS && !load.may_weigh()) {
        return choose_sampled(load, prev, n, ctx, v, weighting);
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
    let ahead = |s: &PartitionLoad| s.sent.placed.load(Relaxed) - s.sent.base.load(Relaxed);
    let eligible = |p: u32, s: &PartitionLoad| {
        Some(p) != prev && !s.sent.out.load(Relaxed) && ctx.in_rack(v, p)
    };
    let least = load
        .upto(n)
        .filter(|&(p, s)| eligible(p, s))
        .map(|(_, s)| ahead(s))
        .min();
    if let Some(least) = least {
        let score = |s: &PartitionLoad| (s.backlog().max(0) + (ahead(s) - least).max(0)) as u64;
        let max = load
            .upto(n)
            .filter(|&(p, s)| eligible(p, s))
            .map(|(_, s)| score(s))
            .max()
            .unwrap_or(0);
        let weight = |s: &PartitionLoad| if weighting { max + 1 - score(s) } else { 1 };
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
                Some(p) if ctx.usable(v, p, n) => return p,
                _ => {}
            }
        }
    }
    // Every other partition is left out or not usable: stay, or any usable,
    // but not one whose leader is down (a crashed broker's partitions while
    // every other broker waits for it to leave the ISR) while others exist.
    if let Some(p) = prev.filter(|&p| !load.out(p) && ctx.usable(v, p, n)) {
        return p;
    }
    if load.any_dead.load(Relaxed) {
        for _ in 0..PROBES {
            let p = pick(n, prev);
            if !load.dead(p) && ctx.usable(v, p, n) {
                return p;
            }
        }
    }
    let p = pick(n, prev);
    if ctx.usable(v, p, n) {
        return p;
    }
    ctx.random_usable(v, n, prev).unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::{RunLimits, TopicRef, TopicState};
    use crate::topics::Topics;
    use std::sync::atomic::AtomicU64;
    /// Full weighings of every partition (`may_weigh`), for the test below.
    pub(super) static FULL_PASSES: AtomicU64 = AtomicU64::new(0);

    #[test]
    fn counts_are_exact_while_the_topic_grows() {
        // Acknowledgements that land while the table grows are all counted
        // (100 -> 200 partitions under two threads).
        let topics: Topics<TopicState> = Topics::default();
        let t: &TopicState = topics.get_or_insert(0x40);
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
    fn runs_of_one_message_weigh_every_partition_at_most_once_per_ms() {
        let topics = Topics::default();
        let c = Ctx {
            run: RunLimits {
                bytes: 1,
                ..RunLimits::default()
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

    fn ctx(topics: &Topics<TopicState>) -> Ctx<'_> {
        Ctx::new(std::ptr::null(), TopicRef::Table(topics))
    }

    #[test]
    fn runs_favour_partitions_with_less_backlog() {
        let topics = Topics::default();
        let c = ctx(&topics);
        let t = c.topic();
        let l = t.load(4);
        for _ in 0..1000 {
            l.placed(3);
        }
        let mut counts = [0u32; 4];
        for _ in 0..4000 {
            counts[choose(l, None, 4, &c, &t.view, true) as usize] += 1;
        }
        // Weights 1001, 1001, 1001, 1: partition 3 about once in 3000.
        assert!(counts[3] < 10, "{counts:?}");
        assert!(counts[..3].iter().all(|&c| c > 1100), "{counts:?}");
        let mut uniform = [0u32; 4];
        for _ in 0..4000 {
            uniform[choose(l, None, 4, &c, &t.view, false) as usize] += 1;
        }
        assert!(uniform.iter().all(|&c| c > 800), "{uniform:?}");
    }
}
