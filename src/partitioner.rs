//! A configured partitioner: a strategy, sticky limits, per-topic state and
//! the librdkafka to ask about partition availability. It is what
//! `rdpart_new()` returns and what the plugin installs per producer.

use crate::conf::Config;
use crate::host::{rd_kafka_topic_t, AvailableFn};
use crate::strategy::{Ctx, Key, StickyLimits, Strategy};
use crate::topics::Topics;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

/// Marks a live partitioner, so a foreign `rkt_opaque` is not mistaken for one.
const MAGIC: u64 = 0x7264_7061_7274_2e31; // "rdpart.1"

/// `repr(C)`: `magic` comes first, so checking a foreign pointer reads
/// only its first 8 bytes.
#[repr(C)]
pub struct Partitioner {
    magic: AtomicU64,
    // The configuration is read on every call and may be changed (by the
    // plugin's on_conf_set) before the producer exists: relaxed atomics.
    strategy: AtomicU8,
    sticky_messages: AtomicU32,
    sticky_linger_ms: AtomicU32,
    host: Option<AvailableFn>,
    topics: Box<Topics>,
}

impl Partitioner {
    pub fn new(config: Config, host: Option<AvailableFn>) -> Self {
        Partitioner {
            magic: AtomicU64::new(MAGIC),
            strategy: AtomicU8::new(config.strategy as u8),
            sticky_messages: AtomicU32::new(config.sticky.messages),
            sticky_linger_ms: AtomicU32::new(config.sticky.linger_ms),
            host,
            topics: Topics::boxed(),
        }
    }

    pub fn config(&self) -> Config {
        Config {
            strategy: Strategy::from_u8(self.strategy.load(Relaxed)),
            sticky: StickyLimits {
                messages: self.sticky_messages.load(Relaxed),
                linger_ms: self.sticky_linger_ms.load(Relaxed),
            },
        }
    }

    pub fn apply(&self, config: Config) {
        self.strategy.store(config.strategy as u8, Relaxed);
        self.sticky_messages.store(config.sticky.messages, Relaxed);
        self.sticky_linger_ms
            .store(config.sticky.linger_ms, Relaxed);
    }

    /// Whether this is a live partitioner (a foreign or freed object is not).
    pub fn is_live(&self) -> bool {
        self.magic.load(Relaxed) == MAGIC
    }

    /// Marks the object dead before it is freed.
    pub fn retire(&self) {
        self.magic.store(0, Relaxed);
    }

    /// Place one message: `n >= 1`, result in `0..n`.
    #[inline]
    pub fn partition(&self, rkt: *const rd_kafka_topic_t, key: Key, n: u32) -> u32 {
        let ctx = Ctx {
            rkt,
            host: self.host,
            topics: &self.topics,
            sticky: StickyLimits {
                messages: self.sticky_messages.load(Relaxed),
                linger_ms: self.sticky_linger_ms.load(Relaxed),
            },
        };
        Strategy::from_u8(self.strategy.load(Relaxed)).place(key, n, &ctx)
    }
}
