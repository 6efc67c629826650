//! Placement strategies: given a key (or none) and the partition count,
//! pick a partition. One file per strategy; hashing lives in `hash.rs`.
//!
//! Every function here takes `n >= 1` and returns a partition in `0..n`;
//! the C boundary (`ffi.rs`) guarantees the precondition.

use crate::host::{rd_kafka_topic_t, AvailableFn};
use crate::topics::{TopicState, Topics};

mod available;
mod consistent;
mod fnv1a;
mod jump;
mod murmur2;
mod random;
mod round_robin;
mod sticky;

/// A message key: `None` is a NULL key, `Some(&[])` an empty one.
pub type Key<'a> = Option<&'a [u8]>;

/// The ten strategies, by the names used in `strategy` properties.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Strategy {
    Murmur2,
    Murmur2Random,
    Consistent,
    ConsistentRandom,
    Fnv1a,
    Fnv1aRandom,
    Jump,
    Random,
    RoundRobin,
    Sticky,
}

impl Strategy {
    pub const ALL: [Strategy; 10] = [
        Strategy::Murmur2,
        Strategy::Murmur2Random,
        Strategy::Consistent,
        Strategy::ConsistentRandom,
        Strategy::Fnv1a,
        Strategy::Fnv1aRandom,
        Strategy::Jump,
        Strategy::Random,
        Strategy::RoundRobin,
        Strategy::Sticky,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Murmur2 => "murmur2",
            Strategy::Murmur2Random => "murmur2_random",
            Strategy::Consistent => "consistent",
            Strategy::ConsistentRandom => "consistent_random",
            Strategy::Fnv1a => "fnv1a",
            Strategy::Fnv1aRandom => "fnv1a_random",
            Strategy::Jump => "jump",
            Strategy::Random => "random",
            Strategy::RoundRobin => "round_robin",
            Strategy::Sticky => "sticky",
        }
    }

    pub fn from_name(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn from_u8(v: u8) -> Strategy {
        Strategy::ALL[(v as usize).min(Strategy::ALL.len() - 1)]
    }

    /// Place one message. `n >= 1`; the result is in `0..n`. Always
    /// inlined, so a callback for one strategy compiles to just its arm;
    /// every keyless path is out of line, keeping keyed calls lean.
    #[inline(always)]
    pub fn place(self, key: Key, n: u32, ctx: &Ctx) -> u32 {
        match self {
            Strategy::Murmur2 => murmur2::keyed(key.unwrap_or_default(), n),
            Strategy::Murmur2Random => match key {
                Some(k) => murmur2::keyed(k, n),
                None => keyless(n, ctx),
            },
            Strategy::Consistent => consistent::keyed(key.unwrap_or_default(), n),
            Strategy::ConsistentRandom => match key {
                Some(k) if !k.is_empty() => consistent::keyed(k, n),
                _ => keyless(n, ctx),
            },
            Strategy::Fnv1a => fnv1a::keyed(key.unwrap_or_default(), n),
            Strategy::Fnv1aRandom => match key {
                Some(k) => fnv1a::keyed(k, n),
                None => keyless(n, ctx),
            },
            Strategy::Jump => match key {
                Some(k) => jump::keyed(k, n),
                None => keyless(n, ctx),
            },
            Strategy::Random => keyless(n, ctx),
            Strategy::RoundRobin => keyless_round_robin(n, ctx),
            Strategy::Sticky => match key {
                Some(k) => murmur2::keyed(k, n),
                None => keyless_sticky(n, ctx),
            },
        }
    }
}

/// The random placement of the hash strategies' keyless messages, kept
/// out of line so the keyed path stays as lean as the pure hashes.
#[inline(never)]
fn keyless(n: u32, ctx: &Ctx) -> u32 {
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

/// Limits of a sticky run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StickyLimits {
    /// Switch after this many messages (>= 1).
    pub messages: u32,
    /// Switch after this many ms since the switch (0: no time limit).
    pub linger_ms: u32,
}

impl Default for StickyLimits {
    fn default() -> Self {
        StickyLimits {
            messages: 1000,
            linger_ms: 10,
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
}

/// Where a placement finds its topic's state: already looked up (the
/// plugin), or in a table, looked up only when a strategy needs it.
#[derive(Clone, Copy)]
pub enum TopicRef<'a> {
    Known(&'a TopicState),
    Table(&'a Topics),
}

impl Ctx<'_> {
    #[inline]
    pub fn topic(&self) -> &TopicState {
        match self.topic {
            TopicRef::Known(t) => t,
            TopicRef::Table(t) => t.get_or_insert(self.rkt as usize),
        }
    }
}
