//! rdpart: partitioners for librdkafka producers.
//!
//! Modules in dependency order; each uses only those above it:
//!
//! - leaves: `sys` (librdkafka's types), `boundary` (the C landing pad),
//!   `atomic`, `clock`, `rng`, `hash`, `loader` (finding librdkafka);
//! - `topics`: a generic table of per-topic values;
//! - `strategy`: placement, one file per strategy, and what it keeps per
//!   topic (`strategy/state.rs`);
//! - `config`, `partitioner`: the properties, and configured partitioners;
//! - `registry`: where the two front ends keep their topics;
//! - `capi` (include/rdpart.h) and `plugin` (`plugin.library.paths`), the
//!   front ends, which never use each other;
//! - `process`: what runs when the library is loaded, and around fork().
//!
//! docs/ has the long explanations.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod atomic;
pub mod boundary;
pub mod clock;
pub mod hash;
pub mod loader;
pub mod rng;
pub mod sys;

pub mod topics;

pub mod strategy;

pub mod config;
pub mod partitioner;

pub mod registry;

pub mod capi;
pub mod plugin;

mod process;
