//! Hot keys (`hot.key.share`, `hot.key.partitions`): a key with more than
//! `share` of its topic's keyed messages over about the last second is
//! hot, and its messages go in turn to `partitions` partitions, from its
//! strategy's own partition on (its per-key order across them is given
//! up); every other key is placed exactly as its strategy places it. Keys
//! are counted in a small direct-mapped table per topic (`SLOTS` counters,
//! made on the topic's first keyed message): atomics only, no lock, no
//! allocation after that. docs/hot_keys.md has the rules and their costs.

use crate::clock;
use crate::hash::{murmur64a, KAFKA_SEED};
use crate::sys::{rd_kafka_topic_t, NameFn};
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::*};

/// Counters per topic. A key with a share above 1/SLOTS of the traffic
/// keeps its counter against every other key that maps there.
pub const SLOTS: usize = 64;
/// The counting window (ms).
pub const WINDOW_MS: u32 = 1000;
/// Keyed messages a window needs before a key may turn hot in it.
pub const MIN_MESSAGES: u32 = 100;
/// `hot.key.partitions` by default: spread over 4 of 6 partitions, one key
/// with 40% of the messages leaves the fullest partition near the mean
/// (docs/hot_keys.md has the figures).
pub const DEFAULT_PARTITIONS: u32 = 4;
/// Bytes of a hot key kept for the log line.
const SHOWN: usize = 48;

/// Where transitions are said: None, the producer's log (the plugin takes
/// the news); Some, at once on stderr (`rdpart_new()` partitioners), naming
/// the topic when its name can be read: the name function if known, else
/// the process's librdkafka's (loader.rs).
pub type Stderr = Option<(Option<NameFn>, *const rd_kafka_topic_t)>;

/// The options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HotKeyOptions {
    /// The share above which a key is hot, in millionths (0: off).
    pub share_ppm: u32,
    /// How many partitions a hot key is spread over.
    pub partitions: u32,
}

impl Default for HotKeyOptions {
    fn default() -> Self {
        HotKeyOptions {
            share_ppm: 0,
            partitions: DEFAULT_PARTITIONS,
        }
    }
}

#[repr(align(64))]
struct Slot {
    /// The key's identity (murmur64a, made odd; 0: none).
    key: AtomicU64,
    /// Its messages this window, less those of keys competing for the slot.
    count: AtomicU32,
    hot: AtomicBool,
    /// The next of its partitions, while hot.
    turn: AtomicU32,
    /// Not yet logged: 1 turned hot, 2 cooled.
    news: AtomicU8,
    /// Its share (ppm) when it turned hot or cooled, and its partition.
    share: AtomicU32,
    home: AtomicU32,
    /// Its partitions while hot, and the topic's partition count.
    spread: AtomicU32,
    of: AtomicU32,
    shown_len: AtomicU8,
    shown: [AtomicU8; SHOWN],
}

impl Default for Slot {
    fn default() -> Self {
        Slot {
            key: AtomicU64::new(0),
            count: AtomicU32::new(0),
            hot: AtomicBool::new(false),
            turn: AtomicU32::new(0),
            news: AtomicU8::new(0),
            share: AtomicU32::new(0),
            home: AtomicU32::new(0),
            spread: AtomicU32::new(0),
            of: AtomicU32::new(0),
            shown_len: AtomicU8::new(0),
            shown: std::array::from_fn(|_| AtomicU8::new(0)),
        }
    }
}

/// A topic's key counters.
pub struct HotKeys {
    slots: [Slot; SLOTS],
    /// Clock (ms) when the window began, and its keyed messages.
    window: AtomicU32,
    total: AtomicU32,
    /// Some slot has news for the log.
    news: AtomicBool,
}

impl Default for HotKeys {
    fn default() -> Self {
        HotKeys {
            slots: std::array::from_fn(|_| Slot::default()),
            window: AtomicU32::new(clock::coarse_ms() | 1),
            total: AtomicU32::new(0),
            news: AtomicBool::new(false),
        }
    }
}

