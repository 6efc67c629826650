//! The C ABI: partitioner callbacks with librdkafka's exact signature, and
//! a configurable partitioner object in librdkafka's conf style.
//!
//! Every exported function runs behind `boundary()`: no panic unwinds into
//! C. Every pointer may be NULL. Every partition returned is in
//! `0..partition_cnt`, or `RD_KAFKA_PARTITION_UA` (-1) when
//! `partition_cnt < 1`.
//!
//! Safety, for every exported function: a pointer argument is NULL or
//! valid as the header describes (`keydata` readable for `keylen` bytes,
//! strings NUL-terminated, objects from the matching `_new` and not yet
//! destroyed). That is the whole contract; it is stated once here and in
//! the header rather than on each function.

#![allow(clippy::missing_safety_doc)]

use crate::conf::{Config, SetError, PREFIX};
use crate::host::{rd_kafka_topic_t, AvailableFn};
use crate::partitioner::Partitioner;
pub use crate::plugin::types::rd_kafka_message_t;
use crate::strategy::{Ctx, Key, StickyLimits, Strategy, TopicRef};
use crate::topics::Topics;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// librdkafka's `rd_kafka_conf_res_t` (declared in rdkafka.h).
#[allow(non_camel_case_types)]
pub type rd_kafka_conf_res_t = c_int;
pub const RD_KAFKA_CONF_UNKNOWN: rd_kafka_conf_res_t = -2;
pub const RD_KAFKA_CONF_INVALID: rd_kafka_conf_res_t = -1;
pub const RD_KAFKA_CONF_OK: rd_kafka_conf_res_t = 0;

const PARTITION_UA: i32 = -1;

/// Runs `f`; if it panics, returns `on_panic` instead of unwinding into C.
#[inline]
pub fn boundary<R>(on_panic: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// Writes `msg` into a C error buffer (truncated, always NUL-terminated).
///
/// # Safety
/// `errstr` is NULL or points to `errstr_size` writable bytes.
pub unsafe fn write_errstr(errstr: *mut c_char, errstr_size: usize, msg: &str) {
    if errstr.is_null() || errstr_size == 0 {
        return;
    }
    let mut len = msg.len().min(errstr_size - 1);
    while !msg.is_char_boundary(len) {
        len -= 1;
    }
    // SAFETY: len < errstr_size bytes fit, plus the NUL.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), errstr as *mut u8, len);
        *errstr.add(len) = 0;
    }
}

/// The key as librdkafka hands it over: NULL is no key, whatever keylen.
///
/// # Safety
/// `keydata` is NULL or points to `keylen` readable bytes.
#[inline]
pub(crate) unsafe fn key<'a>(keydata: *const c_void, keylen: usize) -> Key<'a> {
    if keydata.is_null() {
        None
    } else {
        // SAFETY: the caller's contract.
        Some(unsafe { std::slice::from_raw_parts(keydata as *const u8, keylen) })
    }
}

/// The body of an exported callback, with the caller's return address as a
/// seventh argument (see `with_caller!`).
macro_rules! placed {
    ($name:ident, $strategy:ident) => {
        pub(crate) unsafe extern "C" fn $name(
            rkt: *const rd_kafka_topic_t,
            keydata: *const c_void,
            keylen: usize,
            partition_cnt: i32,
            _rkt_opaque: *mut c_void,
            _msg_opaque: *mut c_void,
            caller: usize,
        ) -> i32 {
            // SAFETY: the callback contract, passed on.
            unsafe {
                plain::<{ Strategy::$strategy as u8 }>(rkt, keydata, keylen, partition_cnt, caller)
            }
        }
    };
}

