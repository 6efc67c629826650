//! What a placement knows besides the key: the topic, its state, how to
//! ask librdkafka about it, and the options of the strategies that use
//! them.

use super::run::RunLimits;
use super::state::TopicState;
use crate::sys::{rd_kafka_topic_t, AvailableFn, NameFn};
use crate::topics::Topics;

/// adaptive's options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdaptiveOptions {
    /// Leave out a partition not drained for this long (ms; 0: never).
    pub timeout_ms: u32,
    /// Weigh partitions by backlog (else uniform).
    pub weighting: bool,
}

impl Default for AdaptiveOptions {
    fn default() -> Self {
        AdaptiveOptions {
            timeout_ms: 500,
            weighting: true,
        }
    }
}

/// A placement's context.
pub struct Ctx<'a> {
    pub rkt: *const rd_kafka_topic_t,
    /// The availability function: this one, or (None) the process-wide
    /// one, looked up only when a strategy asks (available.rs).
    pub available: Option<AvailableFn>,
    pub topic: TopicRef<'a>,
    pub run: RunLimits,
    pub adaptive: AdaptiveOptions,
    /// `rd_kafka_topic_name` of the librdkafka placing (None: unknown).
    /// For a table, it tells a topic from a destroyed one whose handle had
    /// the same address.
    pub name: Option<NameFn>,
}

/// Where a placement finds its topic's state: already looked up (the
/// plugin), or in a table, looked up only when a strategy needs it.
#[derive(Clone, Copy)]
pub enum TopicRef<'a> {
    Known(&'a TopicState),
    Table(&'a Topics<TopicState>),
}

impl Ctx<'_> {
    /// A context for topic `rkt` with default options.
    pub fn new(rkt: *const rd_kafka_topic_t, topic: TopicRef<'_>) -> Ctx<'_> {
        Ctx {
            rkt,
            available: None,
            topic,
            run: RunLimits::default(),
            adaptive: AdaptiveOptions::default(),
            name: None,
        }
    }

    /// `rd_kafka_topic_name` of the librdkafka placing, if known.
    #[inline]
    pub fn name_fn(&self) -> Option<NameFn> {
        self.name.or_else(crate::loader::topic_name)
    }

    /// The topic's state: as given, the table's value of calls without a
    /// topic, or the table's value of this topic (looked up out of line).
    #[inline(always)]
    pub fn topic(&self) -> &TopicState {
        match self.topic {
            TopicRef::Known(t) => t,
            TopicRef::Table(t) if self.rkt.is_null() => t.without_topic(),
            TopicRef::Table(t) => self.look_up(t),
        }
    }

    /// The topic's state if a placement made it (found as `topic()` finds
    /// it; never made here).
    pub fn topic_if_any(&self) -> Option<&TopicState> {
        match self.topic {
            TopicRef::Known(t) => Some(t),
            // SAFETY: the name is librdkafka's, a C string (topic_name).
            TopicRef::Table(t) => unsafe { t.find_named(self.rkt as usize, self.topic_name()) },
        }
    }

    #[inline(never)]
    fn look_up<'t>(&self, t: &'t Topics<TopicState>) -> &'t TopicState {
        match self.topic_name() {
            // SAFETY: librdkafka's topic name, a C string.
            Some(n) => unsafe { t.get_named(self.rkt as usize, n) },
            None => t.get_or_insert(self.rkt as usize),
        }
    }

    /// The topic's name, as the librdkafka placing keeps it (None: no
    /// topic, or no `rd_kafka_topic_name` known).
    fn topic_name(&self) -> Option<*const std::ffi::c_char> {
        if self.rkt.is_null() {
            return None;
        }
        // SAFETY: a live topic (the one being placed or acknowledged) and
        // its librdkafka's rd_kafka_topic_name.
        self.name_fn().map(|name| unsafe { name(self.rkt) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::c_char;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

    /// Which topic holds handle 0x1000 now: "a" (a destroyed producer's)
    /// or "b" (the next producer's, whose name librdkafka put elsewhere).
    static B: AtomicBool = AtomicBool::new(false);
    static NAME_A: &[u8] = b"a\0";
    static NAME_B: &[u8] = b"b\0";

    unsafe extern "C" fn name(_: *const rd_kafka_topic_t) -> *const c_char {
        if B.load(Relaxed) { NAME_B } else { NAME_A }.as_ptr() as *const c_char
    }

    #[test]
    fn a_lookup_that_makes_nothing_never_finds_another_topics_state() {
        // What rdpart_delivered() asks: the state placement made for the
        // message's topic, not one left at its handle's address.
        let topics: Topics<TopicState> = Topics::default();
        let mut ctx = Ctx::new(0x1000 as *const _, TopicRef::Table(&topics));
        ctx.name = Some(name);
        assert!(ctx.topic_if_any().is_none(), "nothing placed yet");
        let a = ctx.topic() as *const TopicState;
        assert_eq!(ctx.topic_if_any().map(|t| t as *const _), Some(a));
        B.store(true, Relaxed);
        assert!(ctx.topic_if_any().is_none(), "a's state is not b's");
        let b = ctx.topic() as *const TopicState;
        assert_eq!(ctx.topic_if_any().map(|t| t as *const _), Some(b));
    }
}