/// A transition for the log.
pub struct Notice {
    pub hot: bool,
    /// The key's first bytes (48 at most), and whether it is longer.
    key: [u8; SHOWN],
    key_len: usize,
    cut: bool,
    pub share_ppm: u32,
    /// Its partitions while hot (from..from+count, modulo the partition count).
    pub from: u32,
    pub count: u32,
    pub partitions: u32,
}

impl HotKeys {
    /// The partition of a message whose key (as hashed) is `key` and whose
    /// strategy placed it on `p` of `n`. `stderr`: say transitions there
    /// at once (a partitioner without a producer's log).
    #[inline]
    pub fn place(&self, key: &[u8], p: u32, n: u32, o: HotKeyOptions, stderr: Stderr) -> u32 {
        let id = identity(key);
        let now = clock::coarse_ms() | 1;
        let start = self.window.load(Relaxed);
        // Signed: a reading taken before another thread's roll is not a
        // window ahead.
        if now.wrapping_sub(start) as i32 >= WINDOW_MS as i32 {
            self.roll(start, now, o, n, stderr);
        }
        let total = self.total.fetch_add(1, Relaxed).wrapping_add(1);
        // Two places a key may be counted in (two choices): two heavy keys
        // that share one place are counted apart in the other.
        let (a, b) = places(id);
        let (sa, sb) = (&self.slots[a], &self.slots[b]);
        let s = if sa.key.load(Relaxed) == id {
            sa
        } else if sb.key.load(Relaxed) == id {
            sb
        } else {
            // Held by other keys: count against the weaker, take it when
            // it is empty. Atomic, so a roll's halving is never overwritten.
            let s = if sb.count.load(Relaxed) < sa.count.load(Relaxed) {
                sb
            } else {
                sa
            };
            let taken = s
                .count
                .fetch_update(Relaxed, Relaxed, |c| c.checked_sub(1))
                .is_ok();
            if !taken {
                // Plain stores: two threads taking one slot at once leave
                // one key there, which is all the table needs.
                s.key.store(id, Relaxed);
                s.count.store(1, Relaxed);
                if s.hot.load(Relaxed) && s.hot.swap(false, Relaxed) {
                    self.tell(s, false, 0, n, o, stderr);
                }
            }
            return p;
        };
        let count = s.count.fetch_add(1, Relaxed).wrapping_add(1);
        if !s.hot.load(Relaxed) {
            if count < MIN_MESSAGES
                || (count as u64 * 1_000_000) <= o.share_ppm as u64 * total as u64
            {
                return p;
            }
            if s.hot.swap(true, Relaxed) {
                return self.spread(s, p, n, o);
            }
            s.home.store(p, Relaxed);
            let keep = key.len().min(SHOWN);
            for (d, &b) in s.shown.iter().zip(&key[..keep]) {
                d.store(b, Relaxed);
            }
            s.shown_len.store(
                if key.len() > SHOWN {
                    SHOWN as u8 + 1
                } else {
                    keep as u8
                },
                Relaxed,
            );
            let share = (count as u64 * 1_000_000 / total.max(1) as u64) as u32;
            self.tell(s, true, share, n, o, stderr);
        }
        self.spread(s, p, n, o)
    }

    #[inline]
    fn spread(&self, s: &Slot, p: u32, n: u32, o: HotKeyOptions) -> u32 {
        // The next of its k partitions, without a division: p < n, i < k <= n.
        let k = o.partitions.min(n).max(1);
        // Plain load and store: racing threads may take one turn twice,
        // which only evens out less exactly.
        let t = s.turn.load(Relaxed);
        let i = if t >= k { 0 } else { t };
        s.turn.store(if i + 1 >= k { 0 } else { i + 1 }, Relaxed);
        let q = p + i;
        if q >= n {
            q - n
        } else {
            q
        }
    }

