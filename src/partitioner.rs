//! A configured partitioner: a strategy (and one per topic), run limits,
//! adaptive's options, the key delimiter, and the librdkafka to ask about
//! partitions and topic names. `rdpart_new()` pairs one with its own topic
//! table; the plugin installs one per producer and keeps its topics in the
//! registry (registry.rs).

use crate::atomic::AtomicFn;
use crate::boundary::Key;
use crate::config::{Config, TopicRules};
use crate::strategy::{
    AdaptiveOptions, Ctx, HotKeyOptions, KeyDelimiter, RunLimits, Strategy, TopicRef, TopicState,
    UNRESOLVED,
};
use crate::sys::{rd_kafka_topic_t, AvailableFn, NameFn};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};
use std::sync::RwLock;

/// `Partitioner::fast` when options are set (no strategy has this value).
const OPTIONS: u8 = u8::MAX;

pub struct Partitioner {
    // The configuration is read on every call and may be changed (by the
    // plugin's on_conf_set) before the producer exists: relaxed atomics.
    strategy: AtomicU8,
    sticky_messages: AtomicU32,
    sticky_linger_ms: AtomicU32,
    run_bytes: AtomicU32,
    timeout_ms: AtomicU32,
    weighting: AtomicBool,
    hot_share_ppm: AtomicU32,
    hot_partitions: AtomicU32,
    rack_aware: AtomicBool,
    delimiter_bytes: AtomicU64,
    delimiter_len: AtomicU8,
    /// `topic.strategy` is set: placements look up their topic's strategy.
    has_topics: AtomicBool,
    /// `strategy`, or `OPTIONS` when `key.delimiter` or `topic.strategy`
    /// is set: what a placement reads first.
    fast: AtomicU8,
    /// `topic.strategy`, read only when a topic is first seen.
    topics: RwLock<TopicRules>,
    /// The availability function (None: the process-wide one, loader.rs).
    available: AtomicFn<AvailableFn>,
    /// `rd_kafka_topic_name` of the librdkafka producing (None: not known).
    name: AtomicFn<NameFn>,
}

impl Partitioner {
    pub fn new(config: Config, available: Option<AvailableFn>, name: Option<NameFn>) -> Self {
        let p = Partitioner {
            strategy: AtomicU8::new(0),
            sticky_messages: AtomicU32::new(0),
            sticky_linger_ms: AtomicU32::new(0),
            run_bytes: AtomicU32::new(0),
            timeout_ms: AtomicU32::new(0),
            weighting: AtomicBool::new(true),
            hot_share_ppm: AtomicU32::new(0),
            hot_partitions: AtomicU32::new(0),
            rack_aware: AtomicBool::new(false),
            delimiter_bytes: AtomicU64::new(0),
            delimiter_len: AtomicU8::new(0),
            has_topics: AtomicBool::new(false),
            fast: AtomicU8::new(0),
            topics: RwLock::new(TopicRules::default()),
            available: AtomicFn::new(available),
            name: AtomicFn::new(name),
        };
        p.apply(config);
        p
    }

    pub fn config(&self) -> Config {
        let (bytes, len) = (
            self.delimiter_bytes.load(Relaxed),
            self.delimiter_len.load(Relaxed),
        );
        Config {
            strategy: Strategy::from_u8(self.strategy.load(Relaxed)),
            run: self.run(),
            adaptive: self.adaptive(),
            topics: self.rules().clone(),
            delimiter: KeyDelimiter::from_parts(bytes, len),
            hot: self.hot(),
            rack_aware: self.rack_aware.load(Relaxed),
        }
    }

    pub fn apply(&self, config: Config) {
        self.strategy.store(config.strategy as u8, Relaxed);
        self.sticky_messages.store(config.run.messages, Relaxed);
        self.sticky_linger_ms.store(config.run.linger_ms, Relaxed);
        self.run_bytes.store(config.run.bytes, Relaxed);
        self.timeout_ms.store(config.adaptive.timeout_ms, Relaxed);
        self.weighting.store(config.adaptive.weighting, Relaxed);
        self.hot_share_ppm.store(config.hot.share_ppm, Relaxed);
        self.hot_partitions.store(config.hot.partitions, Relaxed);
        self.rack_aware.store(config.rack_aware, Relaxed);
        let (bytes, len) = config.delimiter.to_parts();
        self.delimiter_bytes.store(bytes, Relaxed);
        self.delimiter_len.store(len, Relaxed);
        self.has_topics.store(!config.topics.is_empty(), Relaxed);
        let options = len != 0 || !config.topics.is_empty() || config.hot.share_ppm != 0;
        self.fast.store(
            if options {
                OPTIONS
            } else {
                config.strategy as u8
            },
            Relaxed,
        );
        *self.topics.write().unwrap_or_else(|e| e.into_inner()) = config.topics;
    }