/// The body of a naked callback: calls `$body` with the same six
/// arguments and, as the seventh, the callback's return address (the code
/// of the librdkafka that called it), then returns what `$body` returns.
#[cfg(target_arch = "x86_64")]
macro_rules! with_caller {
    ($body:ident) => {
        // At entry [rsp] is the return address. Pushing it makes it the
        // seventh (stack) argument and aligns the stack for the call.
        core::arch::naked_asm!("mov rax, [rsp]", "push rax", "call {f}", "pop rcx", "ret", f = sym $body)
    };
}
#[cfg(target_arch = "aarch64")]
macro_rules! with_caller {
    ($body:ident) => {
        // The return address is in x30; x6 is the seventh argument.
        core::arch::naked_asm!("mov x6, x30", "b {f}", f = sym $body)
    };
}
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
compile_error!(
    "rdpart's callbacks are written for x86_64 and aarch64 (see with_caller! in ffi.rs)"
);

/// Per-topic state for the plain callbacks, which have no opaque.
static TOPICS: Topics = Topics::new();

/// The body of every plain callback. The strategy is a const parameter, so
/// each callback gets its own copy with only its strategy's code (one
/// shared copy would pick the strategy at run time, behind a call).
#[inline(always)]
unsafe fn plain<const S: u8>(
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
        let ctx = Ctx {
            rkt,
            host: None,
            topic: TopicRef::Table(&TOPICS),
            sticky: StickyLimits::default(),
            name: None,
            caller,
        };
        // SAFETY: librdkafka's contract for keydata/keylen.
        strategy.place(unsafe { key(keydata, keylen) }, partition_cnt as u32, &ctx) as i32
    })
}

// The callbacks that may ask librdkafka about partitions are trampolines
// (with_caller!) that hand their return address, which tells which
// librdkafka called them (host.rs), to these bodies.
placed!(placed_murmur2_random, Murmur2Random);
placed!(placed_consistent_random, ConsistentRandom);
placed!(placed_fnv1a_random, Fnv1aRandom);
placed!(placed_jump, Jump);
placed!(placed_random, Random);
placed!(placed_round_robin, RoundRobin);
placed!(placed_sticky, Sticky);
placed!(placed_kafkajs, Kafkajs);
placed!(placed_kafkajs_legacy, KafkajsLegacy);
placed!(placed_sarama_reference, SaramaReference);
placed!(placed_sarama_crc, SaramaCrc);
placed!(placed_kafka_go_hash, KafkaGoHash);
placed!(placed_adaptive, Adaptive);

/// Keyed: `(murmur2(key) & 0x7fffffff) % partition_cnt`; a NULL key hashes
/// as "". Same partition as librdkafka's `murmur2` and the Java client's
/// default partitioner for keyed records. Opaques are ignored.
#[no_mangle]
pub unsafe extern "C" fn rdpart_murmur2(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    unsafe { plain::<{ Strategy::Murmur2 as u8 }>(rkt, keydata, keylen, partition_cnt, 0) }
}

/// As rdpart_murmur2, but a NULL key goes to a random available partition
/// (an empty key still hashes). Like librdkafka's `murmur2_random`.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_murmur2_random(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_murmur2_random)
}

/// `crc32(key) % partition_cnt` (zlib CRC-32); NULL and empty keys go to
/// partition 0. Like librdkafka's `consistent` and Sarama's
/// ConsistentCRCHashPartitioner.
#[no_mangle]
pub unsafe extern "C" fn rdpart_consistent(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    unsafe { plain::<{ Strategy::Consistent as u8 }>(rkt, keydata, keylen, partition_cnt, 0) }
}

/// As rdpart_consistent, but NULL and empty keys go to a random available
/// partition. Like librdkafka's `consistent_random`, its default.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_consistent_random(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_consistent_random)
}

/// `abs(int32 fnv1a(key)) % partition_cnt`; a NULL key hashes as "". Like
/// librdkafka's `fnv1a` and Sarama's default NewHashPartitioner.
#[no_mangle]
pub unsafe extern "C" fn rdpart_fnv1a(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = (rkt_opaque, msg_opaque);
    unsafe { plain::<{ Strategy::Fnv1a as u8 }>(rkt, keydata, keylen, partition_cnt, 0) }
}

/// As rdpart_fnv1a, but a NULL key goes to a random available partition
/// (an empty key still hashes). Like librdkafka's `fnv1a_random`.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_fnv1a_random(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_fnv1a_random)
}

