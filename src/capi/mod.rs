//! The C API (include/rdpart.h), one file per section of the header:
//!
//! - `callbacks.rs`: the partitioner callbacks, one per strategy;
//! - `conf.rs`: `rdpart_conf_t`, configurations in librdkafka's conf style;
//! - `partitioner.rs`: `rdpart_t`, partitioners made from a configuration;
//! - `declarations.rs`: the strategies and properties, as declared;
//! - `version.rs`: `rdpart_version()`.
//!
//! Every exported function runs behind `boundary()`: no panic unwinds into
//! C. Every pointer may be NULL. Every partition returned is in
//! `0..partition_cnt`, or `RD_KAFKA_PARTITION_UA` (-1) when
//! `partition_cnt < 1`. Safety, for every exported function: a pointer
//! argument is NULL or valid as the header describes (`keydata` readable
//! for `keylen` bytes, strings NUL-terminated, objects from the matching
//! `_new` and not yet destroyed); it is stated once here and in the header.

#![allow(clippy::missing_safety_doc)]

mod callbacks;
mod conf;
mod declarations;
mod partitioner;
mod version;

pub use callbacks::*;
pub use conf::*;
pub use declarations::*;
pub use partitioner::*;
pub use version::*;
