//! Placement: given a key (or none) and the partition count, pick a
//! partition. The strategies are declared once, below (name, recipe, the
//! clients each matches); every other list of them (the exported
//! callbacks, the header, the Python package, the README, the demo) is
//! checked against this one by tests/lists.rs. One file per strategy
//! with logic of its own; hashing lives in hash.rs.
//!
//! Every function here takes `n >= 1` and returns a partition in `0..n`;
//! the front ends guarantee the precondition.

mod adaptive;
mod available;
mod backlog;
mod ctx;
mod hot_keys;
mod jump;
mod key_delimiter;
mod keyed;
mod leaders;
mod rack;
mod random;
mod recipe;
mod round_robin;
mod run;
mod state;
mod sticky;
mod usable;
mod view;

pub use adaptive::{sending, Report};
pub use backlog::{Brokers, Load};
pub use ctx::{AdaptiveOptions, Ctx, TopicRef};
pub use hot_keys::{HotKeyOptions, HotKeys, Notice, DEFAULT_PARTITIONS};
pub use key_delimiter::KeyDelimiter;
pub use keyed::{Hash, Keyed, Positive};
pub use leaders::{Leaders, LEADER_PARTITIONS};
pub use rack::Rack;
pub use recipe::{Keyless, Recipe};
pub use run::{RunLimits, RUN_BYTES};
pub use state::{Lane, TopicState, UNRESOLVED};
pub use view::View;

use crate::boundary::Key;
use recipe::{hashed, hashed_but_empty, keyless, CRC32, FNV1A, MURMUR2};
use std::ffi::CStr;

/// Declares the strategies once: the enum, `ALL`, the names, the recipes
/// and the dispatch of `place_with` (one arm per strategy, each a constant
/// recipe).
macro_rules! strategies {
    ($($(#[doc = $doc:literal])* $v:ident => $name:literal, $recipe:expr;)*) => {
        /// The strategies, by the names used in `strategy` properties.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Strategy {
            $($(#[doc = $doc])* $v,)*
        }

        impl Strategy {
            pub const ALL: [Strategy; [$($name),*].len()] = [$(Strategy::$v),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Strategy::$v => $name,)*
                }
            }

            /// The clients whose placement it reproduces, as declared.
            pub fn clients(self) -> &'static str {
                match self {
                    $(Strategy::$v => concat!($($doc),*).trim_ascii(),)*
                }
            }

            /// The name as a static C string.
            pub fn c_name(self) -> &'static CStr {
                match self {
                    $(Strategy::$v => match CStr::from_bytes_with_nul(concat!($name, "\0").as_bytes()) {
                        Ok(c) => c,
                        Err(_) => unreachable!(),
                    },)*
                }
            }

            /// The parts of this strategy.
            #[inline(always)]
            pub const fn recipe(self) -> Recipe {
                use Keyless::*;
                match self {
                    $(Strategy::$v => $recipe,)*
                }
            }

            /// As `place`, hashing only what `delimiter` leaves of a key,
            /// and with `hot`, spreading hot keys (hot_keys.rs). Constant
            /// `KeyDelimiter::NONE` and `None` compile away.
            #[inline(always)]
            pub fn place_with(
                self,
                key: Key,
                n: u32,
                ctx: &Ctx,
                delimiter: KeyDelimiter,
                hot: Option<HotKeyOptions>,
            ) -> u32 {
                match self {
                    $(Strategy::$v => place(Strategy::$v.recipe(), key, n, ctx, delimiter, hot),)*
                }
            }
        }
    };
}

strategies! {
    /// librdkafka murmur2; the Java client for keyed records.
    Murmur2 => "murmur2", hashed(MURMUR2, HashEmpty);
    /// librdkafka murmur2_random; kafka-python, aiokafka, Sarama
    /// NewMurmur2Partitioner, kafka-go Murmur2Balancer{}.
    Murmur2Random => "murmur2_random", hashed(MURMUR2, Random);
    /// librdkafka consistent; kafka-go CRC32Balancer{Consistent: true}.
    Consistent => "consistent", hashed(CRC32, HashEmpty);
    /// librdkafka consistent_random (its default); kafka-go CRC32Balancer{}.
    ConsistentRandom => "consistent_random", hashed_but_empty(CRC32, Random);
    /// librdkafka fnv1a; Sarama NewHashPartitioner (keyed, empty).
    Fnv1a => "fnv1a", hashed(FNV1A, HashEmpty);
    /// librdkafka fnv1a_random; Sarama NewHashPartitioner (its default).
    Fnv1aRandom => "fnv1a_random", hashed(FNV1A, Random);
    /// Jump consistent hash over murmur64a (jump.rs).
    Jump => "jump", hashed(Keyed::Jump, Random);
    Random => "random", keyless(Random);
    RoundRobin => "round_robin", keyless(RoundRobin);
    /// Keyed as murmur2 (franz-go's default); keyless in sticky runs.
    Sticky => "sticky", hashed(MURMUR2, Sticky);
    /// KafkaJS DefaultPartitioner (2.x; JavaCompatiblePartitioner in 1.x).
    Kafkajs => "kafkajs", hashed(MURMUR2, RoundRobin);
    /// KafkaJS LegacyPartitioner (the 1.x default).
    KafkajsLegacy => "kafkajs_legacy",
        hashed(Keyed::Modulo(Hash::Murmur2KafkajsLegacy, Positive::Mask), RoundRobin);
    /// Sarama NewReferenceHashPartitioner; kafka-go ReferenceHash.
    SaramaReference => "sarama_reference",
        hashed(Keyed::Modulo(Hash::Fnv1a, Positive::Mask), Random);
    /// Sarama NewConsistentCRCHashPartitioner.
    SaramaCrc => "sarama_crc", hashed(CRC32, Random);
    /// kafka-go Hash.
    KafkaGoHash => "kafka_go_hash", hashed(FNV1A, RoundRobin);
    /// Keyed as the Java client; keyless like KIP-794, and more (adaptive/).
    Adaptive => "adaptive", hashed(MURMUR2, Adaptive);
}

