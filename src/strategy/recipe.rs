//! A strategy as parts: how keyed messages are placed (keyed.rs), whether
//! an empty key counts as a key, and where NULL-key messages go. Placing
//! exactly like a client is a matter of naming its parts (the list in
//! mod.rs); anything with logic of its own (jump, random, round_robin,
//! sticky, adaptive) has its own file.

use super::keyed::{Hash, Keyed, Positive};

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
    /// (adaptive/); keyed placements are counted too.
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

impl Recipe {
    /// The rules in words, as the README's strategy table writes them:
    /// (keyed messages, NULL keys, empty keys).
    pub fn describe(self) -> (&'static str, &'static str, &'static str) {
        let null = match self.null {
            Keyless::HashEmpty => "hash of \"\"",
            Keyless::Random => "random",
            Keyless::RoundRobin => "round-robin",
            Keyless::Sticky => "sticky",
            Keyless::Adaptive => "adaptive",
        };
        let Some(keyed) = self.keyed else {
            return ("key ignored: as NULL keys", null, null);
        };
        let formula = match keyed {
            Keyed::Jump => "jump(murmur64a(key), n)",
            Keyed::Modulo(Hash::Murmur2, Positive::Mask) => "(murmur2(key) & 0x7fffffff) % n",
            Keyed::Modulo(Hash::Murmur2KafkajsLegacy, Positive::Mask) => {
                "(kafkajs_legacy(key) & 0x7fffffff) % n"
            }
            Keyed::Modulo(Hash::Crc32, Positive::Unsigned) => "crc32(key) % n",
            Keyed::Modulo(Hash::Fnv1a, Positive::Abs) => "abs(int32 fnv1a(key)) % n",
            Keyed::Modulo(Hash::Fnv1a, Positive::Mask) => "(fnv1a(key) & 0x7fffffff) % n",
            Keyed::Modulo(..) => "positive(hash(key)) % n",
        };
        let empty = if self.empty_is_null {
            null
        } else {
            "hash of \"\""
        };
        (formula, null, empty)
    }
}

pub const MURMUR2: Keyed = Keyed::Modulo(Hash::Murmur2, Positive::Mask);
pub const CRC32: Keyed = Keyed::Modulo(Hash::Crc32, Positive::Unsigned);
pub const FNV1A: Keyed = Keyed::Modulo(Hash::Fnv1a, Positive::Abs);

pub const fn hashed(keyed: Keyed, null: Keyless) -> Recipe {
    Recipe {
        keyed: Some(keyed),
        empty_is_null: false,
        null,
    }
}

pub const fn keyless(null: Keyless) -> Recipe {
    Recipe {
        keyed: None,
        empty_is_null: false,
        null,
    }
}

/// A hash whose empty key is placed as a NULL key.
pub const fn hashed_but_empty(keyed: Keyed, null: Keyless) -> Recipe {
    Recipe {
        keyed: Some(keyed),
        empty_is_null: true,
        null,
    }
}
