//! A table of per-topic values, found by the `rd_kafka_topic_t` pointer:
//! the generic container under every front end (strategy/state.rs holds
//! what placement keeps per topic; registry.rs the tables).
//!
//! Open addressing; lookups lock-free (a probe or two; by name, also
//! hashing the name);
//! inserts under one process-wide lock, when a topic is first seen; the
//! table grows by doubling, and old tables live as long as the table does.
//! Each place holds its value's identity beside it: the producer that owns
//! it (the plugin), or a tag of the topic's name (`get_named`: a recycled
//! handle of another topic never finds a stale value). A lookup compares
//! the identity before it touches the value.
//!
//! Why a replaced value can be freed at once: a value is replaced only when
//! its handle's address is asked for by a topic of another identity. Two
//! live topics never share an address, so the topic the value was made for
//! is gone, and with it every call for it: librdkafka holds a topic for as
//! long as it calls a partitioner or an interceptor with it (and a direct
//! caller of `rdpart_partition()` passes a live topic). Every other lookup
//! compares the identity first and never reads the old value (`get`, which
//! does not, is for callers whose own live topic the value at the address
//! is known to be). This needs each table's callers to give a topic one
//! identity: the plugin's table is asked by owner, a partitioner's by name
//! or never by name (its `rd_kafka_topic_name` is fixed when it is made or
//! when the library is loaded). The plugin's values are the producer's, not
//! the topic's: within a producer no other topic takes a handle's address,
//! as librdkafka keeps a producer's topics until the producer is destroyed
//! (a topic and its partitions hold each other), and `remove_owned` frees
//! them after that.

use std::ffi::{c_char, CStr};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Mutex;

/// A value for topic `rkt` (0: for calls without a topic), owned by
/// `owner` (0: none).
pub trait Fresh {
    fn fresh(rkt: usize, owner: usize) -> Self;
}

/// The identity `get_named` gives the topic named by the C string at
/// `name` (what librdkafka's rd_kafka_topic_name returns): where the name
/// is and its bytes, hashed; never 0, the identity of values made without
/// one. (Two names at one address whose tags, a machine word, are equal would share
/// a value; nothing is freed on a match, so that costs no safety.)
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[inline]
unsafe fn name_tag(name: *const c_char) -> usize {
    if name.is_null() {
        return 1;
    }
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write_usize(name as usize);
    // SAFETY: the caller's contract.
    h.write(unsafe { CStr::from_ptr(name) }.to_bytes());
    (h.finish() | 1) as usize
}

/// The process-wide lock for inserts into any [`Topics`] table: rare, and
/// held only for a copy. A spin lock, taken around fork() so a child never
/// inherits it held (process.rs).
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

/// One place of the table.
struct Place<T> {
    key: AtomicUsize,
    /// Whose `val` is: its owner (a plugin instance), or its topic name's
    /// tag (`name_tag`), or 0; readable without dereferencing `val`.
    ident: AtomicUsize,
    val: AtomicPtr<T>,
}

struct Table<T> {
    mask: usize,
    places: Box<[Place<T>]>,
}

