//! `rdpart.partitioner.cb`: the application's own partitioner (a C
//! function, or a Python function through the Python package).
//!
//! librdkafka calls a partitioner callback under its own locks, sometimes on
//! its own thread (docs/custom_partitioner.md). So the application's
//! function never runs there: it runs in `on_send`, on the thread that
//! called produce(), before librdkafka takes any lock, and sees the topic,
//! key, value, headers, partition count and available partitions. Its
//! answer waits in a thread-local slot; rdpart's partitioner callback, which
//! librdkafka calls next on the same thread for the same message (same
//! `keydata`, same `msg_opaque`), only picks it up. A message that reaches
//! the partitioner without an answer (placed later on librdkafka's own
//! thread, or from `rd_kafka_produce_batch()`, which holds the topic lock
//! while it calls `on_send`) fails, unless `rdpart.partitioner.fallback`
//! is `strategy`.

#![allow(non_camel_case_types)]

use super::api::Api;
use super::log::{self, Log};
use super::python::{self, Python};
use crate::boundary::{c_string, key, Key};
use crate::clock::now_ms;
use crate::registry::{Failure, Placed, ProducerTopic};
use crate::sys::*;
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering::*};

/// What the application's partitioner uses of its producer's instance
/// (instance.rs): librdkafka's functions, the log, and its own state.
pub struct Host<'a> {
    pub api: &'a Api,
    pub log: &'a Log,
    pub custom: &'a Custom,
}

impl Host<'_> {
    /// Logs `msg` at syslog `level` on the producer's log (log.rs).
    fn log(&self, level: i32, msg: &str) {
        self.log.write(level, msg, false)
    }
}

/// A message header, as the application's partitioner sees it.
#[repr(C)]
pub struct rdpart_header_t {
    /// The header's name (NUL-terminated).
    pub name: *const c_char,
    /// Its value (NULL for a NULL value) and size in bytes.
    pub value: *const c_void,
    pub size: usize,
}

/// A message to place, as the application's partitioner sees it. Every
/// pointer is valid only during the call.
#[repr(C)]
pub struct rdpart_message_t {
    /// The topic's name.
    pub topic: *const c_char,
    /// The key (NULL: no key) and its length.
    pub key: *const c_void,
    pub key_len: usize,
    /// The value (NULL: no value) and its length.
    pub value: *const c_void,
    pub value_len: usize,
    /// The headers, in order (NULL when there are none).
    pub headers: *const rdpart_header_t,
    pub header_cnt: usize,
    /// The topic's partition count (at least 1).
    pub partition_cnt: i32,
    /// The partitions that have a leader now, ascending.
    pub available: *const i32,
    pub available_cnt: usize,
}

/// What the application's partitioner may hand back besides a partition.
#[repr(C)]
pub struct rdpart_placement_t {
    /// With `RDPART_PLACE_KEY`: the routing key (NULL: place as keyless)
    /// and its length. It must outlive the function's return (a buffer of
    /// the thread's, not the stack): rdpart copies it right after.
    pub key: *const c_void,
    pub key_len: usize,
    /// With `RDPART_PLACE_FAIL`: why (a C string that outlives the return,
    /// copied right after; may be NULL), written to the producer's log.
    pub error: *const c_char,
}

/// The application's partitioner: returns a partition in
/// `0..partition_cnt-1`, or `RDPART_PLACE_STRATEGY`, `RDPART_PLACE_KEY` or
/// `RDPART_PLACE_FAIL`. Called on the thread that called produce(), never
/// while librdkafka holds a lock, at most once per message. Set it on the
/// producer's conf after `plugin.library.paths`, as `%p` prints it:
///
///     snprintf(addr, sizeof addr, "%p", (void *)place);
///     rd_kafka_conf_set(conf, "rdpart.partitioner.cb", addr, errstr, size);
///
/// with `rdpart.partitioner.opaque` (its third argument) and
/// `rdpart.partitioner.close.cb` likewise.
pub type rdpart_place_cb =
    unsafe extern "C" fn(*const rdpart_message_t, *mut rdpart_placement_t, *mut c_void) -> i32;

/// Called once when a producer using the partitioner is destroyed, on the
/// thread that destroys it, after librdkafka's threads have ended.
pub type rdpart_close_cb = unsafe extern "C" fn(*mut c_void);