/// Jump consistent hash: `jump(murmur64a(key, 0x9747b28c), partition_cnt)`.
/// Growing a topic from n to n+1 partitions moves only ~1/(n+1) of the
/// keys, all to the new partition. NULL key: random available partition;
/// empty key: hashes as "".
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_jump(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_jump)
}

/// Key ignored: uniform over the partitions that have a leader (all of
/// them when none has, or when rkt is NULL).
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_random(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_random)
}

/// Key ignored: the next partition of the topic's cycle, skipping those
/// without a leader. State is kept per rkt and per calling thread (each
/// thread has its own cycle, so threads never contend); lock-free and safe
/// from any number of threads.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_round_robin(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_round_robin)
}

/// The Java client's default: keyed (and empty-key) messages as
/// rdpart_murmur2; NULL-key messages stick to one partition of the topic
/// for 1000 messages or 10 ms, whichever comes first (or until it loses its
/// leader), then move to another chosen uniformly among the available ones.
/// Each producing thread has its own run per topic. Use
/// rdpart_new() for other limits. librdkafka only passes NULL-key messages
/// to a callback when `sticky.partitioning.linger.ms=0`.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_sticky(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_sticky)
}

/// KafkaJS's DefaultPartitioner (KafkaJS >= 2.0; its
/// JavaCompatiblePartitioner in 1.x): keyed and empty keys as
/// rdpart_murmur2; a NULL key goes to the next available partition in turn.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_kafkajs(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_kafkajs)
}

/// KafkaJS's LegacyPartitioner, the KafkaJS 1.x default: keyed and empty
/// keys by KafkaJS's own legacy murmur2, bit for bit (it differs from
/// Kafka's murmur2 for many keys), `& 0x7fffffff`, `% partition_cnt`; a
/// NULL key goes to the next available partition in turn.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_kafkajs_legacy(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_kafkajs_legacy)
}

/// Sarama's NewReferenceHashPartitioner and kafka-go's ReferenceHash:
/// `(fnv1a(key) & 0x7fffffff) % partition_cnt` for keyed and empty keys; a
/// NULL key goes to a random available partition.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_sarama_reference(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_sarama_reference)
}

/// Sarama's NewConsistentCRCHashPartitioner: `crc32(key) % partition_cnt`
/// for keyed and empty keys (an empty key: partition 0); a NULL key goes to
/// a random available partition.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_sarama_crc(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_sarama_crc)
}

/// kafka-go's Hash balancer: keyed and empty keys as rdpart_fnv1a; a NULL
/// key goes to the next available partition in turn.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_kafka_go_hash(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_kafka_go_hash)
}

/// Keyed messages as rdpart_murmur2; NULL keys in sticky runs of 256 KB
/// (or 1000 messages, or 10 ms) on partitions drawn with weights
/// that favour less backlog. Avoiding slow brokers needs acknowledgements,
/// which only the plugin sees: as a plain callback it balances the counts
/// placed, and never leaves a partition out. Opaques are ignored.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_adaptive(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(placed_adaptive)
}

/// A partitioner configuration: which strategy, and its options.
#[allow(non_camel_case_types)]
pub struct rdpart_conf_t(Config);

/// A configured partitioner, with its own per-topic state.
#[allow(non_camel_case_types)]
pub struct rdpart_t {
    /// `MAGIC` while live: a freed object is recognised (often).
    magic: AtomicU64,
    part: Partitioner,
    topics: Topics,
    /// `rd_kafka_message_latency`, for rdpart_delivered() (None: not found).
    latency: Option<LatencyFn>,
}

/// `rd_kafka_message_latency()`.
type LatencyFn = unsafe extern "C" fn(*const rd_kafka_message_t) -> i64;

/// Marks a live rdpart_t.
const MAGIC: u64 = 0x7264_7061_7274_2e32; // "rdpart.2"

