//! Per-topic state, found by the `rd_kafka_topic_t` pointer.
//!
//! librdkafka keeps one `rd_kafka_topic_t` per topic name for the life of a
//! producer, so the pointer is a stable topic identity. Two kinds of state:
//!
//! - [`TopicState`], shared by every thread: whether the topic's leaders are
//!   known yet and whether it is in an outage (written a few times in a
//!   topic's life), and, for the plugin, who owns it. It lives in a
//!   [`Topics`] table: open addressing, lookups lock-free (two loads in
//!   the common case), inserts under one process-wide lock when a topic is
//!   first seen, growing by doubling. Memory is in proportion to the topics
//!   seen: a 48-byte state and a few bytes of partition bits per topic,
//!   plus 2 to 4 table slots of 24 bytes.
//! - [`Lane`], per thread and topic: round_robin's cycle and sticky's run.
//!   Each thread keeps its own lanes in a thread-local map, so in steady
//!   state no cache line is written by two producing threads, however many
//!   there are. A 64-byte lane (one cache line) per (thread, topic) used, in a hash map.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{
    AtomicBool, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};

/// State of one topic shared by all threads.
pub struct TopicState {
    /// Unique per state object, so a thread's lane made for a freed state
    /// at the same address is recognised as stale.
    id: u64,
    /// The `rd_kafka_topic_t` (0 for calls without a topic).
    pub rkt: usize,
    /// Availability: see `strategy::Ctx::available`.
    pub settled: AtomicBool,
    /// Clock (ms, made odd) when rdpart first placed a keyless message of
    /// the topic, which is when librdkafka has just learnt its partitions;
    /// 0: not yet.
    pub first_placed: AtomicU32,
    /// Clock (ms) of the last full availability scan while not settled.
    pub last_scan: AtomicU32,
    /// While not settled: which partitions have been seen with a leader
    /// (bit per partition; allocated on the first look, freed on drop).
    seen: AtomicPtr<Seen>,
    /// Clock (ms) until which the topic is known to have no available
    /// partition (0: none recorded).
    pub dark_until: AtomicU32,
    /// The plugin instance that owns this topic (0: none).
    pub owner: usize,
    /// Plugin: a message with an unassigned partition was produced.
    pub ua_seen: AtomicBool,
    /// Plugin: rdpart's partitioner placed a message of this topic.
    pub placed: AtomicBool,
    /// Plugin: the user has been told this topic bypasses rdpart.
    pub warned: AtomicBool,
    /// The topic's own strategy (`topic.strategy`), resolved once when
    /// first seen; `UNRESOLVED` until then.
    pub strategy: AtomicU8,
    /// adaptive's per-partition counters (strategy/adaptive.rs), made when
    /// adaptive first places a message of the topic; freed on drop.
    load: AtomicPtr<crate::strategy::Load>,
    /// The topic's name and where librdkafka keeps it, when the state was
    /// made by name (`Topics::get_named`).
    name_at: usize,
    name: Vec<u8>,
}

/// `TopicState::strategy` before the topic's strategy is resolved.
pub(crate) const UNRESOLVED: u8 = u8::MAX;

static IDS: AtomicU64 = AtomicU64::new(1);

struct Seen {
    n: u32,
    words: Box<[AtomicU64]>,
}

impl Drop for TopicState {
    fn drop(&mut self) {
        let l = *self.load.get_mut();
        if !l.is_null() {
            // SAFETY: installed from Box::into_raw (adaptive.rs), owned by self.
            drop(unsafe { Box::from_raw(l) });
        }
        let p = *self.seen.get_mut();
        if !p.is_null() {
            // SAFETY: installed from Box::into_raw, owned by self.
            drop(unsafe { Box::from_raw(p) });
        }
    }
}

impl TopicState {
    pub fn new(rkt: usize, owner: usize) -> TopicState {
        let mut t = TopicState::null();
        t.id = IDS.fetch_add(1, Ordering::Relaxed);
        t.with(rkt, owner)
    }