/// Place the message by `rdpart.strategy` (and `rdpart.topic.strategy`).
pub const RDPART_PLACE_STRATEGY: i32 = -1;
/// Place the message by the strategy as if `placement.key` were its key.
pub const RDPART_PLACE_KEY: i32 = -2;
/// Fail the message (produce() returns `_UNKNOWN_PARTITION`).
pub const RDPART_PLACE_FAIL: i32 = -3;

/// `RD_KAFKA_MSG_F_RKT_RDLOCKED`, `_FREE_RKM`, `_ACCOUNT` and `_PRODUCER`:
/// librdkafka's private message flags (rdkafka_msg.h, unchanged since 1.x),
/// read to know whether `on_send` runs under the topic lock.
const F_RKT_RDLOCKED: i32 = 0x100000;
const F_PRODUCER_MESSAGE: i32 = 0x10000 | 0x20000 | 0x40000;

/// The application's partitioner of one plugin instance (its conf).
#[derive(Default)]
pub struct Custom {
    cb: AtomicUsize,
    opaque: AtomicUsize,
    close: AtomicUsize,
    fallback_strategy: AtomicBool,
    /// `rdpart.partitioner.wait.ms` + 1 (0: unset, the default).
    wait_ms: AtomicU32,
    /// A producer was made from the conf: close it in on_conf_destroy.
    made: AtomicBool,
    /// The Python package's bridge (`rdpart.partitioner.python`), 0: none.
    python: AtomicUsize,
}

/// How long the first message of a topic waits for its partition count.
const WAIT_MS: u32 = 5_000;
const WAIT_MAX_MS: u32 = 900_000;
/// After a wait that got no partition count, how long a topic's messages
/// fail at once instead of waiting again.
const RETRY_MS: u32 = 1_000;

/// The properties this module claims (without the `rdpart.` prefix).
pub(crate) const PROPERTIES: [(&str, &str, &str); 6] = [
    ("partitioner.cb", "a function address (%p)", ""),
    (
        "partitioner.python",
        "the Python package's bridge (set by rdpart.config())",
        "",
    ),
    ("partitioner.opaque", "an address (%p)", ""),
    ("partitioner.close.cb", "a function address (%p)", ""),
    ("partitioner.fallback", "fail, strategy", "fail"),
    ("partitioner.wait.ms", "0..900000", "5000"),
];

