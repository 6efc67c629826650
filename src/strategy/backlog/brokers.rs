//! What adaptive knows of a producer's brokers from their round trips, fed
//! by the plugin's `on_request_sent` and `on_response_received`
//! interceptors (every request: ApiVersion and Metadata at connection
//! time, before any message is produced, as well as Produce). A broker is
//! slow when its average round trip, or the time it has kept requests
//! waiting since its last response, is above the others' round trips by
//! adaptive's one rule (slow.rs); when its least round trip of the last
//! seconds (its floor: what no queue adds to) is above the others' floors
//! by the same rule, so that a broker behind a slow link stays slow while
//! a busy cluster's queues lengthen every round trip; or
//! when it is down: its connection failed under a request or went down
//! (a crashed broker; `on_broker_state_change`) and it has not answered or
//! come up since. adaptive then leaves out the
//! partitions it leads (load.rs), before any of their messages could be
//! acknowledged, until it answers again or another broker leads them. Fixed size, no locks: the
//! broker threads write, placement reads.

use super::slow::{self, halve_toward};
use crate::clock;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering::Relaxed};

/// Brokers tracked per producer (more are not judged).
pub(crate) const MAX_BROKERS: usize = 64;
/// The slow brokers one judgement returns at most.
pub(crate) const SLOW_MAX: usize = 16;
const EMPTY: i32 = i32::MIN;
/// Slow without another broker to compare with (µs).
pub(crate) const ALONE_US: u64 = 250_000;
/// A broker's floor is its least round trip over the last one or two
/// windows of this length (ms).
const FLOOR_WINDOW_MS: u32 = 2_000;

/// A producer's brokers, as their round trips show them.
pub struct Brokers {
    slots: [Slot; MAX_BROKERS],
}

struct Slot {
    id: AtomicI32,
    /// Requests sent and not yet answered.
    outstanding: AtomicI32,
    /// Clock (ms, odd) of the last response, or of the request that found
    /// none outstanding (0: nothing outstanding).
    waiting_since: AtomicU32,
    /// Average round trip, µs (0: none yet).
    rtt_us: AtomicU32,
    /// A request failed for want of the broker (its connection broke or
    /// the request timed out), and no answer came since.
    down: AtomicBool,
    /// Least round trip (µs, 0: none) of this window and of the one before.
    floor_now: AtomicU32,
    floor_prev: AtomicU32,
    /// Clock (ms, odd) this window began (0: no answer yet).
    floor_since: AtomicU32,
}

impl Slot {
    /// One more round trip for the floor.
    fn note_floor(&self, rtt_us: u32, now_ms: u32) {
        let since = self.floor_since.load(Relaxed);
        let cur = self.floor_now.load(Relaxed);
        // (As i32: `since` is odd, and may be a ms past `now_ms`.)
        if since == 0 || now_ms.wrapping_sub(since) as i32 >= FLOOR_WINDOW_MS as i32 {
            self.floor_prev.store(cur, Relaxed);
            self.floor_now.store(rtt_us.max(1), Relaxed);
            self.floor_since.store(now_ms | 1, Relaxed);
        } else if cur == 0 || rtt_us < cur {
            self.floor_now.store(rtt_us.max(1), Relaxed);
        }
    }

    /// The least round trip of the last one or two windows (µs, 0: none).
    fn floor(&self) -> u32 {
        match (self.floor_now.load(Relaxed), self.floor_prev.load(Relaxed)) {
            (0, p) => p,
            (c, 0) => c,
            (c, p) => c.min(p),
        }
    }
}

impl Default for Brokers {
    fn default() -> Self {
        Brokers {
            slots: std::array::from_fn(|_| Slot {
                id: AtomicI32::new(EMPTY),
                outstanding: AtomicI32::new(0),
                waiting_since: AtomicU32::new(0),
                rtt_us: AtomicU32::new(0),
                down: AtomicBool::new(false),
                floor_now: AtomicU32::new(0),
                floor_prev: AtomicU32::new(0),
                floor_since: AtomicU32::new(0),
            }),
        }
    }
}

/// Brokers judged slow: up to `SLOW_MAX` ids.
#[derive(Clone, Copy, Default)]
pub struct SlowBrokers {
    ids: [i32; SLOW_MAX],
    n: usize,
}

