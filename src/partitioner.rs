//! A configured partitioner: a strategy (and one per topic), run limits,
//! adaptive's options, the key delimiter, and the librdkafka to ask about
//! partitions and topic names. `rdpart_new()` pairs one with its own topic
//! table; the plugin installs one per producer and keeps its topics in the
//! registry (registry.rs).

use crate::boundary::Key;
use crate::config::{Config, TopicRules};
use crate::strategy::{
    AdaptiveOptions, Ctx, HotKeyOptions, KeyDelimiter, RunLimits, Strategy, TopicRef, TopicState,
    UNRESOLVED,
};
use crate::sys::{rd_kafka_topic_t, AvailableFn, NameFn};
use std::sync::atomic::Ordering::Relaxed;

/// `Partitioner::fast` when options are set (no strategy has this value).
const OPTIONS: u8 = u8::MAX;

/// A configuration frozen when the partitioner is made: read on every
/// call, never written after (the plugin edits a `Config` while its conf
/// is being set, and makes its partitioner from it in on_new).
pub struct Partitioner {
    strategy: Strategy,
    run: RunLimits,
    adaptive: AdaptiveOptions,
    hot: HotKeyOptions,
    delimiter: KeyDelimiter,
    rack_aware: bool,
    /// `topic.strategy`, read only when a topic is first seen.
    topics: TopicRules,
    /// `strategy`, or `OPTIONS` when `key.delimiter`, `topic.strategy` or
    /// `hot.key.share` is set: what a placement reads first.
    fast: u8,
    /// The availability function (None: the process-wide one, loader.rs).
    available: Option<AvailableFn>,
    /// `rd_kafka_topic_name` of the librdkafka producing (None: not known).
    name: Option<NameFn>,
}

impl Partitioner {
    pub fn new(config: Config, available: Option<AvailableFn>, name: Option<NameFn>) -> Self {
        let options = !config.delimiter.delimiter().is_empty()
            || !config.topics.is_empty()
            || config.hot.share_ppm != 0;
        Partitioner {
            strategy: config.strategy,
            run: config.run,
            adaptive: config.adaptive,
            hot: config.hot,
            delimiter: config.delimiter,
            rack_aware: config.rack_aware,
            fast: if options {
                OPTIONS
            } else {
                config.strategy as u8
            },
            topics: config.topics,
            available,
            name,
        }
    }

    /// The configuration it was made from.
    pub fn config(&self) -> Config {
        Config {
            strategy: self.strategy,
            run: self.run,
            adaptive: self.adaptive,
            topics: self.topics.clone(),
            delimiter: self.delimiter,
            hot: self.hot,
            rack_aware: self.rack_aware,
        }
    }

    /// Does topic `t` (registered, its strategy resolved) use adaptive?
    pub fn adapts(&self, t: &TopicState) -> bool {
        self.strategy_of(t) == Strategy::Adaptive
    }

    /// The strategy that places topic `t` (registered, its strategy resolved).
    pub fn strategy_of(&self, t: &TopicState) -> Strategy {
        match t.strategy.load(Relaxed) {
            s if s != UNRESOLVED && self.has_topic_rules() => Strategy::from_u8(s),
            _ => self.strategy,
        }
    }

    /// Is rack awareness on (read without copying the configuration)?
    pub fn rack_aware(&self) -> bool {
        self.rack_aware
    }

    /// Does this partitioner resolve a strategy per topic?
    pub fn has_topic_rules(&self) -> bool {
        !self.topics.is_empty()
    }

    /// Place one message: `n >= 1`, result in `0..n`. Without
    /// `key.delimiter` and `topic.strategy`, the placement is exactly what
    /// it was before they existed: one test of `options`.
    #[inline]
    pub fn place(&self, rkt: *const rd_kafka_topic_t, topic: TopicRef, key: Key, n: u32) -> u32 {
        // One byte: the strategy, or OPTIONS when options are set.
        let s = self.fast;
        if s == OPTIONS {
            return self.place_with_options(rkt, topic, key, n);
        }
        Strategy::from_u8(s).place(key, n, &self.ctx(rkt, topic))
    }

    /// What a placement knows besides the key.
    #[inline]
    fn ctx<'a>(&self, rkt: *const rd_kafka_topic_t, topic: TopicRef<'a>) -> Ctx<'a> {
        Ctx {
            rkt,
            available: self.available,
            topic,
            run: self.run,
            adaptive: self.adaptive,
            name: self.name,
        }
    }

    // Cold: kept out of the layout of the path without options, so that
    // options cost nothing when unset.
    #[cold]
    #[inline(never)]
    fn place_with_options(
        &self,
        rkt: *const rd_kafka_topic_t,
        topic: TopicRef,
        key: Key,
        n: u32,
    ) -> u32 {
        let ctx = self.ctx(rkt, topic);
        let strategy = if self.has_topic_rules() {
            self.topic_strategy(&ctx)
        } else {
            self.strategy
        };
        strategy.place_with(key, n, &ctx, self.delimiter, Some(self.hot))
    }

    /// The strategy of the placement's topic, resolved on first sight.
    #[inline(never)]
    fn topic_strategy(&self, ctx: &Ctx) -> Strategy {
        if ctx.rkt.is_null() {
            return self.strategy;
        }
        let t = ctx.topic();
        match t.strategy.load(Relaxed) {
            UNRESOLVED => {
                let name = ctx.name_fn();
                if name.is_none() {
                    // Not silent: the topic gets `strategy`, and rdpart says why.
                    crate::loader::warn_no_topic_names();
                }
                self.resolve_with(ctx.rkt as usize, t, name)
            }
            s => Strategy::from_u8(s),
        }
    }

    /// Resolves (once) and records the strategy of topic `t`: the first
    /// `topic.strategy` pair matching its name, else `strategy`. Called when
    /// the topic is first seen: by the plugin's on_send, or by the first
    /// placement for rdpart_new() partitioners.
    pub fn resolve(&self, rkt: usize, t: &TopicState) -> Strategy {
        self.resolve_with(rkt, t, self.name)
    }

    /// As `resolve`, asking `name` for the topic's name.
    fn resolve_with(&self, rkt: usize, t: &TopicState, name: Option<NameFn>) -> Strategy {
        let default = self.strategy;
        let found = match (name, rkt) {
            (Some(name), rkt) if rkt != 0 => {
                // SAFETY: the topic handle librdkafka placed a message of,
                // live while its message is.
                let s = unsafe { name(rkt as *const rd_kafka_topic_t) };
                if s.is_null() {
                    None
                } else {
                    // SAFETY: librdkafka's NUL-terminated topic name.
                    let s = unsafe { std::ffi::CStr::from_ptr(s) };
                    self.topics.find(s.to_bytes())
                }
            }
            _ => None,
        };
        let s = found.unwrap_or(default);
        t.strategy.store(s as u8, Relaxed);
        s
    }
}