impl rdpart_t {
    /// `ptr` (an `rkt_opaque`) as a live partitioner: NULL and misaligned
    /// pointers are not.
    ///
    /// # Safety
    /// `ptr` is NULL or an `rdpart_t *` from rdpart_new() (rdpart_partition's
    /// contract: the application installs it as its opaque).
    unsafe fn from_opaque<'a>(ptr: *const c_void) -> Option<&'a rdpart_t> {
        if ptr.is_null() || !(ptr as usize).is_multiple_of(std::mem::align_of::<rdpart_t>()) {
            return None;
        }
        // SAFETY: the caller's contract.
        let p = unsafe { &*(ptr as *const rdpart_t) };
        (p.magic.load(Relaxed) == MAGIC).then_some(p)
    }
}

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
///   backlog (default true).
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

/// A partitioner configured by `conf` (NULL: the defaults). `conf` stays
/// the caller's: it is copied, and may be destroyed or reused at once.
/// Install it with
///
///     rd_kafka_topic_conf_set_partitioner_cb(tconf, rdpart_partition);
///     rd_kafka_topic_conf_set_opaque(tconf, part);
///
/// and free it with rdpart_destroy() after every producer using it is
/// destroyed. Returns NULL, with a message in `errstr`, on failure.
#[no_mangle]
pub unsafe extern "C" fn rdpart_new(
    conf: *const rdpart_conf_t,
    errstr: *mut c_char,
    errstr_size: usize,
) -> *mut rdpart_t {
    let made = boundary(Err("rdpart_new: internal error".to_string()), || {
        // SAFETY: conf is NULL or from rdpart_conf_new().
        let c = unsafe { conf.as_ref() }.map_or_else(Config::default, |c| c.0.clone());
        let name = if c.topics.is_empty() {
            None
        } else {
            Some(crate::host::global_topic_name().ok_or(
                "rdpart_new: topic.strategy needs librdkafka's rd_kafka_topic_name, which is \
                 not in the global scope: link the program with librdkafka (with -rdynamic \
                 when it is linked statically)",
            )?)
        };
        Ok(Box::into_raw(Box::new(rdpart_t {
            magic: AtomicU64::new(MAGIC),
            // The topic name function is the caller's librdkafka's, found
            // per placement (host.rs): `name` only checks one exists.
            part: Partitioner::new(c, None, name.and(None)),
            topics: Topics::new(),
            // SAFETY: that librdkafka function has this signature.
            latency: crate::host::global_symbol(c"rd_kafka_message_latency")
                .map(|p| unsafe { std::mem::transmute::<*mut c_void, LatencyFn>(p) }),
        })))
    });
    made.unwrap_or_else(|msg| {
        // SAFETY: the caller's errstr contract.
        unsafe { write_errstr(errstr, errstr_size, &msg) };
        std::ptr::null_mut()
    })
}

/// The partitioner callback for rdpart_new() objects: `rkt_opaque` is the
/// `rdpart_t *`. A NULL or foreign `rkt_opaque` places as the default
/// configuration (sticky) would. Same contract as the other callbacks.
#[no_mangle]
#[unsafe(naked)]
pub unsafe extern "C" fn rdpart_partition(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    with_caller!(partition_placed)
}

/// rdpart_partition's body (see with_caller!).
unsafe extern "C" fn partition_placed(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    _msg_opaque: *mut c_void,
    caller: usize,
) -> i32 {
    if partition_cnt < 1 {
        return PARTITION_UA;
    }
    boundary(PARTITION_UA, || {
        // SAFETY: rkt_opaque is NULL or the user's pointer; from_opaque checks it.
        match unsafe { rdpart_t::from_opaque(rkt_opaque) } {
            // SAFETY: librdkafka's contract for keydata/keylen.
            Some(p) => p.part.place(
                rkt,
                TopicRef::Table(&p.topics),
                unsafe { key(keydata, keylen) },
                partition_cnt as u32,
                caller,
            ) as i32,
            None => unsafe {
                plain::<{ Strategy::Sticky as u8 }>(rkt, keydata, keylen, partition_cnt, caller)
            },
        }
    })
}

