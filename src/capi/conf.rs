//! Partitioner configurations (rdpart.h's second section): librdkafka's
//! conf style, over the properties of config/.

use crate::boundary::{boundary, write_errstr};
use crate::config::{Config, SetError, PREFIX};
use crate::sys::{
    rd_kafka_conf_res_t, RD_KAFKA_CONF_INVALID, RD_KAFKA_CONF_OK, RD_KAFKA_CONF_UNKNOWN,
};
use std::ffi::{c_char, CStr};

/// A partitioner configuration: which strategy, and its options.
#[allow(non_camel_case_types)]
pub struct rdpart_conf_t(pub(super) Config);

/// A new configuration with the defaults: strategy `sticky`,
/// `sticky.messages` 1000, `sticky.linger.ms` 10. Free it with
/// rdpart_conf_destroy().
#[no_mangle]
pub extern "C" fn rdpart_conf_new() -> *mut rdpart_conf_t {
    boundary(std::ptr::null_mut(), || {
        Box::into_raw(Box::new(rdpart_conf_t(Config::default())))
    })
}

/// A copy of `conf` (NULL: of the defaults). Free it with rdpart_conf_destroy().
#[no_mangle]
pub unsafe extern "C" fn rdpart_conf_dup(conf: *const rdpart_conf_t) -> *mut rdpart_conf_t {
    boundary(std::ptr::null_mut(), || {
        // SAFETY: conf is NULL or from rdpart_conf_new().
        let c = unsafe { conf.as_ref() }.map_or_else(Config::default, |c| c.0.clone());
        Box::into_raw(Box::new(rdpart_conf_t(c)))
    })
}

/// Frees a configuration. NULL is ignored. Freeing the same configuration
/// twice is undefined behaviour (as for free()).
#[no_mangle]
pub unsafe extern "C" fn rdpart_conf_destroy(conf: *mut rdpart_conf_t) {
    boundary((), || {
        if !conf.is_null() {
            // SAFETY: conf came from rdpart_conf_new()/rdpart_conf_dup().
            drop(unsafe { Box::from_raw(conf) });
        }
    })
}

/// Sets property `name` to `value` (NULL: back to the default; "" is a
/// value, and no property accepts it). `name` may carry the plugin's
/// `rdpart.` prefix.
///
/// Properties:
/// - `strategy`: murmur2, murmur2_random, consistent, consistent_random,
///   fnv1a, fnv1a_random, jump, random, round_robin, sticky, kafkajs,
///   kafkajs_legacy, sarama_reference, sarama_crc, kafka_go_hash, adaptive
///   (default sticky);
/// - `sticky.messages`: 1..2147483647, messages per sticky run (default 1000);
/// - `sticky.linger.ms`: 0..900000, ms per sticky run, 0 for no time limit
///   (default 10);
/// - `topic.strategy`: a strategy per topic, as comma-separated
///   `PATTERN:STRATEGY` pairs (`orders:jump,events-*:round_robin`); PATTERN
///   is a topic name or a glob with `*`; the first match wins; other topics
///   use `strategy` (default: none);
/// - `key.delimiter`: 1 to 8 bytes; the hashing strategies hash only the
///   key's bytes before its first occurrence (the whole key when it does not
///   occur); NULL and empty keys are placed as before (default: none);
/// - `adaptive.run.bytes`: 1..2147483647, bytes per keyless run of
///   `adaptive` (default 262144);
/// - `adaptive.timeout.ms`: 0..900000, leave out a partition not drained
///   for this long, 0 for never (default 500);
/// - `adaptive.weighting`: true or false, weigh the next run's partition by
///   backlog (default true);
/// - `hot.key.share`: 0 (off) or a share between 0 and 1: a key with more
///   than this share of its topic's keyed messages over about the last
///   second is hot, and its messages go in turn to `hot.key.partitions`
///   partitions from its own on, in no order across them; other keys are
///   placed as before (default 0);
/// - `hot.key.partitions`: 1..65536, partitions a hot key is spread over
///   (default 4);
/// - `rack.aware`: true or false; true (the plugin's `rdpart.rack.aware`,
///   with librdkafka's `client.rack`) places keyless messages on partitions
///   whose leader is in the client's rack while one is available. An
///   rdpart_new() partitioner cannot learn leaders' racks: rdpart_new()
///   fails for true (default false).
///
/// Returns RD_KAFKA_CONF_OK; RD_KAFKA_CONF_INVALID for a bad value or NULL
/// conf/name; RD_KAFKA_CONF_UNKNOWN for an unknown name. On error, a message
/// naming the property and the allowed values is written to `errstr`
/// (`errstr_size` bytes, may be NULL) and `conf` is unchanged.
#[no_mangle]
pub unsafe extern "C" fn rdpart_conf_set(
    conf: *mut rdpart_conf_t,
    name: *const c_char,
    value: *const c_char,
    errstr: *mut c_char,
    errstr_size: usize,
) -> rd_kafka_conf_res_t {
    boundary(RD_KAFKA_CONF_INVALID, || {
        // SAFETY: conf is NULL or from rdpart_conf_new(); strings are NULL or C strings.
        let result = unsafe { conf_set(conf.as_mut(), name, value) };
        match result {
            Ok(()) => RD_KAFKA_CONF_OK,
            Err(e) => {
                let (code, msg) = match &e {
                    SetError::Invalid(m) => (RD_KAFKA_CONF_INVALID, m),
                    SetError::Unknown(m) => (RD_KAFKA_CONF_UNKNOWN, m),
                };
                // SAFETY: the caller's errstr contract.
                unsafe { write_errstr(errstr, errstr_size, msg) };
                code
            }
        }
    })
}

/// rdpart_conf_set's checks, one argument at a time.
unsafe fn conf_set(
    conf: Option<&mut rdpart_conf_t>,
    name: *const c_char,
    value: *const c_char,
) -> Result<(), SetError> {
    let invalid = |m: &str| Err(SetError::Invalid(format!("rdpart_conf_set: {m}")));
    let Some(conf) = conf else {
        return invalid("conf is NULL");
    };
    if name.is_null() {
        return invalid("name is NULL");
    }
    // SAFETY: a C string.
    let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else {
        return invalid("name must be UTF-8");
    };
    // SAFETY: NULL or a C string, taken as bytes (a delimiter may be any).
    let value = (!value.is_null()).then(|| unsafe { CStr::from_ptr(value) }.to_bytes());
    let bare = name.strip_prefix(PREFIX).unwrap_or(name);
    conf.0.set_bytes(name, bare, value)
}

/// The strategy `conf` gives topic `topic`: the first `topic.strategy` pair
/// that matches it, else `strategy`. A static string; NULL when `conf` or
/// `topic` is NULL (conf NULL: the defaults' "sticky"). This is what a
/// partitioner made from `conf` resolves when it first sees the topic.
#[no_mangle]
pub unsafe extern "C" fn rdpart_conf_topic_strategy(
    conf: *const rdpart_conf_t,
    topic: *const c_char,
) -> *const c_char {
    boundary(std::ptr::null(), || {
        if topic.is_null() {
            return std::ptr::null();
        }
        // SAFETY: topic is a C string.
        let name = unsafe { CStr::from_ptr(topic) }.to_bytes();
        // SAFETY: conf is NULL or from rdpart_conf_new(); read, not copied.
        let s = match unsafe { conf.as_ref() } {
            Some(c) => c.0.topics.find(name).unwrap_or(c.0.strategy),
            None => Config::default().strategy,
        };
        s.c_name().as_ptr()
    })
}