impl<T> Table<T> {
    fn new(size: usize) -> Box<Table<T>> {
        Box::new(Table {
            mask: size - 1,
            places: (0..size)
                .map(|_| Place {
                    key: AtomicUsize::new(EMPTY),
                    ident: AtomicUsize::new(0),
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
    fn find(&self, rkt: usize) -> Option<&Place<T>> {
        let mut i = self.start(rkt);
        loop {
            let place = &self.places[i];
            match place.key.load(Ordering::Acquire) {
                k if k == rkt => return Some(place),
                EMPTY => return None,
                _ => i = (i + 1) & self.mask,
            }
        }
    }
}

/// A table of per-topic values keyed by `rd_kafka_topic_t` pointer.
pub struct Topics<T> {
    table: AtomicPtr<Table<T>>,
    /// Live entries, and places not EMPTY (live + tombstones); under the lock.
    used: AtomicUsize,
    filled: AtomicUsize,
    /// Tables replaced by others: readers may still be probing them, so
    /// they are freed only with the whole table. A table is replaced when
    /// half its places have been used, removed entries' places included
    /// (a topic at a handle address seen before reuses its place), so a
    /// table whose topics come and go at new addresses (the plugin's, as
    /// producers are made and destroyed) keeps up to about 100 bytes for
    /// each such topic it ever held.
    retired: Mutex<Vec<usize>>,
    /// The value of calls without a topic.
    null_topic: T,
}

// SAFETY: all shared fields are atomics or locks; raw pointers are owned
// by the table, and values are handed out as &T only.
unsafe impl<T: Send + Sync> Send for Topics<T> {}
// SAFETY: as above.
unsafe impl<T: Send + Sync> Sync for Topics<T> {}

const INITIAL: usize = 16;

impl<T: Fresh> Default for Topics<T> {
    fn default() -> Self {
        Self::new(T::fresh(0, 0))
    }
}

impl<T: Fresh> Topics<T> {
    /// An empty table; `null_topic` is the value of calls without a topic.
    pub const fn new(null_topic: T) -> Topics<T> {
        Topics {
            table: AtomicPtr::new(std::ptr::null_mut()),
            used: AtomicUsize::new(0),
            filled: AtomicUsize::new(0),
            retired: Mutex::new(Vec::new()),
            null_topic,
        }
    }

    /// The value of calls without a topic.
    #[inline(always)]
    pub fn without_topic(&self) -> &T {
        &self.null_topic
    }

    /// The value at `rkt`, whatever its identity. Lock-free. Only for a
    /// caller that knows the value there was made for its own live topic
    /// (the plugin's partitioner, after the message's on_send registered
    /// it); others ask by identity (`get_owned`, `find_named`).
    #[inline]
    pub fn get(&self, rkt: usize) -> Option<&T> {
        if rkt == 0 {
            return Some(&self.null_topic);
        }
        // SAFETY: the value is the caller's live topic's (above), and is
        // freed only once that topic is gone (see the module's comment).
        self.entry(rkt).map(|e| unsafe { &*e })
    }

    /// The value of topic `rkt` named by the C string at `name` (None:
    /// values made without a name), if a placement made one. Never makes
    /// one, and never touches a value of another topic.
    ///
    /// # Safety
    /// `name` is NULL or a NUL-terminated string.
    #[inline]
    pub unsafe fn find_named(&self, rkt: usize, name: Option<*const c_char>) -> Option<&T> {
        if rkt == 0 {
            return Some(&self.null_topic);
        }
        // SAFETY: the caller's contract.
        let ident = name.map_or(0, |n| unsafe { name_tag(n) });
        self.get_ident(rkt, ident)
    }

    #[inline]
    fn entry(&self, rkt: usize) -> Option<*mut T> {
        let p = self.table()?.find(rkt)?.val.load(Ordering::Acquire);
        (!p.is_null()).then_some(p)
    }

    /// The current table (None before the first insert). Old tables are
    /// retired, not freed, while self lives.
    #[inline]
    fn table(&self) -> Option<&Table<T>> {
        // SAFETY: NULL or a live table.
        unsafe { self.table.load(Ordering::Acquire).as_ref() }
    }

    /// The value of topic `rkt` if `owner` owns it. Lock-free, and never
    /// dereferences a value of another owner (which may be being freed).
    #[inline]
    pub fn get_owned(&self, rkt: usize, owner: usize) -> Option<&T> {
        self.get_ident(rkt, owner)
    }

    /// The value at `rkt` whose identity is `ident`, if there is one: the
    /// identity first, then the value (stored in the other order).
    #[inline]
    fn get_ident(&self, rkt: usize, ident: usize) -> Option<&T> {
        let place = self.table()?.find(rkt)?;
        if place.ident.load(Ordering::Acquire) != ident {
            return None;
        }
        let p = place.val.load(Ordering::Acquire);
        // SAFETY: a value of this identity is freed only by remove_owned
        // (its owner's topics are no longer asked for) or when replaced by
        // a value of another identity, which the identity just read rules
        // out for the caller's live topic (see the module's comment).
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// The value of topic `rkt`, made on first sight (allocates, and takes
    /// the insert lock, once per topic).
    #[inline]
    pub fn get_or_insert(&self, rkt: usize) -> &T {
        match self.get(rkt) {
            Some(s) => s,
            None => self.insert(rkt, 0),
        }
    }

    /// The value of topic `rkt`, whose name is the C string at `name` (what
    /// librdkafka's rd_kafka_topic_name returns). A value made for another
    /// topic whose handle had this address (a destroyed producer's) is
    /// replaced: placement follows the topic, never a recycled address.
    ///
    /// # Safety
    /// `name` is NULL or a NUL-terminated string.
    #[inline]
    pub unsafe fn get_named(&self, rkt: usize, name: *const c_char) -> &T {
        if rkt == 0 {
            return &self.null_topic;
        }
        // SAFETY: the caller's contract.
        let tag = unsafe { name_tag(name) };
        match self.get_ident(rkt, tag) {
            Some(v) => v,
            None => self.insert_ident(rkt, tag, 0),
        }
    }

    /// The value of `rkt` owned by `owner`, made unless it exists; a value
    /// of another owner at the same key (a destroyed producer's topic whose
    /// address was reused) is replaced and freed.
    #[cold]
    pub fn insert(&self, rkt: usize, owner: usize) -> &T {
        self.insert_ident(rkt, owner, owner)
    }

    /// The value at `rkt` whose identity is `ident`, made (for `owner`)
    /// unless it exists; a value of another identity there is replaced and
    /// freed at once (see the module's comment for why no call still
    /// reads it).
    #[cold]
    fn insert_ident(&self, rkt: usize, ident: usize, owner: usize) -> &T {
        let make = || Box::into_raw(Box::new(T::fresh(rkt, owner)));
        let _g = InsertGuard::new();
        if let Some(place) = self.table().and_then(|t| t.find(rkt)) {
            let p = place.val.load(Ordering::Acquire);
            if !p.is_null() && place.ident.load(Ordering::Relaxed) == ident {
                // SAFETY: published entries are live while in the table.
                return unsafe { &*p };
            }
            let new = make();
            // Value, then identity: a reader that sees the new identity
            // sees the new value.
            place.val.store(new, Ordering::Release);
            place.ident.store(ident, Ordering::Release);
            if !p.is_null() {
                // SAFETY: p came from Box::into_raw; the topic it was made
                // for is gone (its handle's address now belongs to a topic
                // of another identity), so no call reads it.
                drop(unsafe { Box::from_raw(p) });
            }
            // SAFETY: just published.
            return unsafe { &*new };
        }
        self.publish(rkt, ident, make())
    }

    /// Publishes `new` as the entry of `rkt` (not in the table) with
    /// identity `ident`, growing the table if needed. Called under the lock.
    fn publish(&self, rkt: usize, ident: usize, new: *mut T) -> &T {
        if self.table().is_none() {
            self.table
                .store(Box::into_raw(Table::new(INITIAL)), Ordering::Release);
        }
        let table = self.table().expect("made above");
        let table = if (self.filled.load(Ordering::Relaxed) + 1) * 2 > table.places.len() {
            self.grow(table)
        } else {
            table
        };
        let mut i = table.start(rkt);
        loop {
            let place = &table.places[i];
            let k = place.key.load(Ordering::Relaxed);
            if k == EMPTY || k == TOMBSTONE {
                // Value and identity first, then key: a reader that sees
                // the key sees them.
                place.val.store(new, Ordering::Release);
                place.ident.store(ident, Ordering::Release);
                place.key.store(rkt, Ordering::Release);
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
    fn grow(&self, old: &Table<T>) -> &Table<T> {
        let live = self.used.load(Ordering::Relaxed) + 1;
        let mut size = INITIAL;
        while size < live * 4 {
            size *= 2;
        }
        let new = Table::new(size);
        for place in old.places.iter() {
            let k = place.key.load(Ordering::Relaxed);
            if k == EMPTY || k == TOMBSTONE {
                continue;
            }
            let mut i = new.start(k);
            while new.places[i].key.load(Ordering::Relaxed) != EMPTY {
                i = (i + 1) & new.mask;
            }
            let to = &new.places[i];
            to.val
                .store(place.val.load(Ordering::Relaxed), Ordering::Relaxed);
            to.ident
                .store(place.ident.load(Ordering::Relaxed), Ordering::Relaxed);
            to.key.store(k, Ordering::Relaxed);
        }
        self.filled.store(live - 1, Ordering::Relaxed);
        let new = Box::into_raw(new);
        let old = self.table.swap(new, Ordering::AcqRel);
        self.retired
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(old as usize);
        // SAFETY: just made.
        unsafe { &*new }
    }

    /// Removes and frees every value owned by `owner`. The caller
    /// guarantees no placement can still ask for those topics.
    pub fn remove_owned(&self, owner: usize) {
        let _g = InsertGuard::new();
        let Some(table) = self.table() else { return };
        for place in table.places.iter() {
            let k = place.key.load(Ordering::Relaxed);
            if k == EMPTY || k == TOMBSTONE {
                continue;
            }
            let p = place.val.load(Ordering::Acquire);
            if !p.is_null() && place.ident.load(Ordering::Relaxed) == owner {
                place.key.store(TOMBSTONE, Ordering::Release);
                place.ident.store(0, Ordering::Release);
                place.val.store(std::ptr::null_mut(), Ordering::Release);
                self.used.fetch_sub(1, Ordering::Relaxed);
                // SAFETY: from Box::into_raw; no placement asks for it now.
                drop(unsafe { Box::from_raw(p) });
            }
        }
    }

    /// The sum of `f` over every value (under the insert lock, so none is
    /// freed meanwhile).
    pub fn sum(&self, f: impl Fn(&T) -> i64) -> i64 {
        let _g = InsertGuard::new();
        let Some(table) = self.table() else { return 0 };
        table
            .places
            .iter()
            .map(|place| place.val.load(Ordering::Acquire))
            .filter(|p| !p.is_null())
            // SAFETY: published entries are freed only under the lock.
            .map(|p| f(unsafe { &*p }))
            .sum()
    }

    /// Calls `f(rkt, identity, value)` for every value (the identity is
    /// the owner in a table of owned values; under the insert
    /// lock, so none is freed meanwhile; `f` must not insert).
    pub fn each(&self, mut f: impl FnMut(usize, usize, &T)) {
        let _g = InsertGuard::new();
        let Some(table) = self.table() else { return };
        for place in table.places.iter() {
            let k = place.key.load(Ordering::Acquire);
            let p = place.val.load(Ordering::Acquire);
            if k != EMPTY && k != TOMBSTONE && !p.is_null() {
                // SAFETY: published entries are freed only under the lock.
                f(k, place.ident.load(Ordering::Acquire), unsafe { &*p });
            }
        }
    }

    /// How many topics have a value.
    pub fn len(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Topics<T> {
    fn drop(&mut self) {
        let table = *self.table.get_mut();
        if !table.is_null() {
            // SAFETY: the current table came from Box::into_raw.
            let table = unsafe { Box::from_raw(table) };
            for place in table.places.iter() {
                let p = place.val.load(Ordering::Relaxed);
                if !p.is_null() {
                    // SAFETY: every published entry came from Box::into_raw.
                    drop(unsafe { Box::from_raw(p) });
                }
            }
        }
        let tables = self.retired.get_mut();
        for &t in tables.as_ref().unwrap_or_else(|e| e.get_ref()).iter() {
            // SAFETY: each retired table came from Box::into_raw; its
            // entries moved to the next table.
            drop(unsafe { Box::from_raw(t as *mut Table<T>) });
        }
    }
}

#[cfg(test)]
#[allow(clippy::undocumented_unsafe_blocks)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Value {
        rkt: usize,
        mark: AtomicUsize,
    }

    impl Fresh for Value {
        fn fresh(rkt: usize, _owner: usize) -> Value {
            Value {
                rkt,
                mark: AtomicUsize::new(0),
            }
        }
    }

    fn table() -> Topics<Value> {
        Topics::default()
    }

    #[test]
    fn every_topic_its_own_value() {
        let t = table();
        let n = 100_000;
        for i in 1..=n {
            assert_eq!(t.get_or_insert(i * 64).rkt, i * 64);
        }
        assert_eq!(t.len(), n);
        let mut ids = std::collections::HashSet::new();
        for i in 1..=n {
            let s = t.get(i * 64).unwrap();
            assert_eq!(s.rkt, i * 64);
            ids.insert(s as *const _ as usize);
        }
        assert_eq!(ids.len(), n);
        assert!(t.get(64 * (n + 1)).is_none());
    }

    #[test]
    fn removed_places_are_reused_without_filling_the_table() {
        let t = table();
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
    fn a_recycled_handle_of_another_topic_gets_a_fresh_value() {
        let t = table();
        let (orders, events) = (c"orders", c"events");
        // get_named is given C strings throughout.
        let a = unsafe { t.get_named(0x1000, orders.as_ptr()) };
        a.mark.store(3, Ordering::Relaxed);
        let a = a as *const Value;
        assert_eq!(a, unsafe { t.get_named(0x1000, orders.as_ptr()) }
            as *const _);
        // Another topic's name at the same handle: a new value.
        let b = unsafe { t.get_named(0x1000, events.as_ptr()) };
        assert_ne!(a, b as *const _);
        assert_eq!(b.mark.load(Ordering::Relaxed), 0);
        // The same bytes at the same place are the same topic; the same
        // bytes elsewhere (a recycled handle whose name moved) are not.
        let copy = std::ffi::CString::new("events").unwrap();
        assert_ne!(
            b as *const Value,
            unsafe { t.get_named(0x1000, copy.as_ptr()) } as *const _
        );
        assert_eq!(t.len(), 1);
    }

    /// A value that counts how many of its kind are alive.
    struct Counted;
    static ALIVE: AtomicUsize = AtomicUsize::new(0);
    impl Fresh for Counted {
        fn fresh(_rkt: usize, _owner: usize) -> Counted {
            ALIVE.fetch_add(1, Ordering::Relaxed);
            Counted
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            ALIVE.fetch_sub(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_replaced_value_is_freed_at_once() {
        // Producers made and destroyed in turn, each with a topic of its
        // own name whose handle (and name) land at the same addresses: the
        // table keeps one value per live topic, not one per topic ever.
        let before = ALIVE.load(Ordering::Relaxed);
        let t: Topics<Counted> = Topics::new(Counted::fresh(0, 0));
        let mut name = [0u8; 16];
        for i in 0..10_000u32 {
            let text = format!("job-{i}\0");
            name[..text.len()].copy_from_slice(text.as_bytes());
            unsafe { t.get_named(0x1000, name.as_ptr() as *const c_char) };
            assert_eq!(
                ALIVE.load(Ordering::Relaxed),
                before + 2,
                "after {i}: the null topic's and one"
            );
        }
        // The same name again at the same place: the same value.
        let a = unsafe { t.get_named(0x1000, name.as_ptr() as *const c_char) } as *const Counted;
        let b = unsafe { t.get_named(0x1000, name.as_ptr() as *const c_char) } as *const Counted;
        assert_eq!(a, b);
        drop(t);
        assert_eq!(ALIVE.load(Ordering::Relaxed), before, "every value freed");
    }

    #[test]
    fn owners_replace_and_remove() {
        let t = table();
        let a = t.insert(0x1000, 7) as *const Value;
        assert_eq!(a, t.insert(0x1000, 7) as *const _);
        assert!(t.get_owned(0x1000, 8).is_none());
        t.insert(0x1000, 8);
        assert!(t.get_owned(0x1000, 8).is_some());
        assert!(t.get_owned(0x1000, 7).is_none());
        t.insert(0x2000, 8);
        t.insert(0x3000, 9);
        t.remove_owned(8);
        assert!(t.get(0x1000).is_none() && t.get(0x2000).is_none());
        assert!(t.get_owned(0x3000, 9).is_some());
        assert_eq!(t.len(), 1);
    }
}