    /// A new window: a hot key whose share of the counts has fallen to the
    /// threshold cools, and every count halves (so a count covers about
    /// the last second or two, and a hot key keeps its slot across the
    /// roll against keys that would take an empty one).
    #[cold]
    #[inline(never)]
    fn roll(&self, start: u32, now: u32, o: HotKeyOptions, n: u32, stderr: Stderr) {
        if self
            .window
            .compare_exchange(start, now, Relaxed, Relaxed)
            .is_err()
        {
            return;
        }
        // Halved once per window elapsed, so after a pause the counts are
        // of the last second or two again, not of before the pause.
        let windows = (now.wrapping_sub(start) / WINDOW_MS).clamp(1, 31);
        let total = self.total.load(Relaxed).max(1) as u64;
        for s in &self.slots {
            let count = s.count.load(Relaxed);
            let share = (count as u64 * 1_000_000 / total) as u32;
            if s.hot.load(Relaxed) && share <= o.share_ppm && s.hot.swap(false, Relaxed) {
                self.tell(s, false, share, n, o, stderr);
            }
            s.count.store(count >> windows, Relaxed);
        }
        self.total.store((total >> windows) as u32, Relaxed);
    }

    /// Records a transition, for the producer's log or at once on stderr.
    #[cold]
    #[inline(never)]
    fn tell(&self, s: &Slot, hot: bool, share: u32, n: u32, o: HotKeyOptions, stderr: Stderr) {
        s.share.store(share, Relaxed);
        s.spread.store(o.partitions.min(n).max(1), Relaxed);
        s.of.store(n, Relaxed);
        if let Some((name, rkt)) = stderr {
            let mut line = Line::default();
            let _ = write!(line, "rdpart: ");
            let name = name.or_else(crate::loader::topic_name);
            if let Some(name) = name.filter(|_| !rkt.is_null()) {
                // SAFETY: librdkafka's rd_kafka_topic_name of the topic
                // being placed: a NUL-terminated name it keeps.
                let topic = unsafe { std::ffi::CStr::from_ptr(name(rkt)) };
                let _ = write!(line, "topic \"{}\": ", topic.to_string_lossy());
            }
            let _ = self.notice(s, hot).write(&mut line);
            let _ = writeln!(line);
            crate::boundary::write_stderr(line.as_str());
        } else {
            s.news.store(if hot { 1 } else { 2 }, Release);
            self.news.store(true, Release);
        }
    }

    fn notice(&self, s: &Slot, hot: bool) -> Notice {
        let len = s.shown_len.load(Relaxed) as usize;
        let mut key = [0u8; SHOWN];
        for (d, b) in key.iter_mut().zip(&s.shown) {
            *d = b.load(Relaxed);
        }
        Notice {
            hot,
            key,
            key_len: len.min(SHOWN),
            cut: len > SHOWN,
            share_ppm: s.share.load(Relaxed),
            from: s.home.load(Relaxed),
            count: s.spread.load(Relaxed),
            partitions: s.of.load(Relaxed),
        }
    }

    /// The keys hot now.
    pub fn hot_now(&self) -> Vec<Notice> {
        self.slots
            .iter()
            .filter(|s| s.hot.load(Relaxed))
            .map(|s| self.notice(s, true))
            .collect()
    }

    /// The transitions not yet logged (the plugin's on_send asks).
    pub fn take_news(&self) -> Vec<Notice> {
        if !self.news.load(Relaxed) || !self.news.swap(false, Acquire) {
            return Vec::new();
        }
        self.slots
            .iter()
            .filter_map(|s| match s.news.swap(0, Acquire) {
                1 => Some(self.notice(s, true)),
                2 => Some(self.notice(s, false)),
                _ => None,
            })
            .collect()
    }
}

impl Notice {
    /// The key, `"text"` when printable, else hex.
    pub fn key(&self, w: &mut impl Write) -> std::fmt::Result {
        let key = &self.key[..self.key_len];
        let more = if self.cut { "..." } else { "" };
        if key.iter().all(|&b| (0x20..0x7f).contains(&b) && b != b'"') {
            // Printable ASCII: valid UTF-8.
            write!(w, "\"{}{more}\"", std::str::from_utf8(key).unwrap_or(""))
        } else {
            write!(w, "0x")?;
            for b in key {
                write!(w, "{b:02x}")?;
            }
            write!(w, "{more}")
        }
    }

