//! The plugin's interceptors, in the order librdkafka calls them:
//!
//! - `on_conf_set` (every global property set after the plugin loaded):
//!   claims rdpart's properties (properties.rs);
//! - `on_new` (in rd_kafka_new(), with the producer's final conf): makes
//!   sure the default topic conf still uses rdpart (an application may have
//!   replaced it with rd_kafka_conf_set_default_topic_conf()), logs that
//!   rdpart is active when `debug` asks for it, and adds the two below;
//! - `on_send` (in the producing thread, for every message, before it is
//!   partitioned): registers the message's topic for this producer, which
//!   is how the partitioner finds its configuration without the topic
//!   opaque (the application's);
//! - `on_acknowledgement` (broker threads, once per message): one call per
//!   concern: the counts rdpart_stats() reports, what placement learns
//!   (a delivered message's partition has a leader; adaptive's backlog and
//!   latency: `strategy::acknowledged`), whether the partition's leader
//!   moved, and what the log is told (keys turned hot, messages the
//!   application's partitioner did not place, a topic whose messages never
//!   reach rdpart's partitioner);
//! - `on_request_sent`, `on_response_received` (broker threads, every
//!   request): each broker's round trips, for adaptive;
//! - `on_broker_state_change` (broker threads): a broker down or up again,
//!   for adaptive;
//! - `on_destroy` (rd_kafka_destroy(), librdkafka's main thread): stops
//!   the leader thread (leaders.rs);
//! - `on_conf_destroy`: frees the instance and its topics.

use super::instance::Instance;
use super::log;
use super::partition::plugin_partition;
use crate::boundary::{boundary, c_string, write_errstr};
use crate::config::SetError;
use crate::registry::{ProducerTopic, TopicStats, PRODUCERS};
use crate::strategy::Report;
use crate::sys::*;
use std::ffi::{c_char, c_void, CStr};
use std::sync::atomic::Ordering::{Relaxed, Release};

pub unsafe extern "C" fn on_conf_set(
    _conf: *mut rd_kafka_conf_t,
    name: *const c_char,
    val: *const c_char,
    errstr: *mut c_char,
    errstr_size: usize,
    ic_opaque: *mut c_void,
) -> rd_kafka_conf_res_t {
    boundary(RD_KAFKA_CONF_UNKNOWN, || {
        // SAFETY: our own opaque, live while its conf is.
        let Some(inst) = (unsafe { Instance::from_opaque(ic_opaque) }) else {
            return RD_KAFKA_CONF_UNKNOWN;
        };
        if name.is_null() {
            return RD_KAFKA_CONF_UNKNOWN;
        }
        // SAFETY: librdkafka passes a C string.
        let name = unsafe { CStr::from_ptr(name) };
        let Ok(name) = name.to_str() else {
            return RD_KAFKA_CONF_UNKNOWN;
        };
        // SAFETY: NULL or librdkafka's C string; taken as bytes (a
        // delimiter may be any bytes).
        let value = (!val.is_null()).then(|| unsafe { CStr::from_ptr(val) }.to_bytes());
        if let Some(r) = inst.custom.claim(name, value) {
            return match r {
                Ok(()) => RD_KAFKA_CONF_OK,
                Err(m) => {
                    // SAFETY: librdkafka's errstr buffer.
                    unsafe { write_errstr(errstr, errstr_size, &m) };
                    RD_KAFKA_CONF_INVALID
                }
            };
        }
        let mut config = inst.config().clone();
        match super::properties::claim(&mut config, name, value) {
            Ok(false) => RD_KAFKA_CONF_UNKNOWN,
            Ok(true) if inst.frozen() => {
                // A producer was made from this conf (rd_kafka_new failed
                // after on_new, and the conf is set again): rdpart's
                // properties froze with it.
                // SAFETY: librdkafka's errstr buffer.
                unsafe {
                    write_errstr(
                        errstr,
                        errstr_size,
                        "rdpart: a producer was already made from this configuration, which \
                         froze rdpart's properties: make a new configuration to change them",
                    )
                };
                RD_KAFKA_CONF_INVALID
            }
            Ok(true) => match inst.check_racks(&config) {
                Ok(()) => {
                    *inst.config() = config;
                    RD_KAFKA_CONF_OK
                }
                Err(m) => {
                    // SAFETY: librdkafka's errstr buffer.
                    unsafe { write_errstr(errstr, errstr_size, &m) };
                    RD_KAFKA_CONF_INVALID
                }
            },
            Err(SetError::Invalid(m) | SetError::Unknown(m)) => {
                // SAFETY: librdkafka's errstr buffer.
                unsafe { write_errstr(errstr, errstr_size, &m) };
                RD_KAFKA_CONF_INVALID
            }
        }
    })
}