    fn rules(&self) -> std::sync::RwLockReadGuard<'_, TopicRules> {
        self.topics.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Does topic `t` (registered, its strategy resolved) use adaptive?
    pub fn adapts(&self, t: &TopicState) -> bool {
        let s = if self.has_topics.load(Relaxed) {
            t.strategy.load(Relaxed)
        } else {
            self.strategy.load(Relaxed)
        };
        s == Strategy::Adaptive as u8
    }

    /// The strategy that places topic `t` (registered, its strategy resolved).
    pub fn strategy_of(&self, t: &TopicState) -> Strategy {
        if self.has_topics.load(Relaxed) && t.strategy.load(Relaxed) != UNRESOLVED {
            Strategy::from_u8(t.strategy.load(Relaxed))
        } else {
            Strategy::from_u8(self.strategy.load(Relaxed))
        }
    }

    /// Is rack awareness on (read without copying the configuration)?
    pub fn rack_aware(&self) -> bool {
        self.rack_aware.load(Relaxed)
    }

    /// Does this partitioner resolve a strategy per topic?
    pub fn has_topic_rules(&self) -> bool {
        self.has_topics.load(Relaxed)
    }

    #[inline]
    fn run(&self) -> RunLimits {
        RunLimits {
            messages: self.sticky_messages.load(Relaxed),
            linger_ms: self.sticky_linger_ms.load(Relaxed),
            bytes: self.run_bytes.load(Relaxed),
        }
    }

    #[inline]
    fn hot(&self) -> HotKeyOptions {
        HotKeyOptions {
            share_ppm: self.hot_share_ppm.load(Relaxed),
            partitions: self.hot_partitions.load(Relaxed),
        }
    }

    #[inline]
    fn adaptive(&self) -> AdaptiveOptions {
        AdaptiveOptions {
            timeout_ms: self.timeout_ms.load(Relaxed),
            weighting: self.weighting.load(Relaxed),
        }
    }

    /// Place one message: `n >= 1`, result in `0..n`. Without
    /// `key.delimiter` and `topic.strategy`, the placement is exactly what
    /// it was before they existed: one test of `options`.
    #[inline]
    pub fn place(&self, rkt: *const rd_kafka_topic_t, topic: TopicRef, key: Key, n: u32) -> u32 {
        // One load: the strategy, or OPTIONS when options are set.
        let s = self.fast.load(Relaxed);
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
            available: self.available.get(),
            topic,
            run: self.run(),
            adaptive: self.adaptive(),
            name: self.name.get(),
        }
    }

    // Cold: kept out of the layout of the path without options, which is
    // then at parity with the build before hot keys (BENCHMARKS.md section
    // 8; the options' own path pays ~0.5 ns for it).
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
        let delimiter = KeyDelimiter::from_parts(
            self.delimiter_bytes.load(Relaxed),
            self.delimiter_len.load(Relaxed),
        );
        let strategy = if self.has_topics.load(Relaxed) {
            self.topic_strategy(&ctx)
        } else {
            Strategy::from_u8(self.strategy.load(Relaxed))
        };
        strategy.place_with(key, n, &ctx, delimiter, Some(self.hot()))
    }

    /// The strategy of the placement's topic, resolved on first sight.
    #[inline(never)]
    fn topic_strategy(&self, ctx: &Ctx) -> Strategy {
        if ctx.rkt.is_null() {
            return Strategy::from_u8(self.strategy.load(Relaxed));
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
        self.resolve_with(rkt, t, self.name.get())
    }

    /// As `resolve`, asking `name` for the topic's name.
    fn resolve_with(&self, rkt: usize, t: &TopicState, name: Option<NameFn>) -> Strategy {
        let default = Strategy::from_u8(self.strategy.load(Relaxed));
        let found = match (name, rkt) {
            (Some(name), rkt) if rkt != 0 => {
                // SAFETY: the topic handle librdkafka placed a message of,
                // live while its message is.
                let s = unsafe { name(rkt as *const rd_kafka_topic_t) };
                if s.is_null() {
                    None
                } else {
                    // SAFETY: librdkafka's NUL-terminated topic name. The
                    // rules are written only while configuring: a read
                    // lock that never waits in practice.
                    let s = unsafe { std::ffi::CStr::from_ptr(s) };
                    self.rules().find(s.to_bytes())
                }
            }
            _ => None,
        };
        let s = found.unwrap_or(default);
        t.strategy.store(s as u8, Relaxed);
        s
    }
}
