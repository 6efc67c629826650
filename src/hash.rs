//! The hash functions, kept apart from placement.
//!
//! Every function here is a pure function of its input bytes. They are
//! bit-compatible with librdkafka (`rdmurmur2.c`, `rdfnv1a.c`, `rdcrc32.c`),
//! the Java client (`Utils.murmur2`) and Sarama (`NewHashPartitioner`).

/// Seed shared by Kafka's murmur2 and rdpart's murmur64a.
pub const KAFKA_SEED: u32 = 0x9747_b28c;

/// MurmurHash2 (32-bit) exactly as Kafka uses it: little-endian 4-byte
/// blocks, seed 0x9747b28c, `h = seed ^ len`.
#[inline]
pub fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let mut h = KAFKA_SEED ^ (data.len() as u32);
    let mut blocks = data.chunks_exact(4);
    for b in &mut blocks {
        let mut k = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M) ^ k;
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate() {
            h ^= (byte as u32) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^ (h >> 15)
}

/// MurmurHash64A: little-endian 8-byte blocks, `h = seed ^ (len * m)`.
#[inline]
pub fn murmur64a(data: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (data.len() as u64).wrapping_mul(M);
    let mut blocks = data.chunks_exact(8);
    for b in &mut blocks {
        let mut k = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        for (i, &byte) in tail.iter().enumerate() {
            h ^= (byte as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^ (h >> R)
}

/// Standard zlib CRC-32 (what librdkafka's `consistent` partitioner uses).
#[inline]
pub fn crc32(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// 32-bit FNV-1a (Go's `hash/fnv` New32a, librdkafka's `rdfnv1a.c`).
#[inline]
pub fn fnv1a(data: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for &b in data {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// 32-bit FNV-1a taken as a signed int and made positive, as librdkafka and
/// Sarama's `NewHashPartitioner` do. `i32::MIN` stays `2^31`.
#[inline]
pub fn fnv1a_abs(data: &[u8]) -> u32 {
    (fnv1a(data) as i32).wrapping_abs() as u32
}

/// KafkaJS's LegacyPartitioner hash (the KafkaJS 1.x default), bit for bit.
/// It is murmur2 written in JavaScript numbers: each `x *= m` is a double
/// product, which keeps only 53 bits when it exceeds 2^53, before the next
/// bitwise operator takes it modulo 2^32. Its block loop runs
/// `ceil(len / 4)` times, so a trailing partial block is mixed in as a
/// zero-padded block, and then once more by the usual tail step.
pub fn murmur2_kafkajs_legacy(data: &[u8]) -> u32 {
    const M: f64 = 0x5bd1_e995u32 as f64;
    // JavaScript's ToInt32 of an integral double below 2^63 in magnitude
    // (every product here: |int32| * m < 2^62).
    #[inline(always)]
    fn int32(x: f64) -> i32 {
        debug_assert!(x.abs() < 9.2e18);
        // SAFETY: finite and within i64 (above), so the unchecked
        // conversion is exact and defined; one instruction instead of a
        // saturating one.
        unsafe { x.to_int_unchecked::<i64>() as i32 }
    }
    let len = data.len();
    let mut h = (KAFKA_SEED ^ len as u32) as i32;
    for block in data.chunks(4) {
        let mut b = [0u8; 4];
        b[..block.len()].copy_from_slice(block);
        let mut k = int32(i32::from_le_bytes(b) as f64 * M);
        k ^= ((k as u32) >> 24) as i32;
        h = int32(h as f64 * M) ^ int32(k as f64 * M);
    }
    let (rest, base) = (len % 4, len & !3);
    if rest >= 3 {
        h ^= (data[base + 2] as i32) << 16;
    }
    if rest >= 2 {
        h ^= (data[base + 1] as i32) << 8;
    }
    if rest >= 1 {
        h ^= data[base] as i32;
        h = int32(h as f64 * M);
    }
    h ^= ((h as u32) >> 13) as i32;
    h = int32(h as f64 * M);
    h ^= ((h as u32) >> 15) as i32;
    h as u32
}

/// Lamping and Veach's jump consistent hash: a bucket in `0..buckets` such
/// that growing `buckets` by one moves only ~1/(buckets+1) of the keys, all
/// of them into the new bucket. `buckets` must be at least 1.
#[inline]
pub fn jump(mut key: u64, buckets: u32) -> u32 {
    let (mut b, mut j) = (0i64, 0i64);
    while j < buckets as i64 {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        j = ((b + 1) as f64 * ((1u64 << 31) as f64 / ((key >> 33) + 1) as f64)) as i64;
    }
    b as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_murmur2_vectors() {
        // Published vectors from the Java client's UtilsTest.
        let v: [(&str, i32); 6] = [
            ("21", -973932308),
            ("foobar", -790332482),
            ("a-little-bit-long-string", -985981536),
            ("a-little-bit-longer-string", -1486304829),
            (
                "lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            ("abc", 479470107),
        ];
        for (k, want) in v {
            assert_eq!(murmur2(k.as_bytes()) as i32, want, "key {k:?}");
        }
    }

    #[test]
    fn raw_hash_values() {
        assert_eq!(murmur2(b""), 0x106e08d9);
        assert_eq!(murmur2(b"kafka"), 0xd067cf64);
        assert_eq!(fnv1a_abs(b""), 0x7ee3623b);
        assert_eq!(fnv1a_abs(b"kafka"), 0x0d33c4e1);
        assert_eq!(crc32(b"23456"), 0xb1b451d7);
        assert_eq!(crc32(b"hejsan"), 0xd077037e);
        assert_eq!(crc32(b"kafka"), 0x5bbc7517);
    }

    #[test]
    fn jump_paper_properties() {
        // One bucket: everything in 0. Keys only ever move to the new bucket.
        for key in 0..10_000u64 {
            let k = murmur64a(&key.to_le_bytes(), KAFKA_SEED as u64);
            assert_eq!(jump(k, 1), 0);
            let mut prev = 0;
            for n in 2..64 {
                let b = jump(k, n);
                assert!(b < n);
                assert!(b == prev || b == n - 1, "key moved to an old bucket");
                prev = b;
            }
        }
    }
}