    /// The key's first bytes (48 at most), and whether the key is longer.
    pub fn key_bytes(&self) -> (&[u8], bool) {
        (&self.key[..self.key_len], self.cut)
    }

    /// The partitions a hot key goes to.
    pub fn partitions(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.count).map(|i| (self.from + i) % self.partitions.max(1))
    }

    /// What the log line says (without the "rdpart: " prefix and topic).
    pub fn write(&self, w: &mut impl Write) -> std::fmt::Result {
        let pct = self.share_ppm as f64 / 10_000.0;
        write!(w, "key ")?;
        self.key(w)?;
        if self.hot {
            write!(
                w,
                " is hot ({pct:.1}% of the topic's keyed messages over the last second): \
                 its messages now go in turn to partitions"
            )?;
            for i in 0..self.count {
                let sep = if i == 0 { " " } else { ", " };
                write!(w, "{sep}{}", (self.from + i) % self.partitions.max(1))?;
            }
            write!(w, " (hot.key.partitions), in no order across them")
        } else {
            write!(
                w,
                " is no longer hot ({pct:.1}% over the last second): back on partition {}",
                self.from
            )
        }
    }
}

/// A key's identity in the table: for keys of up to 16 bytes, their bytes
/// and length mixed (two multiplies); longer keys, murmur64a. Made odd (0
/// is an empty slot).
#[inline]
fn identity(key: &[u8]) -> u64 {
    if key.len() > 16 {
        return murmur64a(key, KAFKA_SEED as u64) | 1;
    }
    let mut b = [0u8; 16];
    b[..key.len()].copy_from_slice(key);
    let lo = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
    let hi = u64::from_le_bytes(b[8..].try_into().unwrap_or_default());
    let m = |x: u64, y: u64| {
        let t = (x as u128).wrapping_mul(y as u128);
        (t >> 64) as u64 ^ t as u64
    };
    m(
        lo ^ 0xa076_1d64_78bd_642f,
        hi ^ 0xe703_7ed1_a0b4_28db ^ key.len() as u64,
    ) | 1
}

/// The two places of a key's identity in the table: its top 6 bits, and
/// an odd step from there (never the same place).
#[inline]
fn places(id: u64) -> (usize, usize) {
    let a = (id >> 58) as usize % SLOTS;
    let b = (a + 1 + ((id >> 52) as usize & (SLOTS - 2))) % SLOTS;
    (a, b)
}

/// A line built on the stack (no allocation): room for a topic name (at
/// most 249 bytes), a shown key and the words around them.
type Line = arrayvec::ArrayString<1024>;

#[cfg(test)]
mod tests {
    use super::*;

    const ON: HotKeyOptions = HotKeyOptions {
        share_ppm: 200_000,
        partitions: 3,
    };

    #[test]
    fn a_key_with_most_messages_turns_hot_and_is_spread() {
        let h = HotKeys::default();
        let mut seen = [0u32; 6];
        let mut others = Vec::new();
        for i in 0..10_000u32 {
            if i % 5 < 2 {
                seen[h.place(b"hot", 1, 6, ON, None) as usize] += 1;
            } else {
                let k = format!("key-{}", i % 2000);
                others.push(h.place(k.as_bytes(), 4, 6, ON, None));
            }
        }
        // 40% of the messages: hot after MIN_MESSAGES, then in turn on 1, 2, 3.
        assert!(seen[1..4].iter().all(|&c| c >= 1290), "{seen:?}");
        assert_eq!(seen[0] + seen[4] + seen[5], 0, "{seen:?}");
        assert!(others.iter().all(|&p| p == 4), "other keys moved");
        let news = h.take_news();
        assert_eq!(news.len(), 1);
        let mut line = String::new();
        news[0].write(&mut line).unwrap();
        assert!(
            line.contains("key \"hot\" is hot (") && line.contains("partitions 1, 2, 3"),
            "{line}"
        );
        let share = news[0].share_ppm;
        assert!((300_000..=500_000).contains(&share), "{share}");
        assert!(h.take_news().is_empty(), "said once");
    }

