//! Where both front ends keep their topics, so neither needs the other:
//!
//! - [`PLAIN`]: the topics of the plain callbacks (`rdpart_murmur2`, ...),
//!   which have no opaque, and [`place_plain`], their one body;
//! - [`PRODUCERS`]: the topics of every plugin producer, each owned by its
//!   producer's plugin instance, with what the plugin notes about them.
//!
//! `rdpart_new()` partitioners keep their own table (capi/partitioner.rs).
//! [`stats_json`] reports the plugin producers' topics (`rdpart_stats()`).

use crate::atomic::Segments;
use crate::boundary::{boundary, key};
use crate::strategy::{Ctx, Strategy, TopicRef, TopicState};
use crate::sys::{rd_kafka_topic_t, PARTITION_UA};
use crate::topics::{Fresh, Topics};
use once_cell::race::OnceBox;
use serde_json::{json, Value};
use std::ffi::c_void;
use std::fmt::Write;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering::Relaxed};

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
    /// What the application's partitioner (`rdpart.partitioner.cb`) did.
    pub custom: CustomTopic,
    /// What `rdpart_stats()` reports, made when the plugin registers it.
    stats: OnceBox<TopicStats>,
}

/// A plugin topic's counts, for `rdpart_stats()`.
pub struct TopicStats {
    /// The producer's name (`rd_kafka_name()`), the topic's, its strategy.
    pub producer: String,
    pub topic: String,
    pub strategy: &'static str,
    /// Messages (and their bytes: key and value) produced: on_send.
    sent: AtomicU64,
    sent_bytes: AtomicU64,
    partitions: Segments<PartitionStats>,
    /// Acknowledged for partitions beyond the ones counted one by one.
    beyond: PartitionStats,
}

/// A partition's acknowledgements.
#[derive(Default)]
struct PartitionStats {
    delivered: AtomicU64,
    bytes: AtomicU64,
    failed: AtomicU64,
}

impl TopicStats {
    pub fn new(producer: String, topic: String, strategy: &'static str) -> TopicStats {
        TopicStats {
            producer,
            topic,
            strategy,
            sent: AtomicU64::new(0),
            sent_bytes: AtomicU64::new(0),
            partitions: Segments::default(),
            beyond: PartitionStats::default(),
        }
    }

    /// A message produced (on_send).
    #[inline]
    pub fn sent(&self, bytes: usize) {
        self.sent.fetch_add(1, Relaxed);
        self.sent_bytes.fetch_add(bytes as u64, Relaxed);
    }

    /// A message acknowledged (on_acknowledgement): delivered to
    /// `partition` or failed.
    #[inline]
    pub fn acknowledged(&self, partition: i32, delivered: bool, bytes: usize) {
        let p = u32::try_from(partition)
            .ok()
            .and_then(|p| self.partitions.get_or_make(p))
            .unwrap_or(&self.beyond);
        if delivered {
            p.delivered.fetch_add(1, Relaxed);
            p.bytes.fetch_add(bytes as u64, Relaxed);
        } else {
            p.failed.fetch_add(1, Relaxed);
        }
    }
}

/// How the application's partitioner placed a message.
#[derive(Clone, Copy)]
pub enum Placed {
    /// At the partition it returned.
    Partition,
    /// By the strategy, with the routing key it returned.
    Key,
    /// By the strategy (it returned RDPART_PLACE_STRATEGY).
    Strategy,
    /// By the strategy, without an answer (`rdpart.partitioner.fallback`).
    Fallback,
}

/// Why a message the application's partitioner should place failed.
#[derive(Clone, Copy)]
pub enum Failure {
    /// The function failed it (raised, or returned RDPART_PLACE_FAIL).
    Function,
    /// It returned something that is not a placement.
    BadReturn,
    /// It returned a partition the topic does not have.
    OutOfRange,
    /// The topic's partition count was not known after the wait.
    NoCount,
    /// rd_kafka_produce_batch(), where the function must not run.
    Batch,
    /// The message reached the partitioner with no answer (placed later on
    /// librdkafka's own thread).
    Unplaced,
}

