//! Per-topic state for the stateful strategies (round_robin, sticky),
//! found by the `rd_kafka_topic_t` pointer without any opaque and without a
//! lock: a fixed open-addressing table whose slots are claimed once by
//! compare-and-swap and never freed.
//!
//! librdkafka keeps one `rd_kafka_topic_t` per topic name for the life of a
//! producer, so the pointer is a stable topic identity. Slot 0 serves
//! calls with a NULL topic (direct calls from C), and is shared by all
//! topics once the table is full: placement stays correct, only the
//! cycle or sticky run is then shared between those topics.
//!
//! Each topic has `LANES` lanes, each on its own cache line, and each
//! thread uses one lane (threads are dealt lanes in turn). One producing
//! thread sees exact cycles and runs; several threads do not fight over one
//! cache line on every message, which would cost ~10x per call.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// How many topics get a slot of their own (per partitioner instance).
pub const SLOTS: usize = 256;
/// Lanes per topic: threads beyond this many share lanes.
pub const LANES: usize = 4;

/// The state one lane of a topic keeps.
#[repr(align(64))]
pub struct Lane {
    /// round_robin: the next ticket.
    pub tickets: AtomicU64,
    /// sticky: `(partition + 1) << 32 | messages placed on it` (0: none yet).
    pub sticky: AtomicU64,
    /// sticky: `(partition + 1) << 32 | switch time in ms` (see sticky.rs).
    pub sticky_since: AtomicU64,
}

#[repr(align(64))]
struct Key(AtomicUsize);

pub struct TopicState {
    key: Key,
    lanes: [Lane; LANES],
}

impl TopicState {
    const fn new() -> Self {
        TopicState {
            key: Key(AtomicUsize::new(0)),
            lanes: [const {
                Lane {
                    tickets: AtomicU64::new(0),
                    sticky: AtomicU64::new(0),
                    sticky_since: AtomicU64::new(0),
                }
            }; LANES],
        }
    }

    /// This thread's lane, and its number.
    #[inline]
    pub fn lane(&self) -> (u32, &Lane) {
        let i = lane_index();
        (i as u32, &self.lanes[i])
    }
}

thread_local! {
    static LANE: Cell<usize> = const { Cell::new(usize::MAX) };
}
static NEXT_LANE: AtomicUsize = AtomicUsize::new(0);

#[inline]
fn lane_index() -> usize {
    LANE.with(|l| {
        let mut i = l.get();
        if i == usize::MAX {
            i = NEXT_LANE.fetch_add(1, Ordering::Relaxed) % LANES;
            l.set(i);
        }
        i
    })
}

pub struct Topics {
    slots: [TopicState; SLOTS],
}

impl Default for Topics {
    fn default() -> Self {
        Self::new()
    }
}

impl Topics {
    pub const fn new() -> Self {
        Topics {
            slots: [const { TopicState::new() }; SLOTS],
        }
    }

    /// A table on the heap, without building it on the stack first (it
    /// is ~80 KB; all-zero is its initial state).
    pub fn boxed() -> Box<Topics> {
        let layout = std::alloc::Layout::new::<Topics>();
        // SAFETY: Topics is made of atomics only, for which all-zero bytes
        // are the initial state `new()` builds.
        unsafe {
            let p = std::alloc::alloc_zeroed(layout) as *mut Topics;
            if p.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            Box::from_raw(p)
        }
    }

    /// The state of the topic `rkt` (0 for a NULL topic).
    #[inline]
    pub fn get(&self, rkt: usize) -> &TopicState {
        if rkt == 0 {
            return &self.slots[0];
        }
        let own = SLOTS - 1;
        let start = ((rkt >> 4).wrapping_mul(0x9e37_79b9) >> 7) % own;
        for i in 0..own {
            let slot = &self.slots[1 + (start + i) % own];
            let key = slot.key.0.load(Ordering::Acquire);
            if key == rkt {
                return slot;
            }
            if key == 0 {
                match slot
                    .key
                    .0
                    .compare_exchange(0, rkt, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => return slot,
                    Err(k) if k == rkt => return slot,
                    Err(_) => continue,
                }
            }
        }
        &self.slots[0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_topic_same_slot_and_overflow_shares_slot_zero() {
        let t = Topics::boxed();
        let a = t.get(0x1000) as *const _;
        assert_eq!(a, t.get(0x1000) as *const _);
        assert_ne!(a, t.get(0x2000) as *const _);
        let mut seen = std::collections::HashSet::new();
        for i in 1..=SLOTS * 2 {
            seen.insert(t.get(i * 64) as *const _ as usize);
        }
        // SLOTS - 1 own slots plus the shared slot 0.
        assert_eq!(seen.len(), SLOTS);
        assert!(seen.contains(&(t.get(0) as *const _ as usize)));
    }
}