pub unsafe extern "C" fn on_conf_destroy(ic_opaque: *mut c_void) -> rd_kafka_resp_err_t {
    boundary(ERR_NO_ERROR, || {
        if !ic_opaque.is_null() {
            // Called when the conf is destroyed: for a producer's own conf,
            // at the very end of rd_kafka_destroy(), when no thread of it
            // can place a message any more.
            PRODUCERS.remove_owned(ic_opaque as usize);
            // SAFETY: the Box made in conf_init; librdkafka calls this once per conf.
            let inst = unsafe { Box::from_raw(ic_opaque as *mut Instance) };
            inst.log.unbind();
            // The application's partitioner's close(), on the thread that
            // destroys the producer, its threads ended.
            inst.custom.closed();
        }
        ERR_NO_ERROR
    })
}

pub unsafe extern "C" fn on_new(
    rk: *mut rd_kafka_t,
    conf: *const rd_kafka_conf_t,
    ic_opaque: *mut c_void,
    _errstr: *mut c_char,
    _errstr_size: usize,
) -> rd_kafka_resp_err_t {
    boundary(ERR_NO_ERROR, || {
        // SAFETY: our own opaque, live while its conf is.
        let Some(inst) = (unsafe { Instance::from_opaque(ic_opaque) }) else {
            return ERR_NO_ERROR;
        };
        if rk.is_null() || conf.is_null() {
            return ERR_NO_ERROR;
        }
        let api = &inst.api;
        // The configuration is frozen from here on.
        let _ = inst.part();
        inst.custom.made();
        // CPython's C API, if this is a Python process: looked up here, not
        // when a first message waits (leaders.rs, custom.rs).
        super::python::python();
        // The producer's log: its log_cb, log_level and log.queue. With a
        // queued log, rdpart's relay becomes the log_cb (log.rs); no
        // thread of the producer runs yet.
        let app_cb = super::api::parse_pointer(api.get(conf, c"log_cb").as_deref());
        // librdkafka logs at LOG_DEBUG whenever a debug context is set.
        let debugging = api
            .get(conf, c"debug")
            .is_some_and(|d| !d.trim().is_empty());
        let level = if debugging {
            log::DEBUG
        } else {
            api.get(conf, c"log_level")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(6)
        };
        let queued = api.get(conf, c"log.queue").as_deref() == Some("true");
        if inst.log.bind(rk, app_cb, level, queued, api.set_log_level) {
            // SAFETY: the producer's own conf (librdkafka passes
            // &rk->rk_conf), before any of its threads exists.
            unsafe { (api.set_log_cb)(conf as *mut rd_kafka_conf_t, super::log::relay) };
        }
        // The application may have replaced rdpart's default topic conf
        // since the plugin loaded.
        let conf_mut = conf as *mut rd_kafka_conf_t;
        // SAFETY: the producer's own conf, before any topic exists
        // (librdkafka copies the default per topic).
        let checked = unsafe { inst.check_default_topic_conf(conf_mut) };
        match checked {
            // SAFETY: as above.
            Ok(()) => unsafe { inst.install_partitioner(conf_mut) },
            Err(m) => {
                inst.foreign_default.store(true, Release);
                inst.log(log::WARNING, &m)
            }
        }
        // SAFETY: a producer being created, our callbacks and opaque.
        unsafe {
            (api.add_on_send)(rk, log::CARRIER.as_ptr(), on_send, ic_opaque);
            (api.add_on_acknowledgement)(rk, c"rdpart".as_ptr(), on_acknowledgement, ic_opaque);
        }
        // SAFETY: the producer being created and our opaque.
        unsafe { inst.watch_leaders(rk, conf, ic_opaque) };
        // adaptive: the brokers' round trips, before any message.
        // SAFETY: as above, with our callbacks.
        unsafe {
            if let Some(add) = api.add_on_request_sent {
                add(rk, c"rdpart".as_ptr(), on_request_sent, ic_opaque);
            }
            if let Some(add) = api.add_on_response_received {
                add(rk, c"rdpart".as_ptr(), on_response_received, ic_opaque);
            }
            if let Some(add) = api.add_on_broker_state_change {
                add(rk, c"rdpart".as_ptr(), on_broker_state_change, ic_opaque);
            }
        }
        let debug = api.get(conf, c"debug").unwrap_or_default();
        if debug
            .split(',')
            .any(|d| matches!(d.trim(), "plugin" | "all"))
        {
            let c = inst.part().config();
            let mut extra = String::new();
            if !c.topics.is_empty() {
                extra += &format!(", topic.strategy {}", c.topics);
            }
            if !c.delimiter.delimiter().is_empty() {
                let d = String::from_utf8_lossy(c.delimiter.delimiter());
                extra += &format!(", key.delimiter \"{d}\"");
            }
            inst.log.write(
                log::DEBUG,
                &format!(
                    "rdpart: rdpart {} places this producer's messages: strategy {}, \
                     sticky.messages {}, sticky.linger.ms {}{extra}; bound to librdkafka {} ({})",
                    env!("CARGO_PKG_VERSION"),
                    c.strategy.name(),
                    c.run.messages,
                    c.run.linger_ms,
                    api.version_string(),
                    api.path
                ),
                true,
            );
        }
        ERR_NO_ERROR
    })
}

