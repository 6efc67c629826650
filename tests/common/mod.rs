//! Test helpers: a deterministic generator (not rdpart's), the C callback
//! type, and chi-square bounds.
#![allow(dead_code)]

use std::ffi::c_void;

pub type Cb = unsafe extern "C" fn(
    *const rdpart::sys::rd_kafka_topic_t,
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