    fn with(mut self, rkt: usize, owner: usize) -> TopicState {
        self.rkt = rkt;
        self.owner = owner;
        *self.settled.get_mut() = rkt == 0;
        self
    }

    /// The state of calls without a topic (id 0, always settled).
    const fn null() -> TopicState {
        TopicState {
            id: 0,
            rkt: 0,
            settled: AtomicBool::new(true),
            first_placed: AtomicU32::new(0),
            last_scan: AtomicU32::new(0),
            dark_until: AtomicU32::new(0),
            seen: AtomicPtr::new(std::ptr::null_mut()),
            owner: 0,
            ua_seen: AtomicBool::new(false),
            placed: AtomicBool::new(false),
            warned: AtomicBool::new(false),
            strategy: AtomicU8::new(UNRESOLVED),
            load: AtomicPtr::new(std::ptr::null_mut()),
            name_at: 0,
            name: Vec::new(),
        }
    }

    /// Whether this is the state of the topic named by the C string at
    /// `name` (same place, same bytes).
    ///
    /// # Safety
    /// `name` is NULL or a NUL-terminated string.
    #[inline]
    unsafe fn named(&self, name: *const std::ffi::c_char) -> bool {
        // SAFETY: the caller's contract.
        self.name_at == name as usize
            && !name.is_null()
            && unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes() == &*self.name
    }

    /// The bits of partitions seen with a leader, made for `n` partitions
    /// on first use (partitions beyond the first count it was made for are
    /// never marked).
    fn seen(&self, n: u32) -> &Seen {
        // A partition count may be anything up to 2^31 - 1: at most 128 KB
        // of bits (partitions beyond are never marked; the warm-up then
        // ends by time).
        let n = n.min(1 << 20);
        let p = self.seen.load(Ordering::Acquire);
        if !p.is_null() {
            // SAFETY: installed below, freed only on drop.
            return unsafe { &*p };
        }
        let new = Box::into_raw(Box::new(Seen {
            n,
            words: (0..n.div_ceil(64)).map(|_| AtomicU64::new(0)).collect(),
        }));
        match self.seen.compare_exchange(
            std::ptr::null_mut(),
            new,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            // SAFETY: now owned by self.
            Ok(_) => unsafe { &*new },
            Err(other) => {
                // SAFETY: ours, never shared; other was installed first.
                drop(unsafe { Box::from_raw(new) });
                unsafe { &*other }
            }
        }
    }

    /// Records that partition `p` (of `n`) has been seen with a leader.
    pub fn mark_seen(&self, p: u32, n: u32) {
        let seen = self.seen(n);
        if p < seen.n {
            let (w, bit) = (&seen.words[p as usize / 64], 1u64 << (p % 64));
            if w.load(Ordering::Relaxed) & bit == 0 {
                w.fetch_or(bit, Ordering::Relaxed);
            }
        }
    }

    /// Records that partition `p` has a leader (a message was delivered
    /// there), if the topic is still waiting to see them all.
    pub fn delivered_to(&self, p: u32) {
        if self.settled.load(Ordering::Relaxed) {
            return;
        }
        // SAFETY: installed by seen(), freed only on drop.
        if let Some(seen) = unsafe { self.seen.load(Ordering::Acquire).as_ref() } {
            if p < seen.n {
                seen.words[p as usize / 64].fetch_or(1 << (p % 64), Ordering::Relaxed);
            }
        }
    }

    /// Whether partition `p` has been seen with a leader.
    pub fn was_seen(&self, p: u32, n: u32) -> bool {
        let seen = self.seen(n);
        p < seen.n && seen.words[p as usize / 64].load(Ordering::Relaxed) >> (p % 64) & 1 == 1
    }

    /// The cell of adaptive's load table (strategy/adaptive.rs).
    pub(crate) fn load_ptr(&self) -> &AtomicPtr<crate::strategy::Load> {
        &self.load
    }