impl Instance {
    /// The thread that learns leaders, and with rdpart.rack.aware=true their
    /// racks (leaders.rs), stopped in on_destroy; rack awareness without
    /// client.rack is an error on the producer's log (on_new cannot fail
    /// rd_kafka_new()).
    ///
    /// # Safety
    /// `rk` is the producer being created from `conf`; `ic_opaque` is this
    /// instance.
    unsafe fn watch_leaders(
        &self,
        rk: *mut rd_kafka_t,
        conf: *const rd_kafka_conf_t,
        ic_opaque: *mut c_void,
    ) {
        let Some(lapi) = self.api.leaders else {
            return;
        };
        let rack = if self.part().rack_aware() {
            let rack = self.api.get(conf, c"client.rack").unwrap_or_default();
            match std::ffi::CString::new(rack.trim()) {
                Ok(r) if !r.is_empty() => Some(r),
                _ => {
                    self.log(
                        log::ERR,
                        "rdpart: \"rdpart.rack.aware\" is true but \"client.rack\" is not set: set \
                         client.rack to the client's rack (as the brokers' broker.rack), or \
                         rdpart.rack.aware=false; keyless messages go to every partition",
                    );
                    None
                }
            }
        } else {
            None
        };
        let w = super::leaders::Watcher::new(
            self.api.racks,
            lapi,
            rk,
            ic_opaque as usize,
            self.brokers.clone(),
            rack,
            self.log.clone(),
        );
        if self.leaders.set(w).is_ok() {
            // SAFETY: a producer being created, our callback and opaque.
            unsafe { (lapi.add_on_destroy)(rk, c"rdpart".as_ptr(), on_destroy, ic_opaque) };
        }
    }

    /// Whether topic `t`'s leaders are worth learning: rack awareness, or adaptive.
    fn wants_leaders(&self, t: &crate::strategy::TopicState) -> bool {
        self.part().rack_aware() || self.part().adapts(t)
    }

