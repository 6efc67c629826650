//! Each partition's leader, as the plugin learns them from the cluster
//! (plugin/leaders.rs): adaptive leaves a slow broker's partitions out
//! together (backlog/load.rs), and the plugin asks again when a broker
//! other than the known leader acknowledges a message. Rack awareness
//! keeps its own view (rack.rs).

use crate::atomic::Segments;
use std::sync::atomic::{AtomicU32, Ordering::*};

/// The leaders of one topic's partitions. Updated in place: a reader may
/// see an update half done, which costs at most a message placed as
/// before it.
#[derive(Default)]
pub struct Leaders {
    /// Each partition's leader broker id + 1 (0: no leader).
    ids: Segments<AtomicU32>,
    /// Partitions the last update covered.
    known: AtomicU32,
}

/// The most partitions whose leaders a topic keeps.
pub const LEADER_PARTITIONS: u32 = crate::atomic::MAX_ITEMS;

impl Leaders {
    /// Records the leaders of partitions `0..n` (`leader(p)`: its broker
    /// id; None: no leader).
    pub fn update(&self, n: u32, leader: impl Fn(u32) -> Option<i32>) {
        let n = n.min(LEADER_PARTITIONS);
        self.ids.ensure(n);
        for p in 0..n {
            if let Some(slot) = self.ids.get(p) {
                slot.store(leader(p).map_or(0, |id| id as u32 + 1), Relaxed);
            }
        }
        // After the ids: a reader that sees `n` sees them.
        self.known.store(n, Release);
    }

    /// Whether the cluster said partition `p` has no leader.
    pub fn leaderless(&self, p: u32) -> bool {
        p < self.known.load(Acquire) && self.ids.get(p).is_some_and(|id| id.load(Relaxed) == 0)
    }

    /// Partition `p`'s leader broker id, if known.
    pub fn leader(&self, p: u32) -> Option<i32> {
        if p >= self.known.load(Acquire) {
            return None;
        }
        match self.ids.get(p)?.load(Relaxed) {
            0 => None,
            id => Some(id as i32 - 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaders_are_kept_per_partition() {
        let l = Leaders::default();
        assert_eq!(l.leader(0), None, "nothing learnt yet");
        l.update(200, |p| (p != 7).then_some(p as i32 % 5));
        assert_eq!(l.leader(3), Some(3));
        assert_eq!(l.leader(7), None, "no leader");
        assert!(l.leaderless(7) && !l.leaderless(3) && !l.leaderless(200));
        assert_eq!(l.leader(200), None, "beyond the partitions learnt");
        l.update(4, |_| Some(9));
        assert_eq!(l.leader(3), Some(9));
        assert_eq!(
            l.leader(5),
            None,
            "the topic was learnt with 4 partitions last"
        );
    }
}
