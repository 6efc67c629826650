//! Placement strategies: given a key (or none) and the partition count,
//! pick a partition. One file per strategy; hashing lives in `hash.rs`.
//!
//! Every function here takes `n >= 1` and returns a partition in `0..n`;
//! the C boundary (`ffi.rs`) guarantees the precondition.

use crate::host::{rd_kafka_topic_t, AvailableFn, NameFn};
use crate::topics::{TopicState, Topics};
use std::ffi::CStr;

mod adaptive;
mod available;
mod cut;
mod jump;
mod keyed;
mod presets;
mod random;
mod round_robin;
mod sticky;
mod topic_rules;

pub use adaptive::{note_sending, Load};
pub use cut::Cut;
pub use keyed::{Hash, Keyed, Positive};
pub use presets::{Keyless, Recipe};
pub use topic_rules::{TopicRule, TopicRules};

/// A message key: `None` is a NULL key, `Some(&[])` an empty one.
pub type Key<'a> = Option<&'a [u8]>;

/// Declares the strategies once: the enum, `ALL`, the names, and the
/// dispatch of `place_cut` (one arm per strategy, each a constant recipe).
macro_rules! strategies {
    ($($v:ident => $name:literal,)*) => {
        /// The strategies, by the names used in `strategy` properties.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub enum Strategy {
            $($v,)*
        }

        impl Strategy {
            pub const ALL: [Strategy; [$($name),*].len()] = [$(Strategy::$v),*];

            pub fn name(self) -> &'static str {
                match self {
                    $(Strategy::$v => $name,)*
                }
            }

            /// The name as a static C string.
            pub fn c_name(self) -> &'static CStr {
                match self {
                    // SAFETY: a literal with one NUL, at its end.
                    $(Strategy::$v => unsafe {
                        CStr::from_bytes_with_nul_unchecked(concat!($name, "\0").as_bytes())
                    },)*
                }
            }

            /// As `place`, hashing only what `cut` leaves of a key. A
            /// constant `Cut::NONE` compiles away.
            #[inline(always)]
            pub fn place_cut(self, key: Key, n: u32, ctx: &Ctx, cut: Cut) -> u32 {
                match self {
                    $(Strategy::$v => place(Strategy::$v.recipe(), key, n, ctx, cut),)*
                }
            }
        }
    };
}

strategies! {
    Murmur2 => "murmur2",
    Murmur2Random => "murmur2_random",
    Consistent => "consistent",
    ConsistentRandom => "consistent_random",
    Fnv1a => "fnv1a",
    Fnv1aRandom => "fnv1a_random",
    Jump => "jump",
    Random => "random",
    RoundRobin => "round_robin",
    Sticky => "sticky",
    Kafkajs => "kafkajs",
    KafkajsLegacy => "kafkajs_legacy",
    SaramaReference => "sarama_reference",
    SaramaCrc => "sarama_crc",
    KafkaGoHash => "kafka_go_hash",
    Adaptive => "adaptive",
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
        self.place_cut(key, n, ctx, Cut::NONE)
    }
}

/// Place one message by a recipe. The key delimiter (`cut`) shortens only
/// what is hashed; whether a key is NULL or empty is decided on the whole
/// key.
#[inline(always)]
fn place(r: Recipe, key: Key, n: u32, ctx: &Ctx, cut: Cut) -> u32 {
    let Some(keyed) = r.keyed else {
        return keyless(r.null, n, ctx);
    };
    match key {
        Some(k) if !(r.empty_is_null && k.is_empty()) => {
            let p = keyed.place(cut.apply(k), n);
            if r.null == Keyless::Adaptive {
                keyed_adaptive(p, n, ctx);
            }
            p
        }
        _ => match r.null {
            Keyless::HashEmpty => keyed.place(&[], n),
            other => keyless(other, n, ctx),
        },
    }
}

#[inline(always)]
fn keyless(rule: Keyless, n: u32, ctx: &Ctx) -> u32 {
    match rule {
        Keyless::Random => keyless_random(n, ctx),
        Keyless::RoundRobin => keyless_round_robin(n, ctx),
        Keyless::Sticky => keyless_sticky(n, ctx),
        Keyless::Adaptive => keyless_adaptive(n, ctx),
        // Not a keyless rule of a strategy without keyed placement.
        Keyless::HashEmpty => keyless_random(n, ctx),
    }
}