    /// Err when the default topic conf of `conf` names a partitioner other
    /// than rdpart's (a callback, or a `partitioner` other than the default).
    ///
    /// # Safety
    /// `conf` is a live conf that no other thread uses.
    pub unsafe fn check_default_topic_conf(
        &self,
        conf: *mut rd_kafka_conf_t,
    ) -> Result<(), String> {
        let api = &self.api;
        // SAFETY: the caller's contract.
        let tconf = unsafe { (api.get_default_topic_conf)(conf) };
        if tconf.is_null() {
            return Ok(());
        }
        let cb = super::api::parse_pointer(api.topic_get(tconf, c"partitioner_cb").as_deref());
        if cb != 0 && cb != plugin_partition as *const () as usize {
            return Err(
                "rdpart: the default topic configuration has a partitioner callback of its own \
                 (rd_kafka_topic_conf_set_partitioner_cb()), which rdpart would replace: remove \
                 it and choose with rdpart.strategy"
                    .into(),
            );
        }
        match api.topic_get(tconf, c"partitioner").as_deref() {
            None | Some("") | Some("consistent_random") => Ok(()),
            Some(named) => Err(format!(
                "rdpart: the default topic configuration sets partitioner={named}, which rdpart \
                 would replace: remove it, or set partitioner=consistent_random (librdkafka's \
                 default) where a wrapper sets it for you (kafka-javascript's KafkaJS API \
                 does), and choose with rdpart.strategy"
            )),
        }
    }

    /// Makes rdpart the partitioner of `conf`'s default topic conf,
    /// creating that conf only when there is none.
    ///
    /// # Safety
    /// `conf` is a live conf that no other thread uses.
    pub unsafe fn install_partitioner(&self, conf: *mut rd_kafka_conf_t) {
        let api = &self.api;
        // SAFETY: the caller's contract; a new topic conf is handed to conf.
        unsafe {
            let tconf = (api.get_default_topic_conf)(conf);
            if tconf.is_null() {
                let tconf = (api.topic_conf_new)();
                (api.set_partitioner_cb)(tconf, plugin_partition);
                (api.set_default_topic_conf)(conf, tconf);
            } else {
                (api.set_partitioner_cb)(tconf, plugin_partition);
            }
        }
    }

    /// Whether `conf`'s default topic conf already uses this copy of rdpart.
    ///
    /// # Safety
    /// As above.
    pub unsafe fn installed_here(&self, conf: *mut rd_kafka_conf_t) -> bool {
        let api = &self.api;
        // SAFETY: the caller's contract.
        let tconf = unsafe { (api.get_default_topic_conf)(conf) };
        !tconf.is_null()
            && super::api::parse_pointer(api.topic_get(tconf, c"partitioner_cb").as_deref())
                == plugin_partition as *const () as usize
    }
}

/// The message an on_send/on_acknowledgement interceptor got, when it has
/// a topic and the interceptor its instance.
///
/// # Safety
/// `msg` is NULL or librdkafka's message, valid during the call.
unsafe fn message<'a>(
    msg: *mut rd_kafka_message_t,
    ic_opaque: *mut c_void,
) -> Option<&'a rd_kafka_message_t> {
    // SAFETY: the caller's contract.
    unsafe { msg.as_ref() }.filter(|m| !m.rkt.is_null() && !ic_opaque.is_null())
}