impl SlowBrokers {
    pub fn contains(&self, id: i32) -> bool {
        self.ids[..self.n].contains(&id)
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    fn push(&mut self, id: i32) {
        if self.n < SLOW_MAX && !self.contains(id) {
            self.ids[self.n] = id;
            self.n += 1;
        }
    }
}

impl Brokers {
    /// Broker `id`'s slot, claimed if new (None: a negative id, or full).
    fn slot(&self, id: i32) -> Option<&Slot> {
        if id < 0 {
            return None;
        }
        for s in &self.slots {
            match s.id.load(Relaxed) {
                x if x == id => return Some(s),
                EMPTY => match s.id.compare_exchange(EMPTY, id, Relaxed, Relaxed) {
                    Ok(_) => return Some(s),
                    Err(x) if x == id => return Some(s),
                    Err(_) => continue,
                },
                _ => continue,
            }
        }
        None
    }

    /// A request was sent to broker `id`.
    pub fn request_sent(&self, id: i32) {
        if let Some(s) = self.slot(id) {
            if s.outstanding.fetch_add(1, Relaxed) <= 0 {
                s.waiting_since.store(clock::coarse_ms() | 1, Relaxed);
            }
        }
    }

    /// Broker `id` answered a request after `rtt_us` (negative: it failed);
    /// `lost`: the request failed for want of the broker (its connection
    /// broke, or it timed out), not with an answer.
    pub fn response_received(&self, id: i32, rtt_us: i64, lost: bool) {
        self.response_received_at(id, rtt_us, lost, clock::coarse_ms());
    }

    fn response_received_at(&self, id: i32, rtt_us: i64, lost: bool, now_ms: u32) {
        let Some(s) = self.slot(id) else { return };
        if lost != s.down.load(Relaxed) {
            s.down.store(lost, Relaxed);
        }
        let left = s.outstanding.fetch_sub(1, Relaxed) - 1;
        if left <= 0 {
            s.outstanding.store(0, Relaxed);
            s.waiting_since.store(0, Relaxed);
        } else {
            s.waiting_since.store(now_ms | 1, Relaxed);
        }
        if rtt_us >= 0 {
            let l = rtt_us.min(u32::MAX as i64 / 2) as u32;
            s.rtt_us
                .store(halve_toward(s.rtt_us.load(Relaxed), l), Relaxed);
            s.note_floor(l, now_ms);
        }
    }

    /// Broker `id`'s connection went down (`up`: false), or is up again
    /// (librdkafka's broker states DOWN and UP).
    pub fn state_changed(&self, id: i32, up: bool) {
        if let Some(s) = self.slot(id) {
            if s.down.load(Relaxed) == up {
                s.down.store(!up, Relaxed);
            }
        }
    }

    /// The brokers down now (their connection broke under a request, or
    /// went down, and no answer came since).
    pub fn down(&self) -> SlowBrokers {
        let mut out = SlowBrokers::default();
        for s in &self.slots {
            let id = s.id.load(Relaxed);
            if id != EMPTY && s.down.load(Relaxed) {
                out.push(id);
            }
        }
        out
    }

