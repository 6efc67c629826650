//! rdpart's hash partitioners against independent oracles: librdkafka's
//! own partitioner functions (rdkafka-sys), the murmur2 crate, and
//! published jump-hash vectors.

mod common;
use common::{call, hash_pairs, Cb, Gen};
use rdpart::capi::*;

/// (rdpart, librdkafka, compare NULL keys, compare empty keys)
fn pairs() -> Vec<(&'static str, Cb, Cb, bool, bool)> {
    let mut v: Vec<_> = hash_pairs()
        .into_iter()
        .map(|(name, ours, theirs)| {
            // The *_random ones send NULL keys to random partitions;
            // consistent_random sends empty keys there too.
            let random = name.ends_with("_random");
            (name, ours, theirs, !random, name != "consistent_random")
        })
        .collect();
    // rdpart_sticky places keyed and empty-key messages as murmur2; so do
    // the presets built on librdkafka's hashes, whose NULL keys go
    // elsewhere: kafkajs (murmur2), sarama_crc (consistent: crc32 % n, an
    // empty key in 0), kafka_go_hash (fnv1a).
    let (murmur2, consistent, fnv1a) = (v[0].2, v[2].2, v[4].2);
    v.push(("sticky", rdpart_sticky as Cb, murmur2, false, true));
    v.push(("kafkajs", rdpart_kafkajs as Cb, murmur2, false, true));
    v.push((
        "sarama_crc",
        rdpart_sarama_crc as Cb,
        consistent,
        false,
        true,
    ));
    v.push((
        "kafka_go_hash",
        rdpart_kafka_go_hash as Cb,
        fnv1a,
        false,
        true,
    ));
    v
}

#[test]
fn hash_partitioners_equal_librdkafka_on_100k_random_keys() {
    let mut g = Gen(0x5eed_1234);
    let cases = 100_000;
    for i in 0..cases {
        // Lengths 0..=1024, biased to short keys; every byte value occurs.
        let len = match i % 4 {
            0 => g.below(17) as usize,
            1 => g.below(65) as usize,
            _ => g.below(1025) as usize,
        };
        let key = g.bytes(len);
        let n = 1 + g.below(10_000) as i32;
        for (name, ours, theirs, _, cmp_empty) in pairs() {
            if len == 0 && !cmp_empty {
                continue;
            }
            let want = call(theirs, Some(&key), n);
            assert_eq!(
                call(ours, Some(&key), n),
                want,
                "{name} key {key:02x?} n {n}"
            );
        }
    }
}

#[test]
fn null_and_empty_keys_equal_librdkafka() {
    for n in [1, 2, 3, 6, 7, 100, 9973] {
        for (name, ours, theirs, cmp_null, cmp_empty) in pairs() {
            if cmp_empty {
                assert_eq!(
                    call(ours, Some(b""), n),
                    call(theirs, Some(b""), n),
                    "{name} empty n {n}"
                );
            }
            if cmp_null {
                assert_eq!(
                    call(ours, None, n),
                    call(theirs, None, n),
                    "{name} NULL n {n}"
                );
            }
        }
    }
}

#[test]
fn every_byte_value_alone_and_in_every_tail_position() {
    for b in 0..=255u8 {
        for len in 1..=9 {
            let key = vec![b; len];
            for (name, ours, theirs, _, _) in pairs() {
                assert_eq!(
                    call(ours, Some(&key), 10_007),
                    call(theirs, Some(&key), 10_007),
                    "{name} {key:?}"
                );
            }
        }
    }
}

#[test]
fn hashes_equal_the_murmur2_crate() {
    let mut g = Gen(77);
    for _ in 0..20_000 {
        let len = g.below(300) as usize;
        let key = g.bytes(len);
        assert_eq!(
            rdpart::hash::murmur2(&key),
            murmur2::murmur2(&key, murmur2::KAFKA_SEED)
        );
        assert_eq!(
            rdpart::hash::murmur64a(&key, 0x9747_b28c),
            murmur2::murmur64a(&key, 0x9747_b28c)
        );
    }
}

#[test]
fn jump_matches_published_vectors() {
    // From the Go and .NET ports of Lamping & Veach's reference code.
    for (key, buckets, want) in [
        (1u64, 1u32, 0u32),
        (42, 57, 43),
        (0xDEAD10CC, 1, 0),
        (0xDEAD10CC, 666, 361),
        (256, 1024, 520),
        (2016238256797177309, 11, 3),
    ] {
        assert_eq!(
            rdpart::hash::jump(key, buckets),
            want,
            "jump({key}, {buckets})"
        );
    }
}

#[test]
fn jump_callback_is_jump_of_the_crates_murmur64a() {
    let mut g = Gen(99);
    for _ in 0..20_000 {
        let len = g.below(100) as usize;
        let key = g.bytes(len);
        let n = 1 + g.below(5000) as u32;
        let want = rdpart::hash::jump(murmur2::murmur64a(&key, 0x9747_b28c), n) as i32;
        assert_eq!(call(rdpart_jump, Some(&key), n as i32), want);
    }
}
