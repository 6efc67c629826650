//! What adaptive learns, as state: per topic, each partition's backlog,
//! acknowledgement latency and whether it is left out (load.rs); per
//! producer, each broker's round trips (brokers.rs); one rule for when a
//! latency is slow (slow.rs). Fed by adaptive/feedback.rs, read by
//! adaptive's placement (adaptive/).

mod brokers;
mod load;
mod slow;

pub use brokers::Brokers;
pub use load::Load;
pub(in crate::strategy) use load::{sending, PartitionLoad, PROBE_MS, WARM_RUN_BYTES};
