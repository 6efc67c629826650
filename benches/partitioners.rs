//! Per-call cost of rdpart's partitioners against librdkafka's own, both
//! called through a function pointer on the same keys, in one process.
//!
//!     cargo bench --bench partitioners            # full table
//!     cargo bench --bench partitioners -- --quick # fewer, shorter runs
//!
//! Each figure is the median of several timed runs of ~20 ms. Ratios are
//! rdpart / peer: below 1.0 means rdpart is faster.

use rdpart::capi::*;
use rdpart::sys::*;
use std::ffi::{c_int, c_void};
use std::hint::black_box;
use std::time::Instant;

#[path = "../tests/common/mod.rs"]
mod common;
use common::Cb;

const KEYS: usize = 256;

struct Keys {
    buf: Vec<u8>,
    len: usize,
}

impl Keys {
    fn new(len: usize) -> Keys {
        let mut x = 0x1234_5678_9abc_def0u64 ^ len as u64;
        let buf = (0..KEYS * len.max(1))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        Keys { buf, len }
    }
    #[inline]
    fn key(&self, i: usize) -> *const c_void {
        self.buf[(i % KEYS) * self.len.max(1)..].as_ptr() as *const c_void
    }
}

/// Median ns per call of `cb` over `keys` (None: NULL keys) with `n` partitions.
fn ns_per_call(cb: Cb, keys: Option<&Keys>, n: i32, runs: usize, run_ms: u64) -> f64 {
    let cb = black_box(cb);
    let call = |iters: usize| {
        let mut acc = 0i64;
        let t = Instant::now();
        for i in 0..iters {
            let (key, len) = keys.map_or((std::ptr::null(), 0), |k| (k.key(i), k.len));
            acc += unsafe {
                cb(
                    std::ptr::null(),
                    key,
                    len,
                    n,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            } as i64;
        }
        black_box(acc);
        t.elapsed().as_nanos() as f64
    };
    median_ns(call, runs, run_ms)
}

/// Median ns per iteration of `call(iters)` (which returns the ns it took),
/// over `runs` runs of about `run_ms` each.
fn median_ns(call: impl Fn(usize) -> f64, runs: usize, run_ms: u64) -> f64 {
    // Calibrate the iteration count to ~run_ms.
    let mut iters = 1000;
    while call(iters) < 1e6 {
        iters *= 2;
    }
    let iters = (iters as f64 * run_ms as f64 / (call(iters) / 1e6)).max(1000.0) as usize;
    let mut samples: Vec<f64> = (0..runs).map(|_| call(iters) / iters as f64).collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[runs / 2]
}

/// A stand-in for librdkafka's availability function: every partition up.
unsafe extern "C" fn all_available(_: *const rdpart::sys::rd_kafka_topic_t, _: i32) -> c_int {
    1
}

/// Per-call ns of `cb` on one topic (`rkt`: 0 for none) from `threads`
/// threads at once (keyless): the best of `runs` runs, since on a shared
/// virtual machine other tenants only ever add time (the stateless
/// murmur2 row shows how much the machine itself varies).
fn contended(cb: Cb, rkt: usize, threads: usize, calls: usize, runs: usize) -> f64 {
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let barrier = std::sync::Barrier::new(threads);
            let per: Vec<f64> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|_| {
                        let barrier = &barrier;
                        s.spawn(move || {
                            barrier.wait();
                            let t = Instant::now();
                            let mut acc = 0i64;
                            for _ in 0..calls {
                                acc += unsafe {
                                    black_box(cb)(
                                        rkt as *const _,
                                        std::ptr::null(),
                                        0,
                                        6,
                                        std::ptr::null_mut(),
                                        std::ptr::null_mut(),
                                    )
                                } as i64;
                            }
                            black_box(acc);
                            t.elapsed().as_nanos() as f64 / calls as f64
                        })
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            per.iter().sum::<f64>() / per.len() as f64
        })
        .collect();
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[0]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, run_ms) = if quick { (3, 5) } else { (9, 20) };
    let contention_only = std::env::args().any(|a| a == "--contention");
    if std::env::args().any(|a| a == "--presets") {
        presets_and_options(runs, run_ms);
        return;
    }
    if !contention_only {
        hashes_and_placement(runs, run_ms);
        presets_and_options(runs, run_ms);
    }
    contention(quick, runs);
}

