//! Calls that must not allocate, counted by a global allocator: the
//! partitioner callbacks once warm (the hot path may not allocate), and
//! rdpart_conf_topic_strategy(), which once copied the whole configuration
//! per call (0.84 ms with 10,000 topic.strategy pairs).

use rdpart::capi::*;
use rdpart::sys::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{c_void, CStr, CString};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.fetch_add(1, Relaxed);
        }
        // SAFETY: the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: allocated above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static A: Counting = Counting;

/// Allocations made by `f` in this thread.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Relaxed);
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.load(Relaxed) - before
}

#[test]
fn topic_strategy_lookup_reads_the_conf_without_copying_it() {
    let pairs: Vec<String> = (0..10_000).map(|i| format!("t{i}:jump")).collect();
    let value = CString::new(pairs.join(",")).unwrap();
    let mut err = [0 as std::ffi::c_char; 256];
    // SAFETY: valid arguments throughout.
    unsafe {
        let conf = rdpart_conf_new();
        assert_eq!(
            rdpart_conf_set(
                conf,
                c"topic.strategy".as_ptr(),
                value.as_ptr(),
                err.as_mut_ptr(),
                256
            ),
            RD_KAFKA_CONF_OK
        );
        // The first call of a thread may set up thread-local state.
        let mut s = rdpart_conf_topic_strategy(conf, c"t1".as_ptr());
        let n = allocations(|| {
            for _ in 0..100 {
                s = rdpart_conf_topic_strategy(conf, c"t9999".as_ptr());
            }
        });
        assert_eq!(CStr::from_ptr(s).to_str().unwrap(), "jump");
        assert_eq!(
            n, 0,
            "rdpart_conf_topic_strategy allocated {n} times in 100 calls"
        );
        rdpart_conf_destroy(conf);
    }
}

#[test]
fn warm_callbacks_do_not_allocate() {
    let key = b"0123456789abcdef";
    let k = key.as_ptr() as *const c_void;
    let none = std::ptr::null_mut();
    // SAFETY: NULL topics and opaques are allowed; the key is valid.
    unsafe {
        let part = rdpart_new(std::ptr::null(), std::ptr::null_mut(), 0);
        let calls = || {
            for i in 0..1000 {
                let keyed = if i % 2 == 0 { k } else { std::ptr::null() };
                for cb in [
                    rdpart_murmur2,
                    rdpart_sticky,
                    rdpart_round_robin,
                    rdpart_random,
                    rdpart_adaptive,
                    rdpart_jump,
                ] {
                    let p = cb(std::ptr::null(), keyed, key.len(), 6, none, none);
                    assert!((0..6).contains(&p));
                }
                let p = rdpart_partition(
                    std::ptr::null(),
                    keyed,
                    key.len(),
                    6,
                    part as *mut c_void,
                    none,
                );
                assert!((0..6).contains(&p));
            }
        };
        calls();
        let n = allocations(calls);
        assert_eq!(n, 0, "warm callbacks allocated {n} times");
        rdpart_destroy(part);
    }
}

#[test]
fn hot_keys_count_and_turn_without_allocating() {
    let mut err = [0 as std::ffi::c_char; 256];
    // SAFETY: valid arguments throughout; NULL topics and opaques are allowed.
    unsafe {
        let conf = rdpart_conf_new();
        for (name, value) in [(c"strategy", c"murmur2"), (c"hot.key.share", c"0.3")] {
            let r = rdpart_conf_set(conf, name.as_ptr(), value.as_ptr(), err.as_mut_ptr(), 256);
            assert_eq!(r, RD_KAFKA_CONF_OK);
        }
        let part = rdpart_new(conf, err.as_mut_ptr(), 256) as *mut c_void;
        rdpart_conf_destroy(conf);
        let place = |key: &[u8]| {
            let p = rdpart_partition(
                std::ptr::null(),
                key.as_ptr() as *const c_void,
                key.len(),
                6,
                part,
                std::ptr::null_mut(),
            );
            assert!((0..6).contains(&p));
            p as usize
        };
        // Warm: the table is made, and key "a" turns hot.
        for i in 0..2000u32 {
            let other = i.to_le_bytes();
            place(if i % 2 == 0 { b"a" } else { &other });
        }
        // Counted: a second and more of key "b" alone: "a" cools and "b"
        // turns hot (both said on stderr), with no allocation.
        let mut seen = [0u32; 6];
        let start = std::time::Instant::now();
        let n = allocations(|| {
            while start.elapsed() < std::time::Duration::from_millis(1300) {
                for _ in 0..1000 {
                    seen[place(b"b")] += 1;
                }
            }
        });
        assert_eq!(n, 0, "hot keys allocated {n} times");
        assert!(
            seen.iter().filter(|&&c| c > 0).count() >= 4,
            "b was not spread: {seen:?}"
        );
        rdpart_destroy(part as *mut rdpart_t);
    }
}

#[test]
fn rack_and_broker_views_do_not_allocate_on_the_keyless_path() {
    use rdpart::strategy::{acknowledged, Brokers, Ctx, Report, Strategy, TopicRef, TopicState};
    // A topic whose leaders are known (partition p on broker p % 3, broker 0
    // in the client's rack) and a producer whose broker 2 is slow: the view
    // the plugin feeds. Placing, re-checking runs and judging brokers must
    // not allocate once the views exist.
    let t = TopicState::null();
    t.view.leaders().update(6, |p| Some(p as i32 % 3));
    t.view.rack().update(6, |p| p % 3 == 0);
    let b = std::sync::Arc::new(Brokers::default());
    for id in 0..3 {
        b.request_sent(id);
    }
    b.response_received(0, 900, false);
    b.response_received(1, 1_100, false);
    t.view.set_brokers(b.clone());
    let ctx = Ctx::new(std::ptr::null(), TopicRef::Known(&t));
    let latency = || Some(2_000u64);
    let run = || {
        for _ in 0..5_000 {
            for s in [
                Strategy::Adaptive,
                Strategy::Sticky,
                Strategy::Random,
                Strategy::RoundRobin,
            ] {
                let p = s.place(None, 6, &ctx);
                assert!(p % 3 == 0, "{s:?} placed on {p}, outside the rack");
                if s == Strategy::Adaptive {
                    acknowledged(
                        &t,
                        Report {
                            partition: p as i32,
                            delivered: true,
                            latency_us: &latency,
                            bytes: None,
                            broker: 0,
                        },
                    );
                }
            }
        }
    };
    run();
    let n = allocations(run);
    assert_eq!(
        n, 0,
        "placement with rack and broker views allocated {n} times"
    );
}
