//! The partitioner callbacks (rdpart.h's first section): one per strategy,
//! with librdkafka's exact signature, each a copy of the plain body
//! (registry.rs) for its strategy.

use crate::registry::place_plain;
use crate::strategy::Strategy;
use crate::sys::rd_kafka_topic_t;
use std::ffi::c_void;

/// Keyed: `(murmur2(key) & 0x7fffffff) % partition_cnt`; a NULL key hashes
/// as "". Same partition as librdkafka's `murmur2` and the Java client's
/// default partitioner for keyed records. Opaques are ignored.
#[no_mangle]
pub unsafe extern "C" fn rdpart_murmur2(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Murmur2 as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// As rdpart_murmur2, but a NULL key goes to a random available partition
/// (an empty key still hashes). Like librdkafka's `murmur2_random`.
#[no_mangle]
pub unsafe extern "C" fn rdpart_murmur2_random(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Murmur2Random as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// `crc32(key) % partition_cnt` (zlib CRC-32); NULL and empty keys go to
/// partition 0. Like librdkafka's `consistent` and Sarama's
/// ConsistentCRCHashPartitioner.
#[no_mangle]
pub unsafe extern "C" fn rdpart_consistent(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Consistent as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// As rdpart_consistent, but NULL and empty keys go to a random available
/// partition. Like librdkafka's `consistent_random`, its default.
#[no_mangle]
pub unsafe extern "C" fn rdpart_consistent_random(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe {
        place_plain::<{ Strategy::ConsistentRandom as u8 }>(rkt, keydata, keylen, partition_cnt)
    }
}

/// `abs(int32 fnv1a(key)) % partition_cnt`; a NULL key hashes as "". Like
/// librdkafka's `fnv1a` and Sarama's default NewHashPartitioner.
#[no_mangle]
pub unsafe extern "C" fn rdpart_fnv1a(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Fnv1a as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// As rdpart_fnv1a, but a NULL key goes to a random available partition
/// (an empty key still hashes). Like librdkafka's `fnv1a_random`.
#[no_mangle]
pub unsafe extern "C" fn rdpart_fnv1a_random(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Fnv1aRandom as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// Jump consistent hash: `jump(murmur64a(key, 0x9747b28c), partition_cnt)`.
/// Growing a topic from n to n+1 partitions moves only ~1/(n+1) of the
/// keys, all to the new partition. NULL key: random available partition;
/// empty key: hashes as "".
#[no_mangle]
pub unsafe extern "C" fn rdpart_jump(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Jump as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// Key ignored: uniform over the partitions that have a leader (all of
/// them when none has, or when rkt is NULL).
#[no_mangle]
pub unsafe extern "C" fn rdpart_random(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Random as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// Key ignored: the next partition of the topic's cycle, skipping those
/// without a leader. State is kept per rkt and per calling thread (each
/// thread has its own cycle, so threads never contend); lock-free and safe
/// from any number of threads.
#[no_mangle]
pub unsafe extern "C" fn rdpart_round_robin(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::RoundRobin as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// The Java client's default: keyed (and empty-key) messages as
/// rdpart_murmur2; NULL-key messages stick to one partition of the topic
/// for 1000 messages or 10 ms, whichever comes first (or until it loses its
/// leader), then move to another chosen uniformly among the available ones.
/// Each producing thread has its own run per topic. Use
/// rdpart_new() for other limits. librdkafka only passes NULL-key messages
/// to a callback when `sticky.partitioning.linger.ms=0`.
#[no_mangle]
pub unsafe extern "C" fn rdpart_sticky(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Sticky as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// KafkaJS's DefaultPartitioner (KafkaJS >= 2.0; its
/// JavaCompatiblePartitioner in 1.x): keyed and empty keys as
/// rdpart_murmur2; a NULL key goes to the next available partition in turn.
#[no_mangle]
pub unsafe extern "C" fn rdpart_kafkajs(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Kafkajs as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// KafkaJS's LegacyPartitioner, the KafkaJS 1.x default: keyed and empty
/// keys by KafkaJS's own legacy murmur2, bit for bit (it differs from
/// Kafka's murmur2 for many keys), `& 0x7fffffff`, `% partition_cnt`; a
/// NULL key goes to the next available partition in turn.
#[no_mangle]
pub unsafe extern "C" fn rdpart_kafkajs_legacy(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::KafkajsLegacy as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// Sarama's NewReferenceHashPartitioner and kafka-go's ReferenceHash:
/// `(fnv1a(key) & 0x7fffffff) % partition_cnt` for keyed and empty keys; a
/// NULL key goes to a random available partition.
#[no_mangle]
pub unsafe extern "C" fn rdpart_sarama_reference(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe {
        place_plain::<{ Strategy::SaramaReference as u8 }>(rkt, keydata, keylen, partition_cnt)
    }
}

/// Sarama's NewConsistentCRCHashPartitioner: `crc32(key) % partition_cnt`
/// for keyed and empty keys (an empty key: partition 0); a NULL key goes to
/// a random available partition.
#[no_mangle]
pub unsafe extern "C" fn rdpart_sarama_crc(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::SaramaCrc as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// kafka-go's Hash balancer: keyed and empty keys as rdpart_fnv1a; a NULL
/// key goes to the next available partition in turn.
#[no_mangle]
pub unsafe extern "C" fn rdpart_kafka_go_hash(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::KafkaGoHash as u8 }>(rkt, keydata, keylen, partition_cnt) }
}

/// Keyed messages as rdpart_murmur2; NULL keys in sticky runs of 256 KB
/// (or 1000 messages, or 10 ms) on partitions drawn with weights
/// that favour less backlog. Avoiding slow brokers needs acknowledgements,
/// which only the plugin sees: as a plain callback it balances the counts
/// placed, and never leaves a partition out. Opaques are ignored.
#[no_mangle]
pub unsafe extern "C" fn rdpart_adaptive(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    // SAFETY: the callback contract, passed on.
    unsafe { place_plain::<{ Strategy::Adaptive as u8 }>(rkt, keydata, keylen, partition_cnt) }
}