    /// The brokers slow now: by their average round trip (or the time they
    /// have kept a request waiting) against the others' averages, unless
    /// that is every broker; or by their floor against the others' floors
    /// (a broker that has never answered: by the time it has kept its first
    /// request waiting); or down. With
    /// fewer than two brokers answered there is nothing to compare with: a
    /// broker is slow then above `ALONE_US` (far above any round trip
    /// within a region).
    pub fn slow(&self, now_ms: u32) -> SlowBrokers {
        let mut rtts = [0u32; MAX_BROKERS];
        let mut floors = [0u32; MAX_BROKERS];
        let (mut k, mut kf) = (0, 0);
        for s in &self.slots {
            if s.id.load(Relaxed) == EMPTY {
                continue;
            }
            let r = s.rtt_us.load(Relaxed);
            if r != 0 {
                rtts[k] = r;
                k += 1;
            }
            let f = s.floor();
            if f != 0 {
                floors[kf] = f;
                kf += 1;
            }
        }
        let limit_of = |sample: &mut [u32]| {
            if sample.len() < 2 {
                ALONE_US
            } else {
                slow::limit_us(sample).unwrap_or(ALONE_US)
            }
        };
        let limit = limit_of(&mut rtts[..k]);
        let floor_limit = limit_of(&mut floors[..kf]);
        // Every broker slow by its average or its wait (each acks=all
        // Produce kept waiting by a busy cluster) says nothing: then only
        // the floors, and brokers down, tell them apart.
        let mut out = SlowBrokers::default();
        let mut by_floor = SlowBrokers::default();
        // Counted apart from `out`, which holds at most SLOW_MAX ids.
        let (mut tracked, mut slow) = (0, 0);
        for s in &self.slots {
            let id = s.id.load(Relaxed);
            if id == EMPTY {
                continue;
            }
            tracked += 1;
            let since = s.waiting_since.load(Relaxed);
            let waiting_us = if s.outstanding.load(Relaxed) > 0 && since != 0 {
                (now_ms.wrapping_sub(since) as i32).max(0) as u64 * 1000
            } else {
                0
            };
            let floor = match s.floor() {
                0 => waiting_us,
                f => f as u64,
            };
            if s.down.load(Relaxed) || floor > floor_limit {
                by_floor.push(id);
                out.push(id);
                slow += 1;
            } else if (s.rtt_us.load(Relaxed) as u64).max(waiting_us) > limit {
                out.push(id);
                slow += 1;
            }
        }
        if tracked > 1 && slow == tracked {
            by_floor
        } else {
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Broker `id` sent a request and answered it in `rtt` µs at `at` (ms).
    fn answers(b: &Brokers, id: i32, rtt: i64, at: u32) {
        b.request_sent(id);
        b.response_received_at(id, rtt, false, at);
    }

    #[test]
    fn a_broker_that_keeps_requests_waiting_is_slow_before_it_answers() {
        let b = Brokers::default();
        let now = clock::coarse_ms();
        for id in [1, 2, 3] {
            b.request_sent(id);
        }
        b.response_received(1, 800, false);
        b.response_received(3, 1200, false);
        assert!(
            b.slow(now).is_empty(),
            "broker 2 has waited for nothing yet"
        );
        let s = b.slow(now.wrapping_add(200) | 1);
        assert!(s.contains(2) && !s.contains(1) && !s.contains(3));
        // It answers, slowly: slow by its round trip.
        b.response_received(2, 600_000, false);
        assert!(b.slow(now.wrapping_add(200) | 1).contains(2));
        // Fast again: a few fast answers bring it back.
        for _ in 0..8 {
            b.request_sent(2);
            b.response_received(2, 900, false);
        }
        assert!(b.slow(now.wrapping_add(200) | 1).is_empty());
    }

    #[test]
    fn a_broker_whose_connection_broke_is_down_until_it_answers() {
        let b = Brokers::default();
        let now = clock::coarse_ms();
        for id in [1, 2, 3] {
            b.request_sent(id);
            b.response_received(id, 900, false);
        }
        assert!(b.slow(now).is_empty());
        // Killed: its in-flight request fails with its connection, and
        // nothing is outstanding afterwards (librdkafka cannot reconnect).
        b.request_sent(2);
        b.response_received(2, -1, true);
        let s = b.slow(now);
        assert!(s.contains(2) && !s.contains(1) && !s.contains(3));
        assert!(
            b.slow(now.wrapping_add(60_000) | 1).contains(2),
            "down until it answers"
        );
        // Back: its first answer ends it.
        b.request_sent(2);
        b.response_received(2, 900, false);
        assert!(b.slow(now).is_empty());
        // Killed with nothing in flight: its connection goes down.
        b.state_changed(3, false);
        assert!(b.slow(now).contains(3) && b.down().contains(3));
        b.state_changed(3, true);
        assert!(b.slow(now).is_empty());
    }

    #[test]
    fn a_broker_behind_a_slow_link_stays_slow_when_every_round_trip_grows() {
        // Brokers 1 and 3 answer in 1 ms, broker 2 (a link 500 ms long) in
        // 500 ms; then the cluster gets busy and 1 and 3 answer in 200 ms
        // on average: 4 times that is above 500 ms, but their floor stays.
        let b = Brokers::default();
        let t = clock::coarse_ms();
        for (id, rtt) in [(1, 1_000), (3, 1_000), (2, 500_000)] {
            answers(&b, id, rtt, t);
        }
        assert!(b.slow(t).contains(2));
        for i in 0..20 {
            for (id, rtt) in [(1, 200_000), (3, 200_000), (2, 500_000)] {
                answers(&b, id, rtt, t.wrapping_add(100 * i));
            }
        }
        let busy = t.wrapping_add(1_900) | 1;
        let s = b.slow(busy);
        assert!(
            s.contains(2) && !s.contains(1) && !s.contains(3),
            "by its floor"
        );
        // A window later, the floor is that window's and the one before's
        // least: one slow answer at a window's start does not raise it.
        answers(&b, 1, 400_000, t.wrapping_add(2_100));
        assert!(!b.slow(t.wrapping_add(2_100) | 1).contains(1));
        // Windows of only slow answers raise broker 1's floor too.
        for i in 0..40 {
            answers(&b, 1, 500_000, t.wrapping_add(2_200 + 100 * i));
        }
        let later = t.wrapping_add(6_200) | 1;
        answers(&b, 3, 1_000, later);
        assert!(b.slow(later).contains(1), "slow once its floor is 500 ms");
        // Fast again: its first fast answer lowers its floor at once.
        answers(&b, 2, 900, later);
        assert!(!b.slow(later).contains(2));
    }

    #[test]
    fn a_broker_that_never_answered_is_slow_by_its_first_wait() {
        // Every request's round trip is 300 ms on a busy cluster (4 times
        // that is the limit by averages); broker 2 has not answered its
        // first request in 200 ms, while the others' floor is 1 ms.
        let b = Brokers::default();
        let t = clock::coarse_ms();
        for id in [1, 3] {
            answers(&b, id, 1_000, t);
            for _ in 0..10 {
                answers(&b, id, 300_000, t);
            }
        }
        b.request_sent(2);
        let s = b.slow(t.wrapping_add(200) | 1);
        assert!(s.contains(2) && !s.contains(1) && !s.contains(3));
    }

    #[test]
    fn every_broker_kept_waiting_leaves_only_the_slow_floor_out() {
        // The first seconds of acks=all on a busy cluster: brokers 1 and 3
        // answered their first requests in 1-2 ms, and each has a Produce
        // waiting 100 ms; broker 2 has not answered in 300 ms. By averages
        // and waits every broker is slow; by floors only broker 2.
        let b = Brokers::default();
        let t = clock::coarse_ms();
        for id in [1, 3] {
            answers(&b, id, 1_500, t);
        }
        b.request_sent(2);
        for id in [1, 3] {
            b.request_sent(id);
        }
        let s = b.slow(t.wrapping_add(300) | 1);
        assert!(s.contains(2) && !s.contains(1) && !s.contains(3));
    }

    #[test]
    fn more_brokers_kept_waiting_than_one_judgement_holds_leave_only_the_slow_floor_out() {
        // As above with 20 healthy brokers (more than SLOW_MAX) all waiting.
        let b = Brokers::default();
        let t = clock::coarse_ms();
        for id in 1..=20 {
            answers(&b, id, 1_500, t);
        }
        b.request_sent(99);
        for id in 1..=20 {
            b.request_sent(id);
        }
        let s = b.slow(t.wrapping_add(300) | 1);
        assert!(s.contains(99) && (1..=20).all(|id| !s.contains(id)));
    }

    #[test]
    fn one_broker_alone_is_slow_only_far_above_any_round_trip() {
        let b = Brokers::default();
        b.request_sent(7);
        b.response_received(7, 120_000, false);
        assert!(b.slow(clock::coarse_ms()).is_empty());
        b.request_sent(7);
        b.response_received(7, 900_000, false);
        assert!(b.slow(clock::coarse_ms()).contains(7));
    }

    #[test]
    fn brokers_past_the_table_and_negative_ids_are_not_judged() {
        let b = Brokers::default();
        let now = clock::coarse_ms();
        // -1 (librdkafka's "no broker"): two requests, one answer.
        b.request_sent(-1);
        b.request_sent(-1);
        b.response_received(-1, 10, false);
        for id in 0..1000 {
            b.request_sent(id);
        }
        // Ten seconds on, every tracked broker has kept its request waiting
        // far above ALONE_US: the first ones are slow, those past the
        // table's MAX_BROKERS slots and the negative id are not tracked.
        let later = now.wrapping_add(10_000) | 1;
        let s = b.slow(later);
        assert!(s.contains(0) && s.contains(1), "tracked brokers are judged");
        for id in [MAX_BROKERS as i32, 999, -1] {
            assert!(!s.contains(id), "{id} is not tracked");
        }
        // A tracked broker answering is no longer slow; an untracked one
        // answering changes nothing.
        b.response_received(0, 1_000, false);
        b.response_received(999, 1_000, true);
        let s = b.slow(later);
        assert!(!s.contains(0) && s.contains(1));
        assert!(b.down().is_empty(), "999 is not tracked, so not down");
    }
}