impl Failure {
    const ALL: [(Failure, &'static str); 6] = [
        (Failure::Function, "function"),
        (Failure::BadReturn, "bad_return"),
        (Failure::OutOfRange, "out_of_range"),
        (Failure::NoCount, "no_partition_count"),
        (Failure::Batch, "produce_batch"),
        (Failure::Unplaced, "unplaced"),
    ];
}

/// What the application's partitioner did for one topic, and what it
/// needs to know of the topic.
pub struct CustomTopic {
    /// The partition count the partitioner was last called with (0: none yet).
    pub partition_cnt: AtomicI32,
    /// After a wait for the count that failed: no new wait before this
    /// `now_ms()` (0: none).
    pub retry_at: AtomicU32,
    /// When a failure of each kind was last logged, and how many were not since.
    pub logged_at: [AtomicU32; 6],
    pub unlogged: [AtomicU64; 6],
    /// Messages that failed in on_send for want of a partition count, which
    /// librdkafka's thread is still to place (and fail).
    pub no_count: AtomicU64,
    /// Failures in librdkafka's partitioner, to be said from the next
    /// interceptor (the partitioner never formats or logs): how many of
    /// each, and the last out-of-range answer (partition << 32 | count).
    pub untold_out_of_range: AtomicU64,
    pub untold_unplaced: AtomicU64,
    pub last_out_of_range: AtomicU64,
    placed: [AtomicU64; 4],
    failed: [AtomicU64; 6],
}

impl CustomTopic {
    const fn new() -> CustomTopic {
        CustomTopic {
            partition_cnt: AtomicI32::new(0),
            retry_at: AtomicU32::new(0),
            logged_at: [const { AtomicU32::new(0) }; 6],
            unlogged: [const { AtomicU64::new(0) }; 6],
            no_count: AtomicU64::new(0),
            untold_out_of_range: AtomicU64::new(0),
            untold_unplaced: AtomicU64::new(0),
            last_out_of_range: AtomicU64::new(0),
            placed: [const { AtomicU64::new(0) }; 4],
            failed: [const { AtomicU64::new(0) }; 6],
        }
    }

    #[inline]
    pub fn placed(&self, how: Placed) {
        self.placed[how as usize].fetch_add(1, Relaxed);
    }

    #[inline]
    pub fn failed(&self, why: Failure) {
        self.failed[why as usize].fetch_add(1, Relaxed);
    }

    /// What rdpart_stats() shows under `"partitioner"`, when it placed
    /// or failed anything.
    fn json(&self) -> Option<Value> {
        let placed: Vec<u64> = self.placed.iter().map(|a| a.load(Relaxed)).collect();
        let failed: Vec<u64> = self.failed.iter().map(|a| a.load(Relaxed)).collect();
        if placed.iter().chain(&failed).all(|&n| n == 0) {
            return None;
        }
        let reasons: serde_json::Map<String, Value> = Failure::ALL
            .iter()
            .map(|(f, name)| (name.to_string(), json!(failed[*f as usize])))
            .collect();
        Some(json!({
            "partition": placed[0],
            "key": placed[1],
            "strategy": placed[2],
            "fallback": placed[3],
            "failed": reasons,
        }))
    }
}

impl ProducerTopic {
    /// The topic's counts, made by `make` on first sight.
    #[inline]
    pub fn stats(&self, make: impl FnOnce() -> TopicStats) -> &TopicStats {
        self.stats.get_or_init(|| Box::new(make()))
    }