/// Frees a partitioner from rdpart_new(). NULL is ignored. No producer may
/// still use it. Freeing the same partitioner twice is undefined behaviour
/// (as for free()).
#[no_mangle]
pub unsafe extern "C" fn rdpart_destroy(part: *mut rdpart_t) {
    boundary((), || {
        if !part.is_null() {
            // SAFETY: part came from rdpart_new().
            let b = unsafe { Box::from_raw(part) };
            b.magic.store(0, Relaxed);
        }
    })
}

/// Hands rdpart the `rd_kafka_topic_partition_available` function of the
/// librdkafka the application uses, for the callbacks above and for
/// rdpart_new() partitioners:
///
///     rdpart_set_available(rd_kafka_topic_partition_available);
///
/// Without it, rdpart uses the one in the global scope when librdpart was
/// loaded (a program linked with both libraries needs nothing), and treats
/// every partition as available when there was none (saying so once on
/// stderr). Call it before producing: when librdkafka is linked statically,
/// or when several copies of librdkafka are in the process. NULL: back to
/// the one found at load. The plugin needs none of this: it binds to the
/// librdkafka that loaded it.
#[no_mangle]
pub extern "C" fn rdpart_set_available(
    available: Option<unsafe extern "C" fn(rkt: *const rd_kafka_topic_t, partition: i32) -> c_int>,
) {
    let f: Option<AvailableFn> = available;
    crate::host::set_available(f);
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

/// Messages placed by `adaptive` and not acknowledged yet: by `part`
/// (those not yet reported with rdpart_delivered()), or with `part` NULL,
/// by the plugin's producers in this process (every topic; messages sent
/// to a partition the application chose count when the partitioner has
/// been told of that partition). 0 once every such message was
/// acknowledged, as after rd_kafka_flush(). For tests and monitoring.
#[no_mangle]
pub unsafe extern "C" fn rdpart_in_flight(part: *const rdpart_t) -> i64 {
    boundary(0, || {
        if part.is_null() {
            return crate::plugin::adaptive_in_flight();
        }
        // SAFETY: part is NULL (handled) or from rdpart_new().
        match unsafe { rdpart_t::from_opaque(part as *const c_void) } {
            Some(p) => p
                .topics
                .sum(|t| t.load_if_any().map_or(0, |l| l.in_flight())),
            None => 0,
        }
    })
}

/// Reports a delivery report to an rdpart_new() partitioner, so that its
/// `adaptive` placement learns what the plugin learns by itself: the
/// backlog of each partition and how fast its broker acknowledges. Call it
/// from the delivery report callback for every message `part` placed
/// (produced with RD_KAFKA_PARTITION_UA), delivered or not:
///
///     static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
///             rdpart_delivered(part, m);
///             ...
///     }
///
/// It never blocks; NULL arguments and messages of topics `part` never
/// placed are ignored. Without these reports, adaptive only balances what
/// it places and never leaves a slow broker out.
#[no_mangle]
pub unsafe extern "C" fn rdpart_delivered(part: *const rdpart_t, msg: *const rd_kafka_message_t) {
    boundary((), || {
        // SAFETY: part is NULL or from rdpart_new(); msg NULL or librdkafka's.
        let (Some(p), Some(m)) = (
            unsafe { rdpart_t::from_opaque(part as *const c_void) },
            unsafe { msg.as_ref() },
        ) else {
            return;
        };
        if m.rkt.is_null() || m.partition < 0 {
            return;
        }
        let Some(load) = p.topics.get(m.rkt as usize).and_then(|t| t.load_if_any()) else {
            return;
        };
        load.note_size(m.len.saturating_add(m.key_len).min(u32::MAX as usize) as u32);
        let latency = || {
            // SAFETY: librdkafka's function and message.
            p.latency
                .and_then(|f| u64::try_from(unsafe { f(msg) }).ok())
        };
        let delivered = m.err == 0;
        // Clamped: the application may report messages rdpart did not
        // place (explicit partitions), which must not count.
        load.acknowledged(
            m.partition as u32,
            delivered.then_some(&latency as &dyn Fn() -> Option<u64>),
            true,
        );
    })
}

/// rdpart's version, e.g. "0.1.0" (a static string).
#[no_mangle]
pub extern "C" fn rdpart_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}
