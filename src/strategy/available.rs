//! What a topic's availability is, as state: whether its leaders are all
//! known yet (right after librdkafka learnt its partitions they may not
//! be), which partitions have been seen with a leader, and whether a scan
//! found none usable ("dark"). Which partitions keyless placement may use
//! is decided from it in usable.rs; docs/availability.md explains the
//! warm-up, the costs and the outage rule.

use crate::{clock, rng};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};

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

/// A topic's availability state, shared by every thread. In the order
/// written (`repr(C)`): `settled`, read by every keyless placement, first.
#[repr(C)]
pub struct Availability {
    /// Every partition's leader is known.
    pub settled: AtomicBool,
    /// Clock (ms, made odd) when rdpart first placed a keyless message of
    /// the topic, which is when librdkafka has just learnt its partitions;
    /// 0: not yet.
    pub first_placed: AtomicU32,
    /// Clock (ms) of the last full availability scan while not settled.
    pub last_scan: AtomicU32,
    /// Clock (ms) until which the topic is known to have no available
    /// partition (0: none recorded).
    pub dark_until: AtomicU32,
    /// While not settled: which partitions have been seen with a leader.
    seen: once_cell::race::OnceBox<Seen>,
}

/// A bit per partition.
struct Seen {
    n: u32,
    words: Box<[AtomicU64]>,
}

impl Availability {
    /// `settled`: a topic with nothing to ask about (calls without a topic).
    pub const fn new(settled: bool) -> Availability {
        Availability {
            settled: AtomicBool::new(settled),
            first_placed: AtomicU32::new(0),
            last_scan: AtomicU32::new(0),
            seen: once_cell::race::OnceBox::new(),
            dark_until: AtomicU32::new(0),
        }
    }

    /// The bits of partitions seen with a leader, made for `n` partitions
    /// on first use (partitions beyond the first count it was made for are
    /// never marked).
    fn seen(&self, n: u32) -> &Seen {
        // A partition count may be anything up to 2^31 - 1: at most 128 KB
        // of bits (partitions beyond are never marked; the warm-up then
        // ends by time).
        let n = n.min(1 << 20);
        self.seen.get_or_init(|| {
            Box::new(Seen {
                n,
                words: (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
            })
        })
    }

    /// Records that partition `p` (of `n`) has been seen with a leader.
    pub fn mark_seen(&self, p: u32, n: u32) {
        let seen = self.seen(n);
        if p < seen.n {
            let (w, bit) = (&seen.words[p as usize / 64], 1u64 << (p % 64));
            if w.load(Relaxed) & bit == 0 {
                w.fetch_or(bit, Relaxed);
            }
        }
    }

    /// Records that partition `p` has a leader (a message was delivered
    /// there), if the topic is still waiting to see them all.
    pub fn delivered_to(&self, p: u32) {
        if self.settled.load(Relaxed) {
            return;
        }
        if let Some(seen) = self.seen.get() {
            if p < seen.n {
                seen.words[p as usize / 64].fetch_or(1 << (p % 64), Relaxed);
            }
        }
    }

    /// Whether partition `p` has been seen with a leader.
    pub fn was_seen(&self, p: u32, n: u32) -> bool {
        let seen = self.seen(n);
        p < seen.n && seen.words[p as usize / 64].load(Relaxed) >> (p % 64) & 1 == 1
    }

    /// Whether a recent scan found no usable partition.
    pub fn dark(&self) -> bool {
        let until = self.dark_until.load(Relaxed);
        until != 0 && (until.wrapping_sub(clock::now_ms()) as i32) > 0
    }

    /// Records that a scan found no usable partition, for `DARK_MS`.
    pub fn mark_dark(&self) {
        self.dark_until
            .store(clock::now_ms().wrapping_add(DARK_MS) | 1, Relaxed);
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
