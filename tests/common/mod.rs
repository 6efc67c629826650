//! Test helpers: a deterministic generator (not rdpart's), the C callback
//! type, every exported callback, chi-square bounds, and fake topics whose
//! leaders a test sets.
#![allow(dead_code)]

use rdpart::capi::*;
use rdpart::config::Config;
use rdpart::partitioner::Partitioner;
use rdpart::strategy::{RunLimits, Strategy, TopicRef, TopicState};
use rdpart::sys::rd_kafka_topic_t;
use rdpart::topics::Topics;
use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};

pub type Cb = unsafe extern "C" fn(
    *const rd_kafka_topic_t,
    *const c_void,
    usize,
    i32,
    *mut c_void,
    *mut c_void,
) -> i32;

/// A librdkafka partitioner from rdkafka-sys as a `Cb` (the topic types of
/// the two crates are both opaque; the ABI is identical).
pub fn librdkafka(
    f: unsafe extern "C" fn(
        *const rdkafka_sys::rd_kafka_topic_t,
        *const c_void,
        usize,
        i32,
        *mut c_void,
        *mut c_void,
    ) -> i32,
) -> Cb {
    // SAFETY: same signature up to the opaque topic type.
    unsafe { std::mem::transmute(f) }
}

/// rdpart's six hash partitioners with librdkafka's function for each.
pub fn hash_pairs() -> [(&'static str, Cb, Cb); 6] {
    use rdkafka_sys as k;
    use rdpart::capi::*;
    [
        (
            "murmur2",
            rdpart_murmur2,
            librdkafka(k::rd_kafka_msg_partitioner_murmur2),
        ),
        (
            "murmur2_random",
            rdpart_murmur2_random,
            librdkafka(k::rd_kafka_msg_partitioner_murmur2_random),
        ),
        (
            "consistent",
            rdpart_consistent,
            librdkafka(k::rd_kafka_msg_partitioner_consistent),
        ),
        (
            "consistent_random",
            rdpart_consistent_random,
            librdkafka(k::rd_kafka_msg_partitioner_consistent_random),
        ),
        (
            "fnv1a",
            rdpart_fnv1a,
            librdkafka(k::rd_kafka_msg_partitioner_fnv1a),
        ),
        (
            "fnv1a_random",
            rdpart_fnv1a_random,
            librdkafka(k::rd_kafka_msg_partitioner_fnv1a_random),
        ),
    ]
}

/// splitmix64: a test-side generator, independent of the library's.
pub struct Gen(pub u64);

impl Gen {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Call a callback with a key (`None`: NULL key).
pub fn call(cb: Cb, key: Option<&[u8]>, n: i32) -> i32 {
    let (p, len) = match key {
        Some(k) => (k.as_ptr() as *const c_void, k.len()),
        None => (std::ptr::null(), 0),
    };
    unsafe {
        cb(
            std::ptr::null(),
            p,
            len,
            n,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    }
}

/// The chi-square statistic of `counts` against a uniform expectation.
pub fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let e = total as f64 / counts.len() as f64;
    counts.iter().map(|&c| (c as f64 - e).powi(2) / e).sum()
}

/// The chi-square value exceeded with probability ~1e-6 for `df` degrees of
/// freedom (Wilson-Hilferty): a uniform source fails this once in a million.
pub fn chi_square_bound(df: usize) -> f64 {
    let k = df as f64;
    let z = 4.753; // one-sided normal quantile for 1e-6
    k * (1.0 - 2.0 / (9.0 * k) + z * (2.0 / (9.0 * k)).sqrt()).powi(3)
}

/// Every exported callback, by its strategy's name (tests/lists.rs checks
/// the names against the strategies' declaration).
pub const CALLBACKS: [(&str, Cb); 16] = [
    ("murmur2", rdpart_murmur2),
    ("murmur2_random", rdpart_murmur2_random),
    ("consistent", rdpart_consistent),
    ("consistent_random", rdpart_consistent_random),
    ("fnv1a", rdpart_fnv1a),
    ("fnv1a_random", rdpart_fnv1a_random),
    ("jump", rdpart_jump),
    ("random", rdpart_random),
    ("round_robin", rdpart_round_robin),
    ("sticky", rdpart_sticky),
    ("kafkajs", rdpart_kafkajs),
    ("kafkajs_legacy", rdpart_kafkajs_legacy),
    ("sarama_reference", rdpart_sarama_reference),
    ("sarama_crc", rdpart_sarama_crc),
    ("kafka_go_hash", rdpart_kafka_go_hash),
    ("adaptive", rdpart_adaptive),
];

/// A fake topic: the "rkt" points at a bit mask of partitions that have no
/// leader, and `fake_available` reads it, as librdkafka's function would.
pub struct FakeTopic(pub AtomicU64);

impl FakeTopic {
    pub fn new(down: u64) -> Box<FakeTopic> {
        Box::new(FakeTopic(AtomicU64::new(down)))
    }
    pub fn rkt(&self) -> *const rd_kafka_topic_t {
        self as *const FakeTopic as *const rd_kafka_topic_t
    }
}

pub unsafe extern "C" fn fake_available(rkt: *const rd_kafka_topic_t, p: i32) -> c_int {
    let down = unsafe { &*(rkt as *const FakeTopic) }
        .0
        .load(Ordering::Relaxed);
    (down >> p & 1 == 0) as c_int
}

/// A partitioner with its own topic table, as rdpart_new() makes.
pub struct TestPart {
    pub part: Partitioner,
    pub topics: Topics<TopicState>,
}

impl TestPart {
    pub fn partition(&self, rkt: *const rd_kafka_topic_t, key: Option<&[u8]>, n: u32) -> u32 {
        self.part.place(rkt, TopicRef::Table(&self.topics), key, n)
    }
}

pub fn partitioner(strategy: Strategy, messages: u32, linger_ms: u32) -> TestPart {
    TestPart {
        part: Partitioner::new(
            Config {
                strategy,
                run: RunLimits {
                    messages,
                    linger_ms,
                    ..RunLimits::default()
                },
                ..Config::default()
            },
            Some(fake_available),
            None,
        ),
        topics: Topics::default(),
    }
}

/// A fake topic whose availability function counts its calls.
pub static CALLS: AtomicU64 = AtomicU64::new(0);

pub unsafe extern "C" fn counting_available(rkt: *const rd_kafka_topic_t, p: i32) -> c_int {
    CALLS.fetch_add(1, Ordering::Relaxed);
    unsafe { fake_available(rkt, p) }
}

pub fn counting(strategy: Strategy) -> TestPart {
    TestPart {
        part: Partitioner::new(
            Config {
                strategy,
                run: RunLimits {
                    messages: 1,
                    linger_ms: 0,
                    ..RunLimits::default()
                },
                ..Config::default()
            },
            Some(counting_available),
            None,
        ),
        topics: Topics::default(),
    }
}