    /// The topic's counts, if the plugin registered it.
    #[inline]
    pub fn stats_if_any(&self) -> Option<&TopicStats> {
        self.stats.get()
    }
}

impl ProducerTopic {
    const fn null() -> ProducerTopic {
        ProducerTopic {
            state: TopicState::null(),
            owner: 0,
            ua_seen: AtomicBool::new(false),
            placed: AtomicBool::new(false),
            warned: AtomicBool::new(false),
            custom: CustomTopic::new(),
            stats: OnceBox::new(),
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
) -> i32 {
    if partition_cnt < 1 {
        return PARTITION_UA;
    }
    let strategy = Strategy::from_u8(S);
    boundary(PARTITION_UA, || {
        let ctx = Ctx::new(rkt, TopicRef::Table(&PLAIN));
        // SAFETY: the caller's contract for keydata/keylen.
        strategy.place(unsafe { key(keydata, keylen) }, partition_cnt as u32, &ctx) as i32
    })
}

/// Every plugin producer's topics as JSON: per producer and topic, what was
/// sent and is in flight, per partition what was delivered (messages,
/// bytes) and failed, adaptive's view (in flight, latency, left out) and
/// the keys hot now. Takes the topic tables' insert lock for the walk.
pub fn stats_json() -> String {
    let mut producers: Vec<(usize, String, Vec<Value>)> = Vec::new();
    PRODUCERS.each(|_, owner, t| {
        let Some(st) = t.stats_if_any() else { return };
        let topic = topic_json(t, st);
        match producers.iter_mut().find(|(o, _, _)| *o == owner) {
            Some((_, _, topics)) => topics.push(topic),
            None => producers.push((owner, st.producer.clone(), vec![topic])),
        }
    });
    let producers: Vec<Value> = producers
        .into_iter()
        .map(|(_, name, topics)| json!({"name": name, "topics": topics}))
        .collect();
    json!({ "producers": producers }).to_string()
}

fn topic_json(t: &ProducerTopic, st: &TopicStats) -> Value {
    let load = t.state.load_if_any();
    let mut acked = 0u64;
    let mut parts = Vec::new();
    for (p, s) in st.partitions.upto(u32::MAX) {
        let (d, b, f) = (
            s.delivered.load(Relaxed),
            s.bytes.load(Relaxed),
            s.failed.load(Relaxed),
        );
        let view = load.and_then(|l| l.view(p));
        if d == 0 && f == 0 && view.is_none_or(|v| v.0 == 0) {
            continue;
        }
        acked += d + f;
        let mut j = json!({"partition": p, "delivered": d, "bytes": b, "failed": f});
        if let Some((in_flight, latency, out)) = view {
            j["in_flight"] = json!(in_flight);
            j["latency_us"] = json!(latency);
            j["left_out"] = json!(out);
        }
        parts.push(j);
    }
    acked += st.beyond.delivered.load(Relaxed) + st.beyond.failed.load(Relaxed);
    let sent = st.sent.load(Relaxed);
    let hot: Vec<Value> = t
        .state
        .hot_keys_if_any()
        .map(|h| h.hot_now())
        .unwrap_or_default()
        .iter()
        .map(|n| {
            let mut j = key_json(n.key_bytes());
            // Four decimals: a share is known to about 1e-4.
            j["share"] = json!((n.share_ppm / 100) as f64 / 1e4);
            j["partitions"] = json!(n.partitions().collect::<Vec<u32>>());
            j
        })
        .collect();
    let mut j = json!({
        "topic": st.topic,
        "strategy": st.strategy,
        "sent": sent,
        "sent_bytes": st.sent_bytes.load(Relaxed),
        "in_flight": sent.saturating_sub(acked),
        "partitions": parts,
        "hot_keys": hot,
    });
    if let Some(c) = t.custom.json() {
        j["partitioner"] = c;
    }
    j
}

/// A key for rdpart_stats(): `"key": "text"` when it is UTF-8 text without
/// control characters, else `"key_hex": "hex"`; `"key_cut": true` when only
/// its first bytes are kept. Two different keys never look alike.
fn key_json((key, cut): (&[u8], bool)) -> Value {
    let mut o = match std::str::from_utf8(key) {
        Ok(text) if !text.chars().any(char::is_control) => json!({ "key": text }),
        _ => {
            let mut h = String::with_capacity(key.len() * 2);
            for b in key {
                let _ = write!(h, "{b:02x}");
            }
            json!({ "key_hex": h })
        }
    };
    if cut {
        o["key_cut"] = json!(true);
    }
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_never_look_alike() {
        let shown: Vec<String> = [
            &b"0x2271"[..],
            b"\"q",
            b"",
            b"\x00q",
            b"caf\xc3\xa9",
            b"\xff",
        ]
        .iter()
        .map(|k| super::key_json((k, false)).to_string())
        .collect();
        assert_eq!(
            shown,
            [
                "{\"key\":\"0x2271\"}",
                "{\"key\":\"\\\"q\"}",
                "{\"key\":\"\"}",
                "{\"key_hex\":\"0071\"}",
                "{\"key\":\"café\"}",
                "{\"key_hex\":\"ff\"}"
            ]
        );
        assert_eq!(
            super::key_json((b"ab", true)).to_string(),
            "{\"key\":\"ab\",\"key_cut\":true}"
        );
    }
}
