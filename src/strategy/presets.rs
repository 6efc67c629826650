//! Every named strategy as parts: how keyed messages are placed
//! (keyed.rs), whether an empty key counts as a key, and where NULL-key
//! messages go. Placing exactly like a client is a matter of naming its
//! parts; anything with logic of its own (jump, random, round_robin,
//! sticky) has its own file.

use super::keyed::{Hash, Keyed, Positive};
use super::Strategy;

/// Where messages without a (usable) key go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyless {
    /// Hashed like the empty key: always one partition.
    HashEmpty,
    /// A random available partition (random.rs).
    Random,
    /// The next available partition in turn (round_robin.rs).
    RoundRobin,
    /// Runs of messages on one available partition (sticky.rs).
    Sticky,
    /// Runs on partitions chosen by backlog, avoiding slow brokers
    /// (adaptive.rs); keyed placements are counted too.
    Adaptive,
}

/// A strategy as parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipe {
    /// Keyed placement; `None`: keys are ignored, every message is keyless.
    pub keyed: Option<Keyed>,
    /// An empty key is placed as a NULL key (else it is hashed).
    pub empty_is_null: bool,
    /// Where NULL-key messages go.
    pub null: Keyless,
}

const MURMUR2: Keyed = Keyed::Modulo(Hash::Murmur2, Positive::Mask);
const CRC32: Keyed = Keyed::Modulo(Hash::Crc32, Positive::Unsigned);
const FNV1A: Keyed = Keyed::Modulo(Hash::Fnv1a, Positive::Abs);

const fn hashed(keyed: Keyed, null: Keyless) -> Recipe {
    Recipe {
        keyed: Some(keyed),
        empty_is_null: false,
        null,
    }
}

const fn keyless(null: Keyless) -> Recipe {
    Recipe {
        keyed: None,
        empty_is_null: false,
        null,
    }
}

impl Strategy {
    /// The parts of this strategy; what each matches is in the README's
    /// strategy table.
    #[inline(always)]
    pub const fn recipe(self) -> Recipe {
        use Keyless::*;
        match self {
            // librdkafka murmur2; Java client for keyed records.
            Strategy::Murmur2 => hashed(MURMUR2, HashEmpty),
            // librdkafka murmur2_random; kafka-python, aiokafka, Sarama
            // NewMurmur2Partitioner, kafka-go Murmur2Balancer{}.
            Strategy::Murmur2Random => hashed(MURMUR2, Random),
            // librdkafka consistent; kafka-go CRC32Balancer{Consistent: true}.
            Strategy::Consistent => hashed(CRC32, HashEmpty),
            // librdkafka consistent_random (its default); kafka-go
            // CRC32Balancer{}.
            Strategy::ConsistentRandom => Recipe {
                keyed: Some(CRC32),
                empty_is_null: true,
                null: Random,
            },
            // librdkafka fnv1a; Sarama NewHashPartitioner (keyed, empty).
            Strategy::Fnv1a => hashed(FNV1A, HashEmpty),
            // librdkafka fnv1a_random; Sarama NewHashPartitioner (its default).
            Strategy::Fnv1aRandom => hashed(FNV1A, Random),
            Strategy::Jump => hashed(Keyed::Jump, Random),
            Strategy::Random => keyless(Random),
            Strategy::RoundRobin => keyless(RoundRobin),
            // Keyed as murmur2 (franz-go's default); keyless in sticky runs.
            Strategy::Sticky => hashed(MURMUR2, Sticky),
            // KafkaJS DefaultPartitioner (2.x; JavaCompatiblePartitioner in 1.x).
            Strategy::Kafkajs => hashed(MURMUR2, RoundRobin),
            // KafkaJS LegacyPartitioner (the 1.x default).
            Strategy::KafkajsLegacy => hashed(
                Keyed::Modulo(Hash::Murmur2KafkajsLegacy, Positive::Mask),
                RoundRobin,
            ),
            // Sarama NewReferenceHashPartitioner; kafka-go ReferenceHash.
            Strategy::SaramaReference => hashed(Keyed::Modulo(Hash::Fnv1a, Positive::Mask), Random),
            // Sarama NewConsistentCRCHashPartitioner.
            Strategy::SaramaCrc => hashed(CRC32, Random),
            // kafka-go Hash.
            Strategy::KafkaGoHash => hashed(FNV1A, RoundRobin),
            // Keyed as the Java client; keyless like KIP-794, and more.
            Strategy::Adaptive => hashed(MURMUR2, Adaptive),
        }
    }
}