/// The random placement of keyless messages, kept out of line so the
/// keyed path stays as lean as the pure hashes.
#[inline(never)]
fn keyless_random(n: u32, ctx: &Ctx) -> u32 {
    random::place(n, ctx)
}

/// round_robin's placement, out of line for the same reason.
#[inline(never)]
fn keyless_round_robin(n: u32, ctx: &Ctx) -> u32 {
    round_robin::place(n, ctx)
}

/// sticky's keyless placement, out of line for the same reason.
#[inline(never)]
fn keyless_sticky(n: u32, ctx: &Ctx) -> u32 {
    sticky::place(n, ctx)
}

/// adaptive's keyless placement, out of line for the same reason.
#[inline(never)]
fn keyless_adaptive(n: u32, ctx: &Ctx) -> u32 {
    adaptive::place(n, ctx)
}

/// adaptive counts its keyed placements too (out of line).
#[inline(never)]
fn keyed_adaptive(p: u32, n: u32, ctx: &Ctx) {
    adaptive::keyed(p, n, ctx)
}

/// adaptive's default run length in bytes (BENCHMARKS.md: throughput
/// against run length).
pub(crate) const RUN_BYTES: u32 = 262_144;

/// Limits of a sticky run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StickyLimits {
    /// Switch after this many messages (>= 1).
    pub messages: u32,
    /// Switch after this many ms since the switch (0: no time limit).
    pub linger_ms: u32,
    /// adaptive: switch after this many bytes.
    pub run_bytes: u32,
    /// adaptive: leave out a partition not drained for this long (0: never).
    pub timeout_ms: u32,
    /// adaptive: weight partitions by backlog (else uniform).
    pub weighting: bool,
}

impl Default for StickyLimits {
    fn default() -> Self {
        StickyLimits {
            messages: 1000,
            linger_ms: 10,
            run_bytes: RUN_BYTES,
            timeout_ms: 500,
            weighting: true,
        }
    }
}

/// What a strategy may know besides the key: the topic, how to ask
/// librdkafka whether a partition has a leader, per-topic state and limits.
pub struct Ctx<'a> {
    pub rkt: *const rd_kafka_topic_t,
    /// The availability function: this one, or (None) the process-wide
    /// one, looked up only when a strategy asks.
    pub host: Option<AvailableFn>,
    pub topic: TopicRef<'a>,
    pub sticky: StickyLimits,
    /// `rd_kafka_topic_name` of the librdkafka placing (None: unknown).
    /// For a table, it tells a topic from a destroyed one whose handle had
    /// the same address.
    pub name: Option<NameFn>,
    /// The partitioner's return address (0: unknown), which tells which
    /// librdkafka calls it (host.rs).
    pub caller: usize,
}

/// Where a placement finds its topic's state: already looked up (the
/// plugin), or in a table, looked up only when a strategy needs it.
#[derive(Clone, Copy)]
pub enum TopicRef<'a> {
    Known(&'a TopicState),
    Table(&'a Topics),
}

impl Ctx<'_> {
    /// `rd_kafka_topic_name` of the librdkafka placing, if known.
    #[inline]
    pub fn name_fn(&self) -> Option<NameFn> {
        self.name
            .or_else(|| crate::host::topic_name_for(self.caller))
    }

    #[inline]
    pub fn topic(&self) -> &TopicState {
        match self.topic {
            TopicRef::Known(t) => t,
            TopicRef::Table(t) => match self.name_fn() {
                Some(name) if !self.rkt.is_null() => {
                    // SAFETY: the topic librdkafka is placing a message of,
                    // and that librdkafka's rd_kafka_topic_name.
                    let n = unsafe { name(self.rkt) };
                    // SAFETY: librdkafka's topic name, a C string.
                    unsafe { t.get_named(self.rkt as usize, n) }
                }
                _ => t.get_or_insert(self.rkt as usize),
            },
        }
    }
}