unsafe extern "C" fn on_send(
    rk: *mut rd_kafka_t,
    msg: *mut rd_kafka_message_t,
    ic_opaque: *mut c_void,
) -> rd_kafka_resp_err_t {
    boundary(ERR_NO_ERROR, || {
        // SAFETY: librdkafka's message.
        let Some(m) = (unsafe { message(msg, ic_opaque) }) else {
            return ERR_NO_ERROR;
        };
        // SAFETY: our own opaque, live while its producer is.
        let Some(inst) = (unsafe { Instance::from_opaque(ic_opaque) }) else {
            return ERR_NO_ERROR;
        };
        let (rkt, owner) = (m.rkt as usize, ic_opaque as usize);
        let _ = LAST_SENT.try_with(|c| c.set((owner, rkt)));
        let t = match PRODUCERS.get_owned(rkt, owner) {
            Some(t) => t,
            None => {
                let t = PRODUCERS.insert(rkt, owner);
                // First sight of the topic: resolve its strategy here, in
                // the producing thread, so the partitioner never does.
                if inst.part().has_topic_rules() {
                    inst.part().resolve(rkt, &t.state);
                }
                t.state.view.set_brokers(inst.brokers.clone());
                if let Some(w) = inst.leaders.get().filter(|_| inst.wants_leaders(&t.state)) {
                    // SAFETY: the topic lives while its message does.
                    let name = unsafe { std::ffi::CStr::from_ptr((inst.api.topic_name)(m.rkt)) };
                    // The first message waits for them only when rdpart
                    // places it, and never under produce_batch's topic lock
                    // (which a message with its own partition may be under,
                    // unmarked).
                    // SAFETY: on_send's message.
                    let may_wait =
                        m.partition == PARTITION_UA && !unsafe { super::custom::topic_locked(msg) };
                    // adaptive's probes of the leaders (leaders.rs) serve
                    // the first messages rdpart places: not for a topic
                    // first seen with its own partition (a probe to a
                    // broker not connected yet may wait out librdkafka's
                    // socket timeout, which on_destroy then waits for).
                    let probe = may_wait && inst.part().adapts(&t.state);
                    w.watch(name.to_owned(), rkt, probe, may_wait);
                }
                t
            }
        };
        // What rdpart_stats() reports: made once per topic, then a count.
        let bytes = m.len.saturating_add(m.key_len);
        t.stats(|| {
            // SAFETY: the producer sending this message, and its topic.
            let (producer, topic) = unsafe {
                (
                    c_string((inst.api.name)(rk)),
                    c_string((inst.api.topic_name)(m.rkt)),
                )
            };
            TopicStats::new(producer, topic, inst.part().strategy_of(&t.state).name())
        })
        .sent(bytes);
        // SAFETY: on_send's topic, live for the call.
        unsafe { say_hot_keys(inst, t, m.rkt) };
        if m.partition == PARTITION_UA && !t.ua_seen.load(Relaxed) {
            t.ua_seen.store(true, Relaxed);
        }
        if inst.part().adapts(&t.state) {
            crate::strategy::sending(&t.state, m.partition, m.len.saturating_add(m.key_len));
        }
        if inst.custom.is_set() {
            // SAFETY: on_send's producer and message, live for the call.
            unsafe { super::custom::on_send(&inst.host(), rk, msg, m, t, owner) };
        }
        // Lines waiting for the log queue: this failure carries them (log.rs).
        if inst.log.take_pending() {
            ERR_CARRIER
        } else {
            ERR_NO_ERROR
        }
    })
}