fn hashes_and_placement(runs: usize, run_ms: u64) {
    let lens = [0usize, 8, 16, 64, 256, 1024];
    let counts = [6, 1000];
    use rdkafka_sys as k;
    let pairs = common::hash_pairs();
    println!(
        "## 1. Hash partitioners against librdkafka {} (ns per call, median of {runs})\n",
        unsafe { std::ffi::CStr::from_ptr(k::rd_kafka_version_str()).to_string_lossy() }
    );
    println!("| partitioner | n | key bytes | rdpart ns | librdkafka ns | ratio |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut worst: f64 = 0.0;
    for (name, ours, theirs) in pairs {
        for n in counts {
            for len in lens {
                // consistent_random sends empty keys to random: not comparable.
                if len == 0 && name == "consistent_random" {
                    continue;
                }
                let keys = Keys::new(len);
                // Interleave to share machine noise.
                let a = ns_per_call(ours, Some(&keys), n, runs, run_ms);
                let b = ns_per_call(theirs, Some(&keys), n, runs, run_ms);
                worst = worst.max(a / b);
                println!("| {name} | {n} | {len} | {a:.2} | {b:.2} | {:.2}x |", a / b);
            }
        }
    }
    println!("\nworst ratio: {worst:.2}x\n");

    println!("## Placement strategies against rdpart_murmur2 on a 16-byte key (ns per call)\n");
    println!("| partitioner | n | key | ns | rdpart_murmur2 16 B ns | ratio |");
    println!("|---|---:|---|---:|---:|---:|");
    let k16 = Keys::new(16);
    for n in counts {
        let base = ns_per_call(rdpart_murmur2, Some(&k16), n, runs, run_ms);
        let cases: [(&str, Cb, Option<&Keys>, &str); 5] = [
            ("jump", rdpart_jump, Some(&k16), "16 B"),
            ("random", rdpart_random, None, "NULL"),
            ("round_robin", rdpart_round_robin, None, "NULL"),
            ("sticky", rdpart_sticky, None, "NULL"),
            ("sticky", rdpart_sticky, Some(&k16), "16 B"),
        ];
        for (name, cb, keys, what) in cases {
            let ns = ns_per_call(cb, keys, n, runs, run_ms);
            println!(
                "| {name} | {n} | {what} | {ns:.2} | {base:.2} | {:.2}x |",
                ns / base
            );
        }
    }
}

/// An rdpart_new() partitioner with these properties.
fn configured(props: &[(&str, &str)]) -> *mut rdpart_t {
    let c = rdpart_conf_new();
    let mut err = [0 as std::ffi::c_char; 256];
    for (k, v) in props {
        let (k, v) = (
            std::ffi::CString::new(*k).unwrap(),
            std::ffi::CString::new(*v).unwrap(),
        );
        let r = unsafe { rdpart_conf_set(c, k.as_ptr(), v.as_ptr(), err.as_mut_ptr(), err.len()) };
        assert_eq!(r, RD_KAFKA_CONF_OK);
    }
    let p = unsafe { rdpart_new(c, err.as_mut_ptr(), err.len()) };
    unsafe { rdpart_conf_destroy(c) };
    assert!(!p.is_null());
    p
}

/// Median ns per call of rdpart_partition with `part` as its opaque.
fn ns_per_partition(part: *mut rdpart_t, keys: &Keys, n: i32, runs: usize, run_ms: u64) -> f64 {
    let call = |iters: usize| {
        let mut acc = 0i64;
        let t = Instant::now();
        for i in 0..iters {
            acc += unsafe {
                black_box(rdpart_partition as Cb)(
                    std::ptr::null(),
                    keys.key(i),
                    keys.len,
                    n,
                    black_box(part) as *mut c_void,
                    std::ptr::null_mut(),
                )
            } as i64;
        }
        black_box(acc);
        t.elapsed().as_nanos() as f64
    };
    median_ns(call, runs, run_ms)
}

fn presets_and_options(runs: usize, run_ms: u64) {
    println!("## Client presets and options against what they are built on (ns per call)\n");
    println!("Callbacks on 16-byte keys. `rdpart_partition` rows: an rdpart_new() partitioner,");
    println!("murmur2, against the plain callback; with `key.delimiter` set, on keys that do");
    println!("not contain it (the same bytes hashed, plus the search).\n");
    println!("| partitioner | n | ns | built on | its ns | ratio |");
    println!("|---|---:|---:|---|---:|---:|");
    let k16 = Keys::new(16);
    let plain = configured(&[("strategy", "murmur2")]);
    let cut = configured(&[("strategy", "murmur2"), ("key.delimiter", "\u{1}\u{2}")]);
    for n in [6, 1000] {
        let cases: [(&str, Cb, &str, Cb); 5] = [
            ("kafkajs", rdpart_kafkajs, "rdpart_murmur2", rdpart_murmur2),
            (
                "kafkajs_legacy",
                rdpart_kafkajs_legacy,
                "rdpart_murmur2",
                rdpart_murmur2,
            ),
            (
                "sarama_reference",
                rdpart_sarama_reference,
                "rdpart_fnv1a",
                rdpart_fnv1a,
            ),
            (
                "sarama_crc",
                rdpart_sarama_crc,
                "rdpart_consistent",
                rdpart_consistent,
            ),
            (
                "kafka_go_hash",
                rdpart_kafka_go_hash,
                "rdpart_fnv1a",
                rdpart_fnv1a,
            ),
        ];
        for (name, cb, base_name, base) in cases {
            let a = ns_per_call(cb, Some(&k16), n, runs, run_ms);
            let b = ns_per_call(base, Some(&k16), n, runs, run_ms);
            println!(
                "| {name} | {n} | {a:.2} | {base_name} | {b:.2} | {:.2}x |",
                a / b
            );
        }
        let b = ns_per_call(rdpart_murmur2, Some(&k16), n, runs, run_ms);
        for (name, part) in [
            ("rdpart_partition murmur2, no options", plain),
            ("rdpart_partition murmur2, key.delimiter set", cut),
        ] {
            let a = ns_per_partition(part, &k16, n, runs, run_ms);
            println!(
                "| {name} | {n} | {a:.2} | rdpart_murmur2 | {b:.2} | {:.2}x |",
                a / b
            );
        }
    }
    unsafe {
        rdpart_destroy(plain);
        rdpart_destroy(cut);
    }
    println!();
}

fn contention(quick: bool, runs: usize) {
    println!("\n## 2. Contention: one topic, keyless, 6 partitions (ns per call per thread)\n");
    println!("With a topic: a non-NULL rkt, its state found in the topic table, and an");
    println!("availability function that says every partition is up (as librdkafka's");
    println!("would once leaders are known), handed over with rdpart_set_available().\n");
    println!("Best of {runs} runs (noise on a shared machine only adds time).\n");
    println!("| partitioner | topic | 1 thread | 2 threads | 2 / 1 |");
    println!("|---|---|---:|---:|---:|");
    let calls = if quick { 200_000 } else { 2_000_000 };
    rdpart_set_available(Some(all_available));
    let topic = Box::new([0u64; 8]);
    for (what, rkt) in [
        ("none (NULL)", 0usize),
        ("one rkt", &*topic as *const _ as usize),
    ] {
        for (name, cb) in [
            (
                "murmur2 (no state: the machine's own 2 / 1)",
                rdpart_murmur2 as Cb,
            ),
            ("random", rdpart_random),
            ("round_robin", rdpart_round_robin),
            ("sticky", rdpart_sticky),
        ] {
            let one = contended(cb, rkt, 1, calls, runs);
            let two = contended(cb, rkt, 2, calls, runs);
            println!(
                "| {name} | {what} | {one:.2} | {two:.2} | {:.2}x |",
                two / one
            );
        }
    }
    rdpart_set_available(None);
}
