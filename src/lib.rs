//! rdpart: partitioners for librdkafka producers.
//!
//! - `hash`: the hash functions (murmur2, murmur64a, crc32, fnv1a, jump);
//! - `strategy`: placement, one file per strategy;
//! - `topics`: lock-free per-topic state for round_robin and sticky;
//! - `host`: finding the process's librdkafka at run time;
//! - `conf`, `partitioner`: configuration and configured partitioners;
//! - `ffi`: the C ABI (see include/rdpart.h);
//! - `plugin`: the librdkafka plugin (`plugin.library.paths=librdpart`).

pub mod clock;
pub mod conf;
pub mod ffi;
pub mod hash;
pub mod host;
pub mod partitioner;
pub mod plugin;
pub mod rng;
pub mod strategy;
pub mod topics;