impl Strategy {
    /// The names, comma-separated, for messages.
    pub fn names() -> String {
        Strategy::ALL.map(|s| s.name()).join(", ")
    }

    pub fn from_name(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn from_u8(v: u8) -> Strategy {
        Strategy::ALL[(v as usize).min(Strategy::ALL.len() - 1)]
    }

    /// Place one message. `n >= 1`; the result is in `0..n`. Always
    /// inlined, and each arm a constant recipe, so a callback for one
    /// strategy compiles to just its parts; every keyless path is out of
    /// line, keeping keyed calls lean.
    #[inline(always)]
    pub fn place(self, key: Key, n: u32, ctx: &Ctx) -> u32 {
        self.place_with(key, n, ctx, KeyDelimiter::NONE, None)
    }
}

/// Place one message by a recipe. The key delimiter shortens only what is
/// hashed; whether a key is NULL or empty is decided on the whole key.
#[inline(always)]
fn place(
    r: Recipe,
    key: Key,
    n: u32,
    ctx: &Ctx,
    delimiter: KeyDelimiter,
    hot: Option<HotKeyOptions>,
) -> u32 {
    let Some(keyed) = r.keyed else {
        // No keyed path to keep lean: the keyless one inline.
        return match r.null {
            Keyless::Random => random::place(n, ctx),
            Keyless::RoundRobin => round_robin::place(n, ctx),
            other => keyless_placement(other, n, ctx),
        };
    };
    match key {
        Some(k) if !(r.empty_is_null && k.is_empty()) => {
            let hashed = delimiter.apply(k);
            let mut p = keyed.place(hashed, n);
            if let Some(o) = hot.filter(|o| o.share_ppm != 0) {
                p = keyed_hot(hashed, p, n, ctx, o);
            }
            if r.null == Keyless::Adaptive {
                keyed_adaptive(p, n, ctx);
            }
            p
        }
        _ => match r.null {
            Keyless::HashEmpty => keyed.place(&[], n),
            other => keyless_placement(other, n, ctx),
        },
    }
}

#[inline(always)]
fn keyless_placement(rule: Keyless, n: u32, ctx: &Ctx) -> u32 {
    match rule {
        Keyless::Random => keyless_random(n, ctx),
        Keyless::RoundRobin => keyless_round_robin(n, ctx),
        Keyless::Sticky => keyless_sticky(n, ctx),
        Keyless::Adaptive => keyless_adaptive(n, ctx),
        // Not a keyless rule of a strategy without keyed placement.
        Keyless::HashEmpty => keyless_random(n, ctx),
    }
}

// Every keyless placement is out of line, so the keyed path stays as lean
// as the pure hashes.

#[inline(never)]
fn keyless_random(n: u32, ctx: &Ctx) -> u32 {
    random::place(n, ctx)
}

#[inline(never)]
fn keyless_round_robin(n: u32, ctx: &Ctx) -> u32 {
    round_robin::place(n, ctx)
}

#[inline(never)]
fn keyless_sticky(n: u32, ctx: &Ctx) -> u32 {
    sticky::place(n, ctx)
}

#[inline(never)]
fn keyless_adaptive(n: u32, ctx: &Ctx) -> u32 {
    adaptive::place(n, ctx)
}

/// A hot key's messages are spread (out of line).
#[inline(never)]
fn keyed_hot(key: &[u8], p: u32, n: u32, ctx: &Ctx, o: HotKeyOptions) -> u32 {
    let stderr = match ctx.topic {
        TopicRef::Table(_) => Some((ctx.name, ctx.rkt)),
        TopicRef::Known(_) => None,
    };
    ctx.topic().hot_keys().place(key, p, n, o, stderr)
}

/// adaptive counts its keyed placements too (out of line).
#[inline(never)]
fn keyed_adaptive(p: u32, n: u32, ctx: &Ctx) {
    adaptive::keyed(p, n, ctx)
}

/// What placement learns from an acknowledgement of a message of topic
/// `t`, for both front ends (the plugin's on_acknowledgement and
/// `rdpart_delivered()`): a delivered message shows that its partition has
/// a leader (available.rs), and adaptive counts it (backlog/).
pub fn acknowledged(t: &TopicState, r: Report) {
    if r.delivered && r.partition >= 0 {
        t.view.availability.delivered_to(r.partition as u32);
    }
    adaptive::acknowledged(t, r);
}
