//! Configured partitioners (rdpart.h's third section): `rdpart_new()`
//! objects with their own topic table, the callback that places with one,
//! and what an application reports to them or asks of them.

use super::conf::rdpart_conf_t;
use crate::boundary::{boundary, key, write_errstr};
use crate::config::Config;
use crate::partitioner::Partitioner;
use crate::registry::{place_plain, producers_in_flight};
use crate::strategy::{Ctx, Report, Strategy, TopicRef, TopicState};
use crate::sys::{rd_kafka_message_t, rd_kafka_topic_t, AvailableFn, LatencyFn, PARTITION_UA};
use crate::topics::Topics;
use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A configured partitioner, with its own per-topic state.
#[allow(non_camel_case_types)]
pub struct rdpart_t {
    /// `MAGIC` while live: a freed object is recognised (often).
    magic: AtomicU64,
    part: Partitioner,
    topics: Topics<TopicState>,
    /// `rd_kafka_message_latency`, for rdpart_delivered() (None: not found).
    latency: Option<LatencyFn>,
}

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
        if c.rack_aware {
            return Err(
                "rdpart_new: \"rack.aware\" is true, which needs the producer, to learn \
                        its topics' leaders and their racks: load rdpart as a plugin \
                        (plugin.library.paths=librdpart, rdpart.rack.aware=true, client.rack), \
                        or set rack.aware=false"
                    .to_string(),
            );
        }
        let name = if c.topics.is_empty() {
            None
        } else {
            Some(crate::loader::global_topic_name().ok_or(
                "rdpart_new: topic.strategy needs librdkafka's rd_kafka_topic_name, which is \
                 not in the global scope: link the program with librdkafka (with -rdynamic \
                 when it is linked statically)",
            )?)
        };
        Ok(Box::into_raw(Box::new(rdpart_t {
            magic: AtomicU64::new(MAGIC),
            // Placement asks the process's librdkafka for topic names
            // (loader.rs): `name` only checks that some copy has the function.
            part: Partitioner::new(c, None, name.and(None)),
            topics: Topics::default(),
            // SAFETY: that librdkafka function has this signature.
            latency: crate::loader::global_symbol(c"rd_kafka_message_latency")
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
pub unsafe extern "C" fn rdpart_partition(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    let _ = msg_opaque;
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
            ) as i32,
            // SAFETY: the callback contract, passed on.
            None => unsafe {
                place_plain::<{ Strategy::Sticky as u8 }>(rkt, keydata, keylen, partition_cnt)
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
/// loaded, when the program links that librdkafka (a program linked with
/// both libraries needs nothing), and treats every partition as available
/// when there was none (saying so once on stderr). Call it before producing: when librdkafka is linked statically,
/// or when several copies of librdkafka are in the process. NULL: back to
/// the one found at load. The plugin needs none of this: it binds to the
/// librdkafka that loaded it.
#[no_mangle]
pub extern "C" fn rdpart_set_available(
    available: Option<unsafe extern "C" fn(rkt: *const rd_kafka_topic_t, partition: i32) -> c_int>,
) {
    let f: Option<AvailableFn> = available;
    crate::loader::set_available(f);
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
            return producers_in_flight();
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
        // Found as placement finds it (by name): a value of a destroyed
        // producer's topic at this address is not this topic's.
        let ctx = Ctx::new(m.rkt, TopicRef::Table(&p.topics));
        let Some(t) = ctx.topic_if_any() else {
            return;
        };
        let latency = || {
            // SAFETY: librdkafka's function and message.
            p.latency
                .and_then(|f| u64::try_from(unsafe { f(msg) }).ok())
        };
        crate::strategy::acknowledged(
            t,
            Report {
                partition: m.partition,
                delivered: m.err == 0,
                latency_us: &latency,
                bytes: Some(m.len.saturating_add(m.key_len)),
                broker: -1,
            },
        );
    })
}

/// What rdpart knows of the plugin's producers in this process, as JSON
/// written to `buf` (`size` bytes, always NUL-terminated, cut when it does
/// not fit; NULL with size 0 to ask the length). Returns the length of the
/// whole JSON text, without the NUL, as snprintf() does:
///
///     {"producers":[{"name":"rdkafka#producer-1","topics":[{"topic":"orders",
///      "strategy":"adaptive","sent":1000,"sent_bytes":210000,"in_flight":0,
///      "partitions":[{"partition":0,"delivered":170,"bytes":35700,"failed":0,
///      "in_flight":0,"latency_us":2100,"left_out":false},...],
///      "hot_keys":[{"key":"tenant-7","share":0.3981,"partitions":[0,1,2,3]}]}]}]}
///
/// Per topic: messages (and bytes: key and value) produced, and produced
/// but not acknowledged yet; per partition: messages delivered, their
/// bytes, messages failed, and for `adaptive` its view (placed and not
/// acknowledged, latency, left out); the keys hot now (hot.key.share). A
/// partition appears once it has something to report. Cheap enough to
/// call every second: it walks the topics once, under the lock taken when
/// a topic is first seen, and never blocks a producing thread for longer.
#[no_mangle]
pub unsafe extern "C" fn rdpart_stats(buf: *mut c_char, size: usize) -> usize {
    boundary(0, || {
        let json = crate::registry::stats_json();
        // SAFETY: the caller's buffer contract (NULL or `size` bytes).
        unsafe { write_errstr(buf, size, &json) };
        json.len()
    })
}
