//! What placement keeps per topic, each part owned by one module:
//!
//! - [`TopicState`], shared by every thread: the topic's view (view.rs:
//!   availability, leaders, racks, broker round trips, whatever the
//!   strategy), its resolved `topic.strategy` (partitioner.rs), and the
//!   state of the features that keep some per topic, each made on first
//!   use: adaptive's counters (backlog/) and the key counters
//!   (hot_keys.rs). Which partitions are usable is decided from the view
//!   alone (usable.rs). It lives in a `Topics` table (topics.rs).
//! - [`Lane`], per thread and topic: round_robin's cycle and the current
//!   run of sticky or adaptive (run.rs). Each thread keeps its own lanes in
//!   a thread-local map, so in steady state no cache line is written by two
//!   producing threads, however many there are.

use super::backlog::Load;
use super::hot_keys::HotKeys;
use super::run::Run;
use super::view::View;
use crate::topics::Fresh;
use once_cell::race::OnceBox;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// State of one topic shared by all threads. In the order written
/// (`repr(C)`): what every placement reads (the id, for its lane, and the
/// view's first fields) first, together.
#[repr(C)]
pub struct TopicState {
    /// Unique per state object, so a thread's lane made for a freed state
    /// at the same address is recognised as stale.
    id: u64,
    /// What placement is told of the topic's partitions (view.rs).
    pub view: View,
    /// The topic's own strategy (`topic.strategy`), resolved once when
    /// first seen; `UNRESOLVED` until then.
    pub strategy: AtomicU8,
    /// adaptive's per-partition counters, made when adaptive first places
    /// a message of the topic.
    load: OnceBox<Load>,
    /// Key counters (hot.key.share), made on the first keyed message.
    hot: OnceBox<HotKeys>,
}

/// `TopicState::strategy` before the topic's strategy is resolved.
pub const UNRESOLVED: u8 = u8::MAX;

static IDS: AtomicU64 = AtomicU64::new(1);

impl Fresh for TopicState {
    fn fresh(rkt: usize, _owner: usize) -> TopicState {
        let mut t = TopicState::null();
        t.id = IDS.fetch_add(1, Ordering::Relaxed);
        t.view = View::new(rkt == 0);
        t
    }
}

impl TopicState {
    /// The state of calls without a topic (id 0, always settled).
    pub const fn null() -> TopicState {
        TopicState {
            id: 0,
            view: View::new(true),
            strategy: AtomicU8::new(UNRESOLVED),
            load: OnceBox::new(),
            hot: OnceBox::new(),
        }
    }

    /// adaptive's counters for this topic, made on first use.
    #[inline]
    pub fn load_table(&self) -> &Load {
        self.load.get_or_init(Box::default)
    }

    /// adaptive's counters with counters for partitions `0..n`.
    #[inline]
    pub fn load(&self, n: u32) -> &Load {
        let l = self.load_table();
        l.ensure(n);
        l
    }

    /// adaptive's counters, if adaptive placed any message of the topic.
    #[inline]
    pub fn load_if_any(&self) -> Option<&Load> {
        self.load.get()
    }

    /// The topic's key counters, made on first use.
    #[inline]
    pub fn hot_keys(&self) -> &HotKeys {
        self.hot.get_or_init(Box::default)
    }

    /// The key counters, if a keyed message was counted.
    pub fn hot_keys_if_any(&self) -> Option<&HotKeys> {
        self.hot.get()
    }

    /// Runs `f` with this thread's lane of this topic. (A thread that is
    /// exiting, whose lanes are gone, gets a fresh lane for the call.)
    #[inline]
    pub fn with_lane<R>(&self, f: impl FnOnce(&mut Lane) -> R) -> R {
        let key = self as *const TopicState as usize;
        let lane = LANES.try_with(|lanes| {
            // One-entry cache first: a thread usually produces to one topic
            // at a time.
            let (ck, cp) = lanes.last.get();
            // SAFETY: cp points into a Box owned by this thread's map,
            // never freed while the thread lives.
            if ck == key && !cp.is_null() && unsafe { (*cp).topic } == self.id {
                return cp;
            }
            lanes.slow(key, self.id) as *mut Lane
        });
        match lane {
            // SAFETY: this thread's lane (above); no other reference to it
            // exists while `f` runs (the map is not re-entered).
            Ok(p) => f(unsafe { &mut *p }),
            Err(_) => with_fresh_lane(f),
        }
    }
}

/// `f` with a lane of its own (a thread whose lanes are gone).
#[cold]
#[inline(never)]
fn with_fresh_lane<R>(f: impl FnOnce(&mut Lane) -> R) -> R {
    f(&mut Lane::default())
}

/// One thread's state for one topic. Only that thread touches it; it has
/// a cache line of its own, so lanes of two threads that the allocator
/// happened to place side by side never share one.
#[derive(Default)]
#[repr(align(64))]
pub struct Lane {
    /// The `TopicState::id` this lane belongs to.
    topic: u64,
    /// round_robin: the next ticket.
    pub tickets: u64,
    /// sticky and adaptive: the current run.
    pub run: Run,
}

/// Fast hash for pointer keys (Fibonacci hashing).
#[derive(Default)]
struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64 >> 4).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

struct LaneMap {
    last: Cell<(usize, *mut Lane)>,
    map: RefCell<HashMap<usize, Box<Lane>, BuildHasherDefault<PtrHasher>>>,
}

impl LaneMap {
    #[cold]
    #[allow(clippy::mut_from_ref)]
    fn slow(&self, key: usize, id: u64) -> &mut Lane {
        let mut map = self.map.borrow_mut();
        let lane = map.entry(key).or_default();
        if lane.topic != id {
            // New topic, or a stale lane of a freed state at this address.
            **lane = Lane {
                topic: id,
                tickets: crate::rng::next_u64() >> 40,
                ..Lane::default()
            };
        }
        let p: *mut Lane = &mut **lane;
        self.last.set((key, p));
        // SAFETY: the Box stays in the map (never removed) while the thread
        // lives; callers use the reference only during one placement.
        unsafe { &mut *p }
    }
}

thread_local! {
    static LANES: LaneMap = LaneMap {
        last: Cell::new((0, std::ptr::null_mut())),
        map: RefCell::new(HashMap::default()),
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::Topics;

    #[test]
    fn every_topic_its_own_lane() {
        let t: Topics<TopicState> = Topics::default();
        let n = 10_000;
        for i in 1..=n {
            t.get_or_insert(i * 64).with_lane(|l| l.tickets = i as u64);
        }
        for i in 1..=n {
            assert_eq!(t.get(i * 64).unwrap().with_lane(|l| l.tickets), i as u64);
        }
    }

    /// docs/c_api.md states the memory per topic and per (thread, topic):
    /// read it, and compare with the types' sizes.
    #[test]
    fn state_sizes_match_the_docs() {
        let topic = std::mem::size_of::<TopicState>();
        let lane = std::mem::size_of::<Lane>();
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/c_api.md"))
            .expect("docs/c_api.md")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let said = |before: &str| -> usize {
            let at = readme
                .find(before)
                .unwrap_or_else(|| panic!("docs/c_api.md: {before:?}"));
            let n: String = readme[at + before.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            n.parse()
                .unwrap_or_else(|_| panic!("docs/c_api.md: a number after {before:?}"))
        };
        assert_eq!(topic, said("(its state, "), "TopicState, as the docs say");
        assert_eq!(lane, said("(a lane of one "), "Lane, as the docs say");
        assert_eq!(lane, 64, "one cache line");
    }
}
