//! What adaptive learns from outside placement, in one place: the plugin's
//! `on_send` and `on_acknowledgement`, and `rdpart_delivered()` for
//! `rdpart_new()` partitioners, report here and nowhere else.

use crate::strategy::backlog;
use crate::strategy::state::TopicState;

/// A message of topic `t` about to be produced (the plugin's on_send, in
/// the producing thread): to the application's `partition` (>= 0), or to
/// be placed next by the partitioner, in this thread.
#[inline]
pub fn sending(t: &TopicState, partition: i32, bytes: usize) {
    let load = t.load_table();
    if partition >= 0 {
        // Backlog on a partition the application chose, if it is known to
        // exist (librdkafka never acknowledges some messages to partitions
        // that do not: rd_kafka_produce_batch() with RD_KAFKA_MSG_F_PARTITION).
        if (partition as u32) < load.known_partitions() {
            load.placed(partition as u32);
        }
    } else {
        let b = bytes.min(u32::MAX as usize - 1) as u32;
        backlog::sending(b);
        load.note_size(b);
    }
}

/// An acknowledgement of one message.
pub struct Report<'a> {
    pub partition: i32,
    /// Delivered (else failed, timed out or purged).
    pub delivered: bool,
    /// The delivery latency in µs, asked only when sampled.
    pub latency_us: &'a dyn Fn() -> Option<u64>,
    /// The message's size, when no on_send saw it (rdpart_delivered).
    pub bytes: Option<usize>,
    /// The broker that acknowledged it (-1: not known).
    pub broker: i32,
}

/// Counts an acknowledgement of a message of topic `t`: delivered or not,
/// it ends the message's backlog; a delivered one tells the latency.
pub fn acknowledged(t: &TopicState, r: Report) {
    let (Some(load), true) = (t.load_if_any(), r.partition >= 0) else {
        return;
    };
    if let Some(b) = r.bytes {
        load.note_size(b.min(u32::MAX as usize) as u32);
    }
    // Clamped: an acknowledgement of a message that was not counted (sent
    // before its partition was known, or an explicit partition reported to
    // rdpart_delivered) must not count either.
    if r.broker >= 0 {
        load.acknowledged_by(r.partition as u32, r.broker);
    }
    load.acknowledged(
        r.partition as u32,
        r.delivered.then_some(r.latency_us),
        true,
    );
}