    #[test]
    fn two_heavy_keys_that_share_a_place_are_both_hot() {
        // Issue 26: "tenant-A" (45%) and a key with the same place (35%)
        // were counted in one counter (their difference): neither hot.
        let a = identity(b"tenant-A");
        let other = (0..10_000)
            .map(|i| format!("tenant-{i}"))
            .find(|k| places(identity(k.as_bytes())).0 == places(a).0 && k != "tenant-A")
            .unwrap();
        let h = HotKeys::default();
        for i in 0..20_000u32 {
            let k = match i % 20 {
                0..=8 => "tenant-A".to_string(),
                9..=15 => other.clone(),
                _ => format!("light-{i}"),
            };
            h.place(k.as_bytes(), 0, 6, ON, None);
        }
        let mut hot: Vec<String> = h
            .hot_now()
            .iter()
            .map(|n| format!("{:?}", n.key_bytes().0))
            .collect();
        hot.sort();
        let mut want = vec![
            format!("{:?}", b"tenant-A"),
            format!("{:?}", other.as_bytes()),
        ];
        want.sort();
        assert_eq!(hot, want);
    }

    #[test]
    fn after_a_pause_a_key_that_is_no_longer_heavy_cools() {
        // Issue 26: counts halved once per roll, so after 3 s idle a key
        // with 2% of the last second was still spread.
        let h = HotKeys::default();
        for i in 0..2000u32 {
            let k = if i % 2 == 0 {
                "heavy".to_string()
            } else {
                format!("k{i}")
            };
            h.place(k.as_bytes(), 0, 6, ON, None);
        }
        assert_eq!(h.hot_now().len(), 1);
        // 3 s idle, then a second in which it has 2% of the messages.
        h.window.store(
            clock::coarse_ms().wrapping_sub(3 * WINDOW_MS + 1) | 1,
            Relaxed,
        );
        for i in 0..1000u32 {
            let k = if i % 50 == 0 {
                "heavy".to_string()
            } else {
                format!("m{i}")
            };
            h.place(k.as_bytes(), 0, 6, ON, None);
        }
        h.window
            .store(clock::coarse_ms().wrapping_sub(WINDOW_MS + 1) | 1, Relaxed);
        h.place(b"one more", 0, 6, ON, None);
        assert!(h.hot_now().is_empty(), "still hot after the pause");
    }

    #[test]
    fn no_key_of_an_even_spread_is_hot_and_a_hot_key_cools() {
        let h = HotKeys::default();
        for i in 0..20_000u32 {
            let k = format!("k{}", i % 500);
            assert_eq!(h.place(k.as_bytes(), 2, 6, ON, None), 2);
        }
        assert!(h.take_news().is_empty());
        // A key with all of a topic's messages.
        let h = HotKeys::default();
        for _ in 0..1000 {
            h.place(b"\x00\x01", 0, 6, ON, None);
        }
        let mut key = String::new();
        h.take_news()[0].key(&mut key).unwrap();
        assert_eq!(key, "0x0001");
        // A window in which the key is rare: it cools when the window ends.
        h.window
            .store(clock::coarse_ms().wrapping_sub(WINDOW_MS + 1) | 1, Relaxed);
        for i in 0..5000u32 {
            h.place(format!("o{i}").as_bytes(), 5, 6, ON, None);
        }
        assert!(h.take_news().is_empty());
        h.window
            .store(clock::coarse_ms().wrapping_sub(WINDOW_MS + 1) | 1, Relaxed);
        h.place(b"other", 5, 6, ON, None);
        let news = h.take_news();
        assert!(news.len() == 1 && !news[0].hot, "cooled");
        assert_eq!(h.place(b"\x00\x01", 0, 6, ON, None), 0);
    }
}