    /// Runs `f` with this thread's lane of this topic. (A thread that is
    /// exiting, whose lanes are gone, gets a fresh lane for the call.)
    #[inline]
    pub fn with_lane<R>(&self, f: impl FnOnce(&mut Lane) -> R) -> R {
        let key = self as *const TopicState as usize;
        let mut f = Some(f);
        let r = LANES.try_with(|lanes| {
            let f = f.take().expect("called once");
            // One-entry cache first: a thread usually produces to one topic
            // at a time.
            let (ck, cp) = lanes.last.get();
            if ck == key && !cp.is_null() {
                // SAFETY: cp points into a Box owned by this thread's map,
                // never freed while the thread lives; no other reference to
                // it exists while `f` runs (the map is not re-entered).
                let lane = unsafe { &mut *cp };
                if lane.topic == self.id {
                    return f(lane);
                }
            }
            f(lanes.slow(key, self.id))
        });
        match r {
            Ok(r) => r,
            Err(_) => (f.take().expect("not called"))(&mut Lane::default()),
        }
    }
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
    /// sticky: the current partition + 1 (0: none yet).
    pub sticky_tag: u32,
    /// sticky: messages placed in the current run.
    pub sticky_count: u32,
    /// sticky: clock (ms) of the switch to the current partition.
    pub sticky_since: u32,
    /// adaptive: bytes placed in the current run.
    pub run_bytes: u64,
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

/// The process-wide lock for inserts into any [`Topics`] table: rare, and
/// held only for a copy. A spin lock, taken around fork() so a child
/// never inherits it held (see `rng::install_fork_handlers`).
static INSERT_LOCK: AtomicBool = AtomicBool::new(false);

pub fn lock_inserts() {
    while INSERT_LOCK
        .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        std::thread::yield_now();
    }
}

pub fn unlock_inserts() {
    INSERT_LOCK.store(false, Ordering::Release);
}

struct InsertGuard;
impl InsertGuard {
    fn new() -> InsertGuard {
        lock_inserts();
        InsertGuard
    }
}
impl Drop for InsertGuard {
    fn drop(&mut self) {
        unlock_inserts();
    }
}

const EMPTY: usize = 0;
const TOMBSTONE: usize = 1;

struct Slot {
    key: AtomicUsize,
    /// The owner of `val`, readable without dereferencing it.
    owner: AtomicUsize,
    val: AtomicPtr<TopicState>,
}

struct Table {
    mask: usize,
    slots: Box<[Slot]>,
}

impl Table {
    fn new(size: usize) -> Box<Table> {
        Box::new(Table {
            mask: size - 1,
            slots: (0..size)
                .map(|_| Slot {
                    key: AtomicUsize::new(EMPTY),
                    owner: AtomicUsize::new(0),
                    val: AtomicPtr::new(std::ptr::null_mut()),
                })
                .collect(),
        })
    }

