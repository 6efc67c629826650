//! Where both front ends keep their topics, so neither needs the other:
//!
//! - [`PLAIN`]: the topics of the plain callbacks (`rdpart_murmur2`, ...),
//!   which have no opaque, and [`place_plain`], their one body;
//! - [`PRODUCERS`]: the topics of every plugin producer, each owned by its
//!   producer's plugin instance, with what the plugin notes about them.
//!
//! `rdpart_new()` partitioners keep their own table (capi/partitioner.rs).

use crate::boundary::{boundary, key};
use crate::strategy::{Ctx, Strategy, TopicRef, TopicState};
use crate::sys::{rd_kafka_topic_t, PARTITION_UA};
use crate::topics::{Fresh, Topics};
use std::ffi::c_void;
use std::sync::atomic::AtomicBool;

/// Per-topic state for the plain callbacks.
pub static PLAIN: Topics<TopicState> = Topics::new(TopicState::null());

/// A plugin producer's topic.
pub struct ProducerTopic {
    pub state: TopicState,
    /// The plugin instance that owns it (its `ic_opaque`).
    pub owner: usize,
    /// A message with an unassigned partition was produced.
    pub ua_seen: AtomicBool,
    /// rdpart's partitioner placed a message of this topic.
    pub placed: AtomicBool,
    /// The user has been told this topic bypasses rdpart.
    pub warned: AtomicBool,
}

impl ProducerTopic {
    const fn null() -> ProducerTopic {
        ProducerTopic {
            state: TopicState::null(),
            owner: 0,
            ua_seen: AtomicBool::new(false),
            placed: AtomicBool::new(false),
            warned: AtomicBool::new(false),
        }
    }
}

impl Fresh for ProducerTopic {
    fn fresh(rkt: usize, owner: usize) -> ProducerTopic {
        ProducerTopic {
            state: TopicState::fresh(rkt, owner),
            owner,
            ..ProducerTopic::null()
        }
    }
}

/// Every plugin producer's topics, by topic handle; the owner is the
/// producer's plugin instance.
pub static PRODUCERS: Topics<ProducerTopic> = Topics::new(ProducerTopic::null());

/// Messages placed by the plugin's adaptive producers and not yet
/// acknowledged.
pub fn producers_in_flight() -> i64 {
    PRODUCERS.sum(|t| t.state.load_if_any().map_or(0, |l| l.in_flight()))
}

/// The body of every plain callback, and of a placement that has no
/// partitioner of its own. The strategy is a const parameter, so each
/// callback gets its own copy with only its strategy's code.
///
/// # Safety
/// librdkafka's partitioner contract: `rkt` is NULL or a live topic,
/// `keydata` NULL or `keylen` readable bytes.
#[inline(always)]
pub unsafe fn place_plain<const S: u8>(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    caller: usize,
) -> i32 {
    if partition_cnt < 1 {
        return PARTITION_UA;
    }
    let strategy = Strategy::from_u8(S);
    boundary(PARTITION_UA, || {
        let ctx = Ctx::new(rkt, TopicRef::Table(&PLAIN), caller);
        // SAFETY: the caller's contract for keydata/keylen.
        strategy.place(unsafe { key(keydata, keylen) }, partition_cnt as u32, &ctx) as i32
    })
}
