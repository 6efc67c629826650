//! A configured partitioner: a strategy, sticky limits and the librdkafka
//! to ask about partition availability. `rdpart_new()` pairs one with its
//! own topic table; the plugin installs one per producer and keeps its
//! topics in the plugin's registry.

use crate::conf::Config;
use crate::host::{rd_kafka_topic_t, AvailableFn};
use crate::strategy::{Ctx, Key, StickyLimits, Strategy, TopicRef};
use std::sync::atomic::{AtomicU32, AtomicU8, AtomicUsize, Ordering::Relaxed};

pub struct Partitioner {
    // The configuration is read on every call and may be changed (by the
    // plugin's on_conf_set) before the producer exists: relaxed atomics.
    strategy: AtomicU8,
    sticky_messages: AtomicU32,
    sticky_linger_ms: AtomicU32,
    /// The availability function; 0: the process-wide one (host.rs).
    host: AtomicUsize,
}

impl Partitioner {
    pub fn new(config: Config, host: Option<AvailableFn>) -> Self {
        Partitioner {
            strategy: AtomicU8::new(config.strategy as u8),
            sticky_messages: AtomicU32::new(config.sticky.messages),
            sticky_linger_ms: AtomicU32::new(config.sticky.linger_ms),
            host: AtomicUsize::new(host.map_or(0, |f| f as usize)),
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

    /// The partitioner's own availability function (None: the process-wide one).
    #[inline]
    fn host(&self) -> Option<AvailableFn> {
        match self.host.load(Relaxed) {
            0 => None,
            // SAFETY: a non-zero value was stored from an AvailableFn.
            f => Some(unsafe { std::mem::transmute::<usize, AvailableFn>(f) }),
        }
    }

    /// Place one message: `n >= 1`, result in `0..n`.
    #[inline]
    pub fn place(&self, rkt: *const rd_kafka_topic_t, topic: TopicRef, key: Key, n: u32) -> u32 {
        let ctx = Ctx {
            rkt,
            host: self.host(),
            topic,
            sticky: StickyLimits {
                messages: self.sticky_messages.load(Relaxed),
                linger_ms: self.sticky_linger_ms.load(Relaxed),
            },
        };
        Strategy::from_u8(self.strategy.load(Relaxed)).place(key, n, &ctx)
    }
}