thread_local! {
    /// The (instance, topic) of this thread's last on_send: the topic of an
    /// acknowledgement without one (rd_kafka_produce_batch() unrolls a
    /// failed message's on_send with the application's message, whose rkt
    /// is NULL, in the same thread, right after).
    static LAST_SENT: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// Every message's end (delivered, failed, timed out or purged; a broker
/// thread, or the application's in produce_batch()): one call per concern
/// (the counts rdpart_stats() reports, what placement learns, whether the
/// leader moved, what the log is told).
unsafe extern "C" fn on_acknowledgement(
    _rk: *mut rd_kafka_t,
    msg: *mut rd_kafka_message_t,
    ic_opaque: *mut c_void,
) -> rd_kafka_resp_err_t {
    boundary(ERR_NO_ERROR, || {
        // SAFETY: librdkafka's message.
        let Some(m) = (unsafe { msg.as_ref() }).filter(|_| !ic_opaque.is_null()) else {
            return ERR_NO_ERROR;
        };
        let owner = ic_opaque as usize;
        let rkt = if m.rkt.is_null() {
            match LAST_SENT.try_with(|c| c.get()) {
                Ok((o, rkt)) if o == owner => rkt,
                _ => return ERR_NO_ERROR,
            }
        } else {
            m.rkt as usize
        };
        let Some(t) = PRODUCERS.get_owned(rkt, owner) else {
            return ERR_NO_ERROR;
        };
        // SAFETY: our own opaque, live while its producer is.
        let Some(inst) = (unsafe { Instance::from_opaque(ic_opaque) }) else {
            return ERR_NO_ERROR;
        };
        // SAFETY: librdkafka's function and message, live for this call.
        let latency = || u64::try_from(unsafe { (inst.api.message_latency)(msg) }).ok();
        // A message that failed for a partition the topic does not have
        // (an explicit partition out of range) counts for no partition:
        // what rdpart keeps is bounded by the partitions that exist.
        let partition = if m.err == ERR_UNKNOWN_PARTITION {
            PARTITION_UA
        } else {
            m.partition
        };
        let delivered = m.err == ERR_NO_ERROR;
        // SAFETY: librdkafka's function and message, live for this call.
        let broker = inst.api.broker_id.map_or(-1, |f| unsafe { f(msg) });
        if let Some(st) = t.stats_if_any() {
            st.acknowledged(partition, delivered, m.len.saturating_add(m.key_len));
        }
        crate::strategy::acknowledged(
            &t.state,
            Report {
                partition,
                delivered,
                latency_us: &latency,
                bytes: None,
                broker,
            },
        );
        if m.rkt.is_null() {
            return ERR_NO_ERROR;
        }
        if delivered {
            inst.leader_check(t, m.partition, broker);
        }
        // SAFETY: the message's topic, live for the call.
        unsafe { tell(inst, t, m.rkt, delivered) };
        ERR_NO_ERROR
    })
}

impl Instance {
    /// A message delivered to `partition` by `broker` (-1: not known),
    /// not the leader rdpart knows: the leader moved, so the leader thread
    /// asks again.
    fn leader_check(&self, t: &ProducerTopic, partition: i32, broker: i32) {
        let (Some(w), Some(l), Ok(p)) = (
            self.leaders.get(),
            t.state.view.leaders_if_any(),
            u32::try_from(partition),
        ) else {
            return;
        };
        if broker >= 0 && l.leader(p) != Some(broker) {
            w.refresh();
        }
    }
}

/// What an acknowledgement lets rdpart tell the producer's log: keys that
/// turned hot while librdkafka placed messages parked before the topic's
/// metadata (its thread, no on_send after them), messages the
/// application's partitioner did not place, and (on the first delivery) a
/// topic whose unassigned messages never reached rdpart's partitioner
/// because it has a partitioner of its own.
///
/// # Safety
/// `rkt` is the message's topic, live for the call.
unsafe fn tell(inst: &Instance, t: &ProducerTopic, rkt: *mut rd_kafka_topic_t, delivered: bool) {
    // SAFETY: the caller's contract.
    unsafe { say_hot_keys(inst, t, rkt) };
    if inst.custom.is_set() {
        // SAFETY: as above.
        unsafe { super::custom::say_late(&inst.host(), t, rkt) };
    }
    if delivered
        && t.ua_seen.load(Relaxed)
        && !t.placed.load(Relaxed)
        && !t.warned.swap(true, Relaxed)
    {
        // SAFETY: as above.
        let name = unsafe { c_string((inst.api.topic_name)(rkt)) };
        let msg = if inst.foreign_default.load(Relaxed) {
            format!(
                "rdpart: topic \"{name}\" is not placed by rdpart: the default topic \
                 configuration names another partitioner (see rdpart's earlier message)"
            )
        } else {
            bypassed(&name)
        };
        inst.log(log::WARNING, &msg);
    }
}

/// Says on the producer's log which keys of topic `t` turned hot or cooled
/// since last said (one flag read when none did).
///
/// # Safety
/// `rkt` is the topic's live handle.
unsafe fn say_hot_keys(inst: &Instance, t: &ProducerTopic, rkt: *mut rd_kafka_topic_t) {
    let Some(h) = t.state.hot_keys_if_any() else {
        return;
    };
    for n in h.take_news() {
        let mut line = String::new();
        let _ = n.write(&mut line);
        // SAFETY: the caller's contract.
        let topic = unsafe { c_string((inst.api.topic_name)(rkt)) };
        inst.log(log::NOTICE, &format!("rdpart: topic \"{topic}\": {line}"));
    }
}

/// Every request a broker is sent (its thread): adaptive's round trips.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn on_request_sent(
    _rk: *mut rd_kafka_t,
    _sockfd: std::ffi::c_int,
    _brokername: *const c_char,
    brokerid: i32,
    _api_key: i16,
    _api_version: i16,
    _corr_id: i32,
    _size: usize,
    ic_opaque: *mut c_void,
) -> rd_kafka_resp_err_t {
    boundary(ERR_NO_ERROR, || {
        // SAFETY: our own opaque, live while its producer is.
        if let Some(inst) = unsafe { Instance::from_opaque(ic_opaque) } {
            inst.brokers.request_sent(brokerid);
        }
        ERR_NO_ERROR
    })
}