    #[inline]
    fn start(&self, rkt: usize) -> usize {
        ((rkt as u64 >> 4).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & self.mask
    }

    #[inline]
    fn find(&self, rkt: usize) -> Option<&Slot> {
        let mut i = self.start(rkt);
        loop {
            let slot = &self.slots[i];
            match slot.key.load(Ordering::Acquire) {
                k if k == rkt => return Some(slot),
                EMPTY => return None,
                _ => i = (i + 1) & self.mask,
            }
        }
    }
}

/// A table of topic states keyed by `rd_kafka_topic_t` pointer.
pub struct Topics {
    table: AtomicPtr<Table>,
    /// Live entries, and slots not EMPTY (live + tombstones); under the lock.
    used: AtomicUsize,
    filled: AtomicUsize,
    /// Tables replaced by bigger ones: readers may still be probing them,
    /// so they are freed only with the whole `Topics`.
    retired: AtomicPtr<Retired>,
    /// The state of calls without a topic.
    null_topic: TopicState,
    /// States replaced by name, with the clock (ms) they were replaced at.
    retired_states: std::sync::Mutex<Vec<(u32, usize)>>,
}

/// How long a state replaced by name lives on (a placement that read it
/// before the replacement may still be comparing its name).
const RETIRE_MS: u32 = 10_000;

struct Retired {
    table: *mut Table,
    next: *mut Retired,
}

// SAFETY: all shared fields are atomics; raw pointers are owned by Topics.
unsafe impl Send for Topics {}
unsafe impl Sync for Topics {}

const INITIAL: usize = 16;

impl Default for Topics {
    fn default() -> Self {
        Self::new()
    }
}

impl Topics {
    pub const fn new() -> Topics {
        Topics {
            table: AtomicPtr::new(std::ptr::null_mut()),
            used: AtomicUsize::new(0),
            filled: AtomicUsize::new(0),
            retired: AtomicPtr::new(std::ptr::null_mut()),
            null_topic: TopicState::null(),
            retired_states: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The state of topic `rkt`, if it has one. Lock-free.
    #[inline]
    pub fn get(&self, rkt: usize) -> Option<&TopicState> {
        if rkt == 0 {
            return Some(&self.null_topic);
        }
        let p = self.table()?.find(rkt)?.val.load(Ordering::Acquire);
        // SAFETY: a published state lives until removed under the lock by
        // its owner, after which no caller asks for its topic (see plugin).
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// The current table (None before the first insert). Old tables are
    /// retired, not freed, while self lives.
    #[inline]
    fn table(&self) -> Option<&Table> {
        // SAFETY: NULL or a live table.
        unsafe { self.table.load(Ordering::Acquire).as_ref() }
    }

    /// The state of topic `rkt` if `owner` owns it. Lock-free, and never
    /// dereferences a state of another owner (which may be being freed).
    #[inline]
    pub fn get_owned(&self, rkt: usize, owner: usize) -> Option<&TopicState> {
        let slot = self.table()?.find(rkt)?;
        if slot.owner.load(Ordering::Acquire) != owner {
            return None;
        }
        let p = slot.val.load(Ordering::Acquire);
        // SAFETY: owner's states are freed only by owner (remove_owned) or
        // replaced by another owner, which this slot's owner rules out.
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// The state of topic `rkt`, made on first sight (allocates, and takes
    /// the insert lock, once per topic).
    #[inline]
    pub fn get_or_insert(&self, rkt: usize) -> &TopicState {
        match self.get(rkt) {
            Some(s) => s,
            None => self.insert(rkt, 0),
        }
    }

    /// The state of topic `rkt`, whose name is the C string at `name` (what
    /// librdkafka's rd_kafka_topic_name returns). A state made for another
    /// topic whose handle had this address (a destroyed producer's) is
    /// replaced: placement follows the topic, never a recycled address.
    ///
    /// # Safety
    /// `name` is NULL or a NUL-terminated string.
    #[inline]
    pub unsafe fn get_named(&self, rkt: usize, name: *const std::ffi::c_char) -> &TopicState {
        if let Some(s) = self.get(rkt) {
            // SAFETY: librdkafka's topic name, a C string.
            if unsafe { s.named(name) } {
                return s;
            }
        }
        // SAFETY: the caller's contract.
        unsafe { self.insert_named(rkt, name) }
    }

    /// # Safety
    /// As get_named.
    #[cold]
    unsafe fn insert_named(&self, rkt: usize, name: *const std::ffi::c_char) -> &TopicState {
        let make = || {
            let mut t = TopicState::new(rkt, 0);
            t.name_at = name as usize;
            if !name.is_null() {
                // SAFETY: librdkafka's topic name, a C string.
                t.name = unsafe { std::ffi::CStr::from_ptr(name) }.to_bytes().into();
            }
            t
        };
        let _g = InsertGuard::new();
        if let Some(slot) = self.table().and_then(|t| t.find(rkt)) {
            let p = slot.val.load(Ordering::Acquire);
            // SAFETY: published states are live while in the table (retired
            // ones live on for RETIRE_MS).
            if let Some(old) = unsafe { p.as_ref() } {
                if unsafe { old.named(name) } {
                    return old;
                }
            }
            let new = Box::into_raw(Box::new(make()));
            slot.val.store(new, Ordering::Release);
            if !p.is_null() {
                // Another thread may still be reading the old state (it has
                // not compared its name yet): freed later, not now.
                self.retire_state(p);
            }
            // SAFETY: just published.
            return unsafe { &*new };
        }
        let new = Box::into_raw(Box::new(make()));
        self.publish(rkt, 0, new)
    }

    /// Frees, RETIRE_MS after they were replaced, states replaced by name.
    /// Called under the insert lock.
    fn retire_state(&self, p: *mut TopicState) {
        let now = crate::clock::coarse_ms();
        let mut r = self
            .retired_states
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        r.retain(|&(when, old)| {
            let keep = now.wrapping_sub(when) < RETIRE_MS;
            if !keep {
                // SAFETY: replaced RETIRE_MS ago: no placement still reads it.
                drop(unsafe { Box::from_raw(old as *mut TopicState) });
            }
            keep
        });
        r.push((now, p as usize));
    }

    /// The state of `rkt` owned by `owner`, made unless it exists; a state
    /// of another owner at the same key (a destroyed producer's topic whose
    /// address was reused) is replaced and freed.
    #[cold]
    pub fn insert(&self, rkt: usize, owner: usize) -> &TopicState {
        let _g = InsertGuard::new();
        if self.table().is_none() {
            self.table
                .store(Box::into_raw(Table::new(INITIAL)), Ordering::Release);
        }
        let table = self.table().expect("made above");
        if let Some(slot) = table.find(rkt) {
            let p = slot.val.load(Ordering::Acquire);
            if !p.is_null() && slot.owner.load(Ordering::Relaxed) == owner {
                // SAFETY: published states are live while in the table.
                return unsafe { &*p };
            }
            let new = Box::into_raw(Box::new(TopicState::new(rkt, owner)));
            // Value, then owner: a reader that sees the new owner sees the
            // new value.
            slot.val.store(new, Ordering::Release);
            slot.owner.store(owner, Ordering::Release);
            if !p.is_null() {
                // SAFETY: p came from Box::into_raw; its topic's producer is
                // gone (its rkt address was reused), so nobody reads it.
                drop(unsafe { Box::from_raw(p) });
            }
            return unsafe { &*new };
        }
        let new = Box::into_raw(Box::new(TopicState::new(rkt, owner)));
        self.publish(rkt, owner, new)
    }

    /// Publishes `new` as the state of `rkt` (not in the table), growing
    /// the table if needed. Called under the lock.
    fn publish(&self, rkt: usize, owner: usize, new: *mut TopicState) -> &TopicState {
        if self.table().is_none() {
            self.table
                .store(Box::into_raw(Table::new(INITIAL)), Ordering::Release);
        }
        let table = self.table().expect("made above");
        let table = if (self.filled.load(Ordering::Relaxed) + 1) * 2 > table.slots.len() {
            self.grow(table)
        } else {
            table
        };
        let mut i = table.start(rkt);
        loop {
            let slot = &table.slots[i];
            let k = slot.key.load(Ordering::Relaxed);
            if k == EMPTY || k == TOMBSTONE {
                // Value and owner first, then key: a reader that sees the
                // key sees them.
                slot.val.store(new, Ordering::Release);
                slot.owner.store(owner, Ordering::Release);
                slot.key.store(rkt, Ordering::Release);
                if k == EMPTY {
                    self.filled.fetch_add(1, Ordering::Relaxed);
                }
                break;
            }
            i = (i + 1) & table.mask;
        }
        self.used.fetch_add(1, Ordering::Relaxed);
        // SAFETY: just published; lives until removed.
        unsafe { &*new }
    }

    /// A table twice the live size, with every live entry; the old one is
    /// retired. Called under the lock.
    fn grow(&self, old: &Table) -> &Table {
        let live = self.used.load(Ordering::Relaxed) + 1;
        let mut size = INITIAL;
        while size < live * 4 {
            size *= 2;
        }
        let new = Table::new(size);
        for slot in old.slots.iter() {
            let k = slot.key.load(Ordering::Relaxed);
            if k == EMPTY || k == TOMBSTONE {
                continue;
            }
            let mut i = new.start(k);
            while new.slots[i].key.load(Ordering::Relaxed) != EMPTY {
                i = (i + 1) & new.mask;
            }
            new.slots[i]
                .val
                .store(slot.val.load(Ordering::Relaxed), Ordering::Relaxed);
            new.slots[i]
                .owner
                .store(slot.owner.load(Ordering::Relaxed), Ordering::Relaxed);
            new.slots[i].key.store(k, Ordering::Relaxed);
        }
        self.filled.store(live - 1, Ordering::Relaxed);
        let new = Box::into_raw(new);
        let old = self.table.swap(new, Ordering::AcqRel);
        let r = Box::into_raw(Box::new(Retired {
            table: old,
            next: self.retired.load(Ordering::Relaxed),
        }));
        self.retired.store(r, Ordering::Relaxed);
        // SAFETY: just made.
        unsafe { &*new }
    }

    /// Removes and frees every state owned by `owner`. The caller
    /// guarantees no placement can still ask for those topics.
    pub fn remove_owned(&self, owner: usize) {
        let _g = InsertGuard::new();
        let Some(table) = self.table() else { return };
        for slot in table.slots.iter() {
            let k = slot.key.load(Ordering::Relaxed);
            if k == EMPTY || k == TOMBSTONE {
                continue;
            }
            let p = slot.val.load(Ordering::Acquire);
            if !p.is_null() && slot.owner.load(Ordering::Relaxed) == owner {
                slot.key.store(TOMBSTONE, Ordering::Release);
                slot.owner.store(0, Ordering::Release);
                slot.val.store(std::ptr::null_mut(), Ordering::Release);
                self.used.fetch_sub(1, Ordering::Relaxed);
                drop(unsafe { Box::from_raw(p) });
            }
        }
    }

    /// The sum of `f` over every topic state (under the insert lock, so no
    /// state is freed meanwhile).
    pub fn sum(&self, f: impl Fn(&TopicState) -> i64) -> i64 {
        let _g = InsertGuard::new();
        let Some(table) = self.table() else { return 0 };
        table
            .slots
            .iter()
            .map(|slot| slot.val.load(Ordering::Acquire))
            .filter(|p| !p.is_null())
            // SAFETY: published states are freed only under the lock.
            .map(|p| f(unsafe { &*p }))
            .sum()
    }

    /// How many topics have a state.
    pub fn len(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Topics {
    fn drop(&mut self) {
        let table = *self.table.get_mut();
        if table.is_null() {
            return;
        }
        // SAFETY: the current table came from Box::into_raw.
        let table = unsafe { Box::from_raw(table) };
        for slot in table.slots.iter() {
            let p = slot.val.load(Ordering::Relaxed);
            if !p.is_null() {
                // SAFETY: every published state came from Box::into_raw.
                drop(unsafe { Box::from_raw(p) });
            }
        }
        for &(_, p) in self
            .retired_states
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            // SAFETY: replaced states came from Box::into_raw, freed once.
            drop(unsafe { Box::from_raw(p as *mut TopicState) });
        }
        let mut r = *self.retired.get_mut();
        while !r.is_null() {
            // SAFETY: each retired node and its table came from Box::into_raw.
            let node = unsafe { Box::from_raw(r) };
            drop(unsafe { Box::from_raw(node.table) });
            r = node.next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_its_own_state_and_lane() {
        let t = Topics::new();
        let n = 100_000;
        for i in 1..=n {
            let s = t.get_or_insert(i * 64);
            assert_eq!(s.rkt, i * 64);
        }
        assert_eq!(t.len(), n);
        let mut ids = std::collections::HashSet::new();
        for i in 1..=n {
            let s = t.get(i * 64).unwrap();
            assert_eq!(s.rkt, i * 64);
            ids.insert(s as *const _ as usize);
            s.with_lane(|l| l.tickets = i as u64);
        }
        assert_eq!(ids.len(), n);
        for i in 1..=n {
            assert_eq!(t.get(i * 64).unwrap().with_lane(|l| l.tickets), i as u64);
        }
        assert!(t.get(64 * (n + 1)).is_none());
    }

    #[test]
    fn removed_slots_are_reused_without_filling_the_table() {
        let t = Topics::new();
        for round in 0..2000usize {
            for i in 1..=20 {
                t.insert((round * 20 + i) * 64, round + 1);
            }
            t.remove_owned(round + 1);
        }
        assert!(t.is_empty());
        assert!(t.get(64).is_none());
    }

    #[test]
    fn a_recycled_handle_of_another_topic_gets_a_fresh_state() {
        let t = Topics::new();
        let (orders, events) = (c"orders", c"events");
        let a = unsafe { t.get_named(0x1000, orders.as_ptr()) } as *const TopicState;
        assert_eq!(a, unsafe { t.get_named(0x1000, orders.as_ptr()) }
            as *const _);
        a_state_is_marked(&t, orders.as_ptr());
        // Another topic's name at the same handle: a new state.
        let b = unsafe { t.get_named(0x1000, events.as_ptr()) };
        assert_ne!(a, b as *const _);
        assert!(!b.settled.load(Ordering::Relaxed));
        assert_eq!(b.strategy.load(Ordering::Relaxed), UNRESOLVED);
        // The same bytes at the same place are the same topic; the same
        // bytes elsewhere (a recycled handle whose name moved) are not.
        let copy = std::ffi::CString::new("events").unwrap();
        assert_ne!(
            b as *const TopicState,
            unsafe { t.get_named(0x1000, copy.as_ptr()) } as *const _
        );
        assert_eq!(t.len(), 1);
    }

    fn a_state_is_marked(t: &Topics, name: *const std::ffi::c_char) {
        let s = unsafe { t.get_named(0x1000, name) };
        s.settled.store(true, Ordering::Relaxed);
        s.strategy.store(3, Ordering::Relaxed);
    }

    #[test]
    fn owners_replace_and_remove() {
        let t = Topics::new();
        let a = t.insert(0x1000, 7) as *const TopicState;
        assert_eq!(a, t.insert(0x1000, 7) as *const _);
        assert!(t.get_owned(0x1000, 8).is_none());
        let b = t.insert(0x1000, 8);
        assert_eq!(b.owner, 8);
        assert!(t.get_owned(0x1000, 7).is_none());
        t.insert(0x2000, 8);
        t.insert(0x3000, 9);
        t.remove_owned(8);
        assert!(t.get(0x1000).is_none() && t.get(0x2000).is_none());
        assert_eq!(t.get(0x3000).unwrap().owner, 9);
        assert_eq!(t.len(), 1);
    }
}

#[cfg(test)]
mod sizes {
    /// The README states the memory per topic and per (thread, topic).
    #[test]
    fn state_sizes_match_the_readme() {
        let topic = std::mem::size_of::<super::TopicState>();
        let lane = std::mem::size_of::<super::Lane>();
        println!("TopicState {topic} B, Lane {lane} B");
        assert!(topic <= 96, "{topic}");
        assert_eq!(lane, 64, "one cache line");
    }
}