impl Custom {
    /// Claims `rdpart.partitioner.*`: None when `name` is not one of them.
    pub fn claim(&self, name: &str, value: Option<&[u8]>) -> Option<Result<(), String>> {
        let prop = name.strip_prefix("rdpart.partitioner.")?;
        let v = String::from_utf8_lossy(value.unwrap_or(b""))
            .trim()
            .to_string();
        let pointer = |slot: &AtomicUsize| match parse_address(&v) {
            Some(a) => {
                slot.store(a, Release);
                Ok(())
            }
            None => Err(format!(
                "Invalid value \"{}\" for configuration property \"{name}\": expected an \
                 address as %p prints it (0x...), or empty for none",
                crate::boundary::shorten(&v, 32)
            )),
        };
        Some(match prop {
            "cb" => pointer(&self.cb),
            "opaque" => pointer(&self.opaque),
            "close.cb" => pointer(&self.close),
            "python" => pointer(&self.python),
            "fallback" => match v.as_str() {
                "fail" | "strategy" => {
                    self.fallback_strategy.store(v == "strategy", Relaxed);
                    Ok(())
                }
                _ => Err(format!(
                    "Invalid value \"{}\" for configuration property \"{name}\": expected \
                     fail or strategy",
                    crate::boundary::shorten(&v, 32)
                )),
            },
            "wait.ms" => match v.parse::<u32>() {
                Ok(ms) if ms <= WAIT_MAX_MS => {
                    self.wait_ms.store(ms + 1, Relaxed);
                    Ok(())
                }
                _ => Err(format!(
                    "Invalid value \"{}\" for configuration property \"{name}\": expected \
                     0..{WAIT_MAX_MS}",
                    crate::boundary::shorten(&v, 32)
                )),
            },
            _ => Err(format!(
                "No such configuration property: \"{name}\" (rdpart's partitioner properties: \
                 {})",
                PROPERTIES
                    .iter()
                    .map(|p| format!("rdpart.{}", p.0))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        })
    }

    /// The application's function, if one is set.
    #[inline]
    fn function(&self) -> Option<rdpart_place_cb> {
        let a = self.cb.load(Acquire);
        // SAFETY: an address the application set as rdpart.partitioner.cb,
        // a function of rdpart_place_cb's signature (its contract).
        (a != 0).then(|| unsafe { std::mem::transmute::<usize, rdpart_place_cb>(a) })
    }

    /// Whether the application's function places this producer's messages.
    #[inline]
    pub fn is_set(&self) -> bool {
        self.cb.load(Relaxed) != 0 || self.python.load(Relaxed) != 0
    }

    /// CPython, when the process runs it (found in on_new).
    fn py(&self) -> Option<&'static Python> {
        python::python()
    }

    fn wait_ms(&self) -> u32 {
        match self.wait_ms.load(Relaxed) {
            0 => WAIT_MS,
            ms => ms - 1,
        }
    }

    /// In on_new: a producer is made from the conf.
    pub fn made(&self) {
        if self.is_set() {
            self.made.store(true, Relaxed);
            python::python();
        }
    }

    /// In on_conf_destroy, on the thread that destroys the producer, after
    /// its threads ended: the application's close callback, once.
    pub fn closed(&self) {
        let bridge = self.python.load(Acquire);
        if bridge != 0 && self.made.load(Acquire) {
            if let Some(py) = self.py() {
                // SAFETY: the package's bridge, kept alive by the package.
                unsafe { py.close(bridge) };
            }
        }
        let a = self.close.load(Acquire);
        if a != 0 && self.made.swap(false, AcqRel) {
            // SAFETY: an address the application set as
            // rdpart.partitioner.close.cb, of rdpart_close_cb's signature.
            let close = unsafe { std::mem::transmute::<usize, rdpart_close_cb>(a) };
            // SAFETY: the application's function and its opaque.
            unsafe { close(self.opaque.load(Acquire) as *mut c_void) };
        }
    }
}

/// A `%p` address ("0x7f..."; "" or "(nil)" for none).
fn parse_address(v: &str) -> Option<usize> {
    if v.is_empty() || v == "(nil)" {
        return Some(0);
    }
    let hex = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X"))?;
    usize::from_str_radix(hex, 16).ok()
}

/// Whether on_send runs with the topic's lock held (in
/// `rd_kafka_produce_batch()`), or cannot tell: then nothing may wait or
/// run user code.
///
/// # Safety
/// `msg` is on_send's message: every producer message is a
/// `rd_kafka_msg_t`, whose flags follow the public message and a list link
/// (rdkafka_msg.h).
pub unsafe fn topic_locked(msg: *const rd_kafka_message_t) -> bool {
    // SAFETY: the caller's contract.
    let flags = unsafe {
        *((msg as *const u8)
            .add(std::mem::size_of::<rd_kafka_message_t>() + 2 * std::mem::size_of::<usize>())
            as *const i32)
    };
    flags & F_PRODUCER_MESSAGE != F_PRODUCER_MESSAGE || flags & F_RKT_RDLOCKED != 0
}

/// The answer on_send leaves for the partitioner.
enum Answer {
    Partition(i32),
    Key(Option<Vec<u8>>),
    Strategy,
    /// Failed: counted already (None), or to count when it is placed.
    Failed(Option<Failure>),
}

/// Which message an answer is for: producer, topic, key address, opaque.
type Identity = (usize, usize, usize, usize);

thread_local! {
    static ANSWER: RefCell<Option<(Identity, Answer)>> = const { RefCell::new(None) };
}

fn leave(id: Identity, a: Answer) {
    let _ = ANSWER.try_with(|s| *s.borrow_mut() = Some((id, a)));
}

/// In on_send: asks the application's function where `m` goes, for a
/// message without an explicit partition.
///
/// # Safety
/// `rk`, `m` and `inst` are on_send's, live for the call.
pub unsafe fn on_send(
    inst: &Host,
    rk: *mut rd_kafka_t,
    msg: *mut rd_kafka_message_t,
    m: &rd_kafka_message_t,
    t: &ProducerTopic,
    owner: usize,
) {
    let custom = &inst.custom;
    let (function, bridge) = (custom.function(), custom.python.load(Acquire));
    if function.is_none() && bridge == 0 {
        return;
    }
    if m.partition != PARTITION_UA {
        return;
    }
    let id = (owner, m.rkt as usize, m.key as usize, m._private as usize);
    // SAFETY: the topic lives while its message does.
    let topic = || unsafe { c_string((inst.api.topic_name)(m.rkt)) };
    // rd_kafka_produce_batch() calls on_send with the topic lock held (and
    // says so in the message's flags): no user code, no waiting there.
    // SAFETY: on_send's message.
    if unsafe { topic_locked(msg) } {
        return fail(
            inst,
            t,
            id,
            Failure::Batch,
            &format!(
                "rdpart: topic \"{}\": rd_kafka_produce_batch() (confluent-kafka's \
                 produce_batch()) cannot be used with rdpart.partitioner.cb: librdkafka holds \
                 the topic's lock there, where the application's partitioner must not run; \
                 produce the messages one by one",
                topic()
            ),
        );
    }
    let c = &t.custom;
    let mut count = c.partition_cnt.load(Relaxed);
    if count < 1 {
        let retry_at = c.retry_at.load(Relaxed);
        if retry_at == 0 || now_ms().wrapping_sub(retry_at) as i32 >= 0 {
            // SAFETY: on_send's producer and topic.
            count = unsafe { wait_for_count(inst, rk, m.rkt, custom.wait_ms()) };
            match count {
                n if n >= 1 => {
                    c.partition_cnt.store(n, Relaxed);
                }
                _ => c
                    .retry_at
                    .store(now_ms().wrapping_add(RETRY_MS).max(1), Relaxed),
            }
        }
        if count < 1 {
            // librdkafka places it later, on its own thread, where the
            // partitioner finds no answer: with the fallback, by the
            // strategy; else it fails there, counted then.
            if custom.fallback_strategy.load(Relaxed) {
                return;
            }
            c.no_count.fetch_add(1, Relaxed);
            leave(id, Answer::Failed(Some(Failure::NoCount)));
            return log_failure(
                inst,
                t,
                Failure::NoCount,
                &format!(
                    "rdpart: topic \"{}\": the partition count is not known after waiting {} ms \
                     (rdpart.partitioner.wait.ms): the message is not placed",
                    topic(),
                    custom.wait_ms()
                ),
            );
        }
    }
    // SAFETY: librdkafka's function, called with no lock held.
    let available: Vec<i32> = (0..count)
        .filter(|&p| unsafe { (inst.api.available)(m.rkt, p) } == 1)
        .collect();
    // SAFETY: the message's headers, valid during on_send.
    let headers = unsafe { headers(inst, msg) };
    // SAFETY: the topic lives while its message does.
    let name_ptr = unsafe { (inst.api.topic_name)(m.rkt) };
    // SAFETY: librdkafka's message fields, valid during on_send.
    let (k, v) = unsafe { (key(m.key, m.key_len), key(m.payload, m.len)) };
    let reply = match (bridge, custom.py()) {
        (b, Some(py)) if b != 0 => {
            // C strings and buffers of librdkafka's, valid during on_send.
            let hs = (!headers.is_empty()).then(|| {
                headers
                    .iter()
                    .map(|h| {
                        // SAFETY: as above.
                        unsafe { (CStr::from_ptr(h.name).to_bytes(), key(h.value, h.size)) }
                    })
                    .collect()
            });
            let view = python::Message {
                // SAFETY: as above.
                topic: unsafe { CStr::from_ptr(name_ptr) }.to_bytes(),
                key: k,
                value: v,
                headers: hs,
                partition_cnt: count,
                available: &available,
            };
            // SAFETY: the package's bridge, kept alive by the package.
            match unsafe { py.place(b, &view) } {
                python::Reply::Partition(p) => p.clamp(i32::MIN as i64, i32::MAX as i64) as i32,
                python::Reply::Key(route) => {
                    t.custom.placed(Placed::Key);
                    return leave(id, Answer::Key(Some(route)));
                }
                python::Reply::Failed(why) => {
                    return fail(
                        inst,
                        t,
                        id,
                        Failure::Function,
                        &format!("rdpart: topic \"{}\": {why}", topic()),
                    )
                }
            }
        }
        (b, None) if b != 0 => {
            return fail(
                inst,
                t,
                id,
                Failure::Function,
                &format!(
                    "rdpart: topic \"{}\": rdpart.partitioner.python is set but this process \
                     runs no Python",
                    topic()
                ),
            )
        }
        _ => {
            let Some(function) = function else { return };
            let view = rdpart_message_t {
                topic: name_ptr,
                key: m.key,
                key_len: if m.key.is_null() { 0 } else { m.key_len },
                value: m.payload,
                value_len: if m.payload.is_null() { 0 } else { m.len },
                headers: if headers.is_empty() {
                    std::ptr::null()
                } else {
                    headers.as_ptr()
                },
                header_cnt: headers.len(),
                partition_cnt: count,
                available: available.as_ptr(),
                available_cnt: available.len(),
            };
            let mut out = rdpart_placement_t {
                key: std::ptr::null(),
                key_len: 0,
                error: std::ptr::null(),
            };
            // SAFETY: the application's function (its contract), with a
            // view valid for the call.
            let r =
                unsafe { function(&view, &mut out, custom.opaque.load(Acquire) as *mut c_void) };
            match r {
                RDPART_PLACE_KEY => {
                    t.custom.placed(Placed::Key);
                    // SAFETY: the function's contract: key_len readable bytes.
                    let route = unsafe { key(out.key, out.key_len) }.map(<[u8]>::to_vec);
                    return leave(id, Answer::Key(route));
                }
                RDPART_PLACE_FAIL => {
                    // SAFETY: NULL or the function's C string.
                    let why = unsafe { c_string(out.error) };
                    let why = if why.is_empty() {
                        "the partitioner failed the message".to_string()
                    } else {
                        why
                    };
                    return fail(
                        inst,
                        t,
                        id,
                        Failure::Function,
                        &format!("rdpart: topic \"{}\": {why}", topic()),
                    );
                }
                r => r,
            }
        }
    };
    match reply {
        p if p >= 0 && p < count => {
            t.custom.placed(Placed::Partition);
            leave(id, Answer::Partition(p))
        }
        RDPART_PLACE_STRATEGY => {
            t.custom.placed(Placed::Strategy);
            leave(id, Answer::Strategy)
        }
        p if p >= count => fail(
            inst,
            t,
            id,
            Failure::OutOfRange,
            &format!(
                "rdpart: topic \"{}\": the partitioner returned partition {p}, but the topic \
                 has {count} partitions (0..{}): the message is not placed",
                topic(),
                count - 1
            ),
        ),
        other => fail(
            inst,
            t,
            id,
            Failure::BadReturn,
            &format!(
                "rdpart: topic \"{}\": the partitioner returned {other}, which is neither a \
                 partition nor RDPART_PLACE_STRATEGY (-1), RDPART_PLACE_KEY (-2) or \
                 RDPART_PLACE_FAIL (-3): the message is not placed",
                topic()
            ),
        ),
    }
}

/// Fails the message (its partitioner answer), counts and logs why.
fn fail(inst: &Host, t: &ProducerTopic, id: Identity, why: Failure, line: &str) {
    leave(id, Answer::Failed(None));
    report(inst, t, why, line);
}

/// Counts a failure and logs it.
fn report(inst: &Host, t: &ProducerTopic, why: Failure, line: &str) {
    t.custom.failed(why);
    log_failure(inst, t, why, line);
}

/// Logs a failure at ERR, at most once a second per topic and kind (with
/// how many were not logged meanwhile).
fn log_failure(inst: &Host, t: &ProducerTopic, why: Failure, line: &str) {
    let (logged_at, unlogged) = (
        &t.custom.logged_at[why as usize],
        &t.custom.unlogged[why as usize],
    );
    let now = now_ms();
    let last = logged_at.load(Relaxed);
    if last != 0 && now.wrapping_sub(last) < 1000 {
        unlogged.fetch_add(1, Relaxed);
        return;
    }
    logged_at.store(now.max(1), Relaxed);
    let n = unlogged.swap(0, Relaxed);
    if n > 0 {
        inst.log(
            log::ERR,
            &format!("{line} ({n} more like it since, not logged)"),
        );
    } else {
        inst.log(log::ERR, line);
    }
}

/// Asks the cluster for the topic's partition count: up to `wait_ms`, with
/// Python's GIL released when this thread holds it. 0: not known.
///
/// # Safety
/// on_send's producer and topic.
unsafe fn wait_for_count(
    inst: &Host,
    rk: *mut rd_kafka_t,
    rkt: *mut rd_kafka_topic_t,
    wait_ms: u32,
) -> i32 {
    let Some(api) = inst.api.leaders else {
        return 0;
    };
    let ask = || {
        let mut md: *const rd_kafka_metadata = std::ptr::null();
        // SAFETY: librdkafka's function, with no lock held (on_send in
        // producev), for this producer's topic.
        let err = unsafe { (api.metadata)(rk, 0, rkt, &mut md, wait_ms as i32) };
        if err != ERR_NO_ERROR || md.is_null() {
            return 0;
        }
        // SAFETY: the metadata librdkafka returned, freed below.
        let n = unsafe {
            let md_ref = &*md;
            let topics = if md_ref.topic_cnt > 0 && !md_ref.topics.is_null() {
                std::slice::from_raw_parts(md_ref.topics, md_ref.topic_cnt as usize)
            } else {
                &[]
            };
            topics
                .iter()
                .find(|t| t.err == ERR_NO_ERROR && t.partition_cnt > 0)
                .map_or(0, |t| t.partition_cnt)
        };
        // SAFETY: as above.
        unsafe { (api.metadata_destroy)(md) };
        n
    };
    match inst.custom.py() {
        Some(py) => py.released(ask),
        None => ask(),
    }
}

/// The message's headers, for the application's function.
///
/// # Safety
/// `msg` is on_send's message.
unsafe fn headers(inst: &Host, msg: *mut rd_kafka_message_t) -> Vec<rdpart_header_t> {
    let (Some(get), Some(get_all)) = (inst.api.message_headers, inst.api.header_get_all) else {
        return Vec::new();
    };
    let mut hdrs: *mut c_void = std::ptr::null_mut();
    // SAFETY: librdkafka's functions, for its message.
    if unsafe { get(msg, &mut hdrs) } != ERR_NO_ERROR || hdrs.is_null() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for i in 0.. {
        let mut h = rdpart_header_t {
            name: std::ptr::null(),
            value: std::ptr::null(),
            size: 0,
        };
        // SAFETY: as above; out-pointers to fill.
        if unsafe { get_all(hdrs, i, &mut h.name, &mut h.value, &mut h.size) } != ERR_NO_ERROR {
            break;
        }
        out.push(h);
    }
    out
}

/// In the partitioner: where the application's function placed this
/// message. `place` places a key by the strategy; the answer is a
/// partition, or `partition_cnt` (out of range: librdkafka fails the
/// message with `_UNKNOWN_PARTITION`).
#[allow(clippy::too_many_arguments)]
pub fn partition(
    inst: &Host,
    t: &ProducerTopic,
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    msg_opaque: *mut c_void,
    partition_cnt: i32,
    place: impl FnOnce(Key) -> i32,
) -> i32 {
    let c = &t.custom;
    if c.partition_cnt.load(Relaxed) != partition_cnt {
        c.partition_cnt.store(partition_cnt, Relaxed);
    }
    let id = (t.owner, rkt as usize, keydata as usize, msg_opaque as usize);
    let answer = ANSWER
        .try_with(|s| s.borrow_mut().take())
        .ok()
        .flatten()
        .and_then(|(i, a)| (i == id).then_some(a));
    // SAFETY: librdkafka's contract for keydata/keylen.
    let k = unsafe { key(keydata, keylen) };
    match answer {
        Some(Answer::Partition(p)) if p < partition_cnt => p,
        Some(Answer::Partition(p)) => {
            // Counted here, said from the next interceptor (say_late).
            c.failed(Failure::OutOfRange);
            c.last_out_of_range
                .store((p as u64) << 32 | partition_cnt as u64, Relaxed);
            c.untold_out_of_range.fetch_add(1, Relaxed);
            partition_cnt
        }
        Some(Answer::Key(route)) => place(route.as_deref()),
        Some(Answer::Strategy) => place(k),
        Some(Answer::Failed(None)) => partition_cnt,
        Some(Answer::Failed(Some(why))) => {
            let _ = c
                .no_count
                .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
            c.failed(why);
            partition_cnt
        }
        None if inst.custom.fallback_strategy.load(Relaxed) => {
            c.placed(Placed::Fallback);
            place(k)
        }
        None if c
            .no_count
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
            .is_ok() =>
        {
            // Failed in on_send for want of a partition count (and said so).
            c.failed(Failure::NoCount);
            partition_cnt
        }
        None => {
            // Counted here, said from the next interceptor (say_late).
            c.failed(Failure::Unplaced);
            c.untold_unplaced.fetch_add(1, Relaxed);
            partition_cnt
        }
    }
}

/// Says the failures librdkafka's partitioner counted for topic `t` since
/// last said: from an interceptor (on_send, on_acknowledgement), never
/// from the partitioner, which neither formats nor logs. One flag read
/// each when there are none.
///
/// # Safety
/// `rkt` is the topic's live handle.
pub unsafe fn say_late(inst: &Host, t: &ProducerTopic, rkt: *mut rd_kafka_topic_t) {
    let c = &t.custom;
    let take = |n: &AtomicU64| {
        if n.load(Relaxed) == 0 {
            0
        } else {
            n.swap(0, Relaxed)
        }
    };
    let (out, unplaced) = (take(&c.untold_out_of_range), take(&c.untold_unplaced));
    if out == 0 && unplaced == 0 {
        return;
    }
    // All but one of each kind count as not logged (log_failure says how many).
    for (why, n) in [(Failure::OutOfRange, out), (Failure::Unplaced, unplaced)] {
        if n > 1 {
            c.unlogged[why as usize].fetch_add(n - 1, Relaxed);
        }
    }
    // SAFETY: the caller's contract.
    let name = unsafe { c_string((inst.api.topic_name)(rkt)) };
    if out != 0 {
        let last = c.last_out_of_range.load(Relaxed);
        let (p, n) = (last >> 32, last & u32::MAX as u64);
        log_failure(
            inst,
            t,
            Failure::OutOfRange,
            &format!(
                "rdpart: topic \"{name}\": the partitioner's partition {p} is out of range: \
                 the topic has {n} partitions now"
            ),
        );
    }
    if unplaced != 0 {
        log_failure(
            inst,
            t,
            Failure::Unplaced,
            &format!(
                "rdpart: topic \"{name}\": a message reached librdkafka's partitioner \
                 without the application's partitioner having placed it (librdkafka \
                 placed it later, on its own thread: the partition count was unknown \
                 when it was produced, the topic's metadata expired, or the topic \
                 shrank); it fails with _UNKNOWN_PARTITION (set \
                 rdpart.partitioner.fallback=strategy to place such messages by \
                 rdpart.strategy)"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_are_checked() {
        let c = Custom::default();
        assert!(c.claim("rdpart.strategy", Some(b"x")).is_none());
        assert_eq!(
            c.claim("rdpart.partitioner.cb", Some(b"0x10")),
            Some(Ok(()))
        );
        assert!(c.is_set());
        assert_eq!(c.claim("rdpart.partitioner.cb", Some(b"")), Some(Ok(())));
        assert!(!c.is_set());
        let e = c
            .claim("rdpart.partitioner.cb", Some(b"12"))
            .unwrap()
            .unwrap_err();
        assert!(
            e.contains("rdpart.partitioner.cb") && e.contains("0x"),
            "{e}"
        );
        let e = c
            .claim("rdpart.partitioner.fallback", Some(b"x"))
            .unwrap()
            .unwrap_err();
        assert!(e.contains("fail or strategy"), "{e}");
        assert_eq!(c.wait_ms(), WAIT_MS);
        assert_eq!(
            c.claim("rdpart.partitioner.wait.ms", Some(b"0")),
            Some(Ok(()))
        );
        assert_eq!(c.wait_ms(), 0);
        let e = c
            .claim("rdpart.partitioner.wait.ms", Some(b"900001"))
            .unwrap()
            .unwrap_err();
        assert!(e.contains("0..900000"), "{e}");
        let e = c
            .claim("rdpart.partitioner.nope", Some(b"1"))
            .unwrap()
            .unwrap_err();
        assert!(e.contains("rdpart.partitioner.fallback"), "{e}");
    }

    #[test]
    fn message_flags_follow_the_public_message() {
        // rd_kafka_msg_t: rd_kafka_message_t, a TAILQ_ENTRY (two pointers),
        // then int rkm_flags: 72 + 16 on 64-bit Linux.
        #[cfg(target_pointer_width = "64")]
        assert_eq!(
            std::mem::size_of::<rd_kafka_message_t>() + 2 * std::mem::size_of::<usize>(),
            88
        );
    }
}