/// Every response (or failed request), with its round trip in µs.
#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn on_response_received(
    _rk: *mut rd_kafka_t,
    _sockfd: std::ffi::c_int,
    _brokername: *const c_char,
    brokerid: i32,
    _api_key: i16,
    _api_version: i16,
    _corr_id: i32,
    _size: usize,
    rtt: i64,
    err: rd_kafka_resp_err_t,
    ic_opaque: *mut c_void,
) -> rd_kafka_resp_err_t {
    boundary(ERR_NO_ERROR, || {
        // SAFETY: our own opaque, live while its producer is.
        if let Some(inst) = unsafe { Instance::from_opaque(ic_opaque) } {
            // _TRANSPORT (the connection broke: a crashed broker) or
            // _TIMED_OUT: no answer from the broker at all.
            let lost = err == ERR_TRANSPORT || err == ERR_TIMED_OUT;
            inst.brokers.response_received(brokerid, rtt, lost);
        }
        ERR_NO_ERROR
    })
}

/// A broker's connection changed state (its thread): DOWN (closed, or a
/// connection that failed: a crashed broker with nothing in flight) and UP,
/// for adaptive.
unsafe extern "C" fn on_broker_state_change(
    _rk: *mut rd_kafka_t,
    broker_id: i32,
    _secproto: *const c_char,
    _name: *const c_char,
    _port: std::ffi::c_int,
    state: *const c_char,
    ic_opaque: *mut c_void,
) -> rd_kafka_resp_err_t {
    boundary(ERR_NO_ERROR, || {
        // SAFETY: our own opaque, live while its producer is.
        let Some(inst) = (unsafe { Instance::from_opaque(ic_opaque) }) else {
            return ERR_NO_ERROR;
        };
        if state.is_null() {
            return ERR_NO_ERROR;
        }
        // SAFETY: librdkafka's state name, a static C string.
        match unsafe { CStr::from_ptr(state) }.to_bytes() {
            b"DOWN" => inst.brokers.state_changed(broker_id, false),
            b"UP" => inst.brokers.state_changed(broker_id, true),
            _ => {}
        }
        ERR_NO_ERROR
    })
}

/// In rd_kafka_destroy() (librdkafka's main thread, before its broker
/// threads end): stops the leader thread (leaders.rs), so nothing rdpart started
/// outlives the producer's threads.
unsafe extern "C" fn on_destroy(
    _rk: *mut rd_kafka_t,
    ic_opaque: *mut c_void,
) -> rd_kafka_resp_err_t {
    boundary(ERR_NO_ERROR, || {
        // SAFETY: our own opaque, live while its producer is.
        if let Some(w) = unsafe { Instance::from_opaque(ic_opaque) }.and_then(|i| i.leaders.get()) {
            w.stop();
        }
        ERR_NO_ERROR
    })
}

/// The message for a topic whose messages bypass rdpart.
pub fn bypassed(topic: &str) -> String {
    format!(
        "rdpart: topic \"{topic}\" was created with a topic configuration of its own \
         (rd_kafka_topic_new() with a conf, RdKafka::Topic::create() with a tconf, or kcat), \
         so rdpart does not place its messages, and its keyless messages are spread one by \
         one (the plugin turns librdkafka's sticky.partitioning.linger.ms off): create the \
         topic with a NULL conf or with rd_kafka_default_topic_conf_dup(rk)"
    )
}
