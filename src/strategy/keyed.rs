//! Keyed placement from parts: a hash of the key's bytes, a rule that
//! makes it non-negative, then `% n`; or jump (jump.rs). Every client's
//! keyed placement is one of these combinations (see the list in mod.rs).

use crate::hash;

/// A 32-bit hash of the key's bytes (hash.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    /// Kafka's murmur2 (Java client, librdkafka, KafkaJS >= 2.0).
    Murmur2,
    /// KafkaJS's legacy murmur2 (KafkaJS 1.x default), with its double
    /// arithmetic.
    Murmur2KafkajsLegacy,
    /// zlib CRC-32.
    Crc32,
    /// 32-bit FNV-1a.
    Fnv1a,
}

/// How a 32-bit hash becomes a non-negative number before `% n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positive {
    /// `h & 0x7fffffff`: Java's `toPositive`.
    Mask,
    /// `abs(int32 h)`, with `i32::MIN` as 2^31: librdkafka's fnv1a,
    /// Sarama's `int32(h) % n` then negated, kafka-go's Hash.
    Abs,
    /// `h` as unsigned: librdkafka's consistent, Sarama's ConsistentCRC.
    Unsigned,
}

/// A keyed placement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyed {
    /// `positive(hash(key)) % n`.
    Modulo(Hash, Positive),
    /// `jump(murmur64a(key), n)` (jump.rs).
    Jump,
}

impl Hash {
    #[inline(always)]
    fn of(self, key: &[u8]) -> u32 {
        match self {
            Hash::Murmur2 => hash::murmur2(key),
            Hash::Murmur2KafkajsLegacy => hash::murmur2_kafkajs_legacy(key),
            Hash::Crc32 => hash::crc32(key),
            Hash::Fnv1a => hash::fnv1a(key),
        }
    }
}

impl Positive {
    #[inline(always)]
    fn of(self, h: u32) -> u32 {
        match self {
            Positive::Mask => h & 0x7fff_ffff,
            Positive::Abs => (h as i32).wrapping_abs() as u32,
            Positive::Unsigned => h,
        }
    }
}

impl Keyed {
    /// The partition of `key` among `n >= 1`.
    #[inline(always)]
    pub fn place(self, key: &[u8], n: u32) -> u32 {
        match self {
            Keyed::Modulo(h, p) => p.of(h.of(key)) % n,
            Keyed::Jump => super::jump::keyed(key, n),
        }
    }
}
