//! librdkafka's types, constants and callback signatures, declared once
//! (from rdkafka.h). rdpart never links librdkafka: these describe what it
//! is handed, and the functions it finds at run time (loader.rs).

#![allow(non_camel_case_types)]

use std::ffi::{c_char, c_int, c_void};

/// Opaque librdkafka topic handle.
#[repr(C)]
pub struct rd_kafka_topic_t {
    _private: [u8; 0],
}

#[repr(C)]
pub struct rd_kafka_conf_t {
    _private: [u8; 0],
}

#[repr(C)]
pub struct rd_kafka_topic_conf_t {
    _private: [u8; 0],
}

#[repr(C)]
pub struct rd_kafka_t {
    _private: [u8; 0],
}

/// `rd_kafka_message_t`, the fields rdpart reads.
#[repr(C)]
pub struct rd_kafka_message_t {
    pub err: rd_kafka_resp_err_t,
    pub rkt: *mut rd_kafka_topic_t,
    pub partition: i32,
    pub payload: *mut c_void,
    pub len: usize,
    pub key: *mut c_void,
    pub key_len: usize,
    pub offset: i64,
    pub _private: *mut c_void,
}

/// `rd_kafka_conf_res_t`.
pub type rd_kafka_conf_res_t = c_int;
pub const RD_KAFKA_CONF_UNKNOWN: rd_kafka_conf_res_t = -2;
pub const RD_KAFKA_CONF_INVALID: rd_kafka_conf_res_t = -1;
pub const RD_KAFKA_CONF_OK: rd_kafka_conf_res_t = 0;

pub type rd_kafka_resp_err_t = c_int;
pub const ERR_NO_ERROR: rd_kafka_resp_err_t = 0;
pub const ERR_INVALID_ARG: rd_kafka_resp_err_t = -186;
pub const ERR_CONFLICT: rd_kafka_resp_err_t = -173;
/// RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__TIMED_OUT.
pub const ERR_TRANSPORT: rd_kafka_resp_err_t = -195;
pub const ERR_TIMED_OUT: rd_kafka_resp_err_t = -185;
/// RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION.
pub const ERR_UNKNOWN_PARTITION: rd_kafka_resp_err_t = -190;
/// RD_KAFKA_RESP_ERR__INTR: what an on_send that carries queued log lines
/// returns (plugin/log.rs); librdkafka only logs it.
pub const ERR_CARRIER: rd_kafka_resp_err_t = -141;

/// RD_KAFKA_PARTITION_UA.
pub const PARTITION_UA: i32 = -1;

/// `rd_kafka_topic_partition_available()`.
pub type AvailableFn = unsafe extern "C" fn(*const rd_kafka_topic_t, i32) -> c_int;
/// `rd_kafka_topic_name()`.
pub type NameFn = unsafe extern "C" fn(*const rd_kafka_topic_t) -> *const c_char;
/// `rd_kafka_message_latency()`.
pub type LatencyFn = unsafe extern "C" fn(*const rd_kafka_message_t) -> i64;

pub type PartitionerCb = unsafe extern "C" fn(
    *const rd_kafka_topic_t,
    *const c_void,
    usize,
    i32,
    *mut c_void,
    *mut c_void,
) -> i32;
pub type OnConfSet = unsafe extern "C" fn(
    *mut rd_kafka_conf_t,
    *const c_char,
    *const c_char,
    *mut c_char,
    usize,
    *mut c_void,
) -> rd_kafka_conf_res_t;
pub type OnConfDestroy = unsafe extern "C" fn(*mut c_void) -> rd_kafka_resp_err_t;
pub type OnNew = unsafe extern "C" fn(
    *mut rd_kafka_t,
    *const rd_kafka_conf_t,
    *mut c_void,
    *mut c_char,
    usize,
) -> rd_kafka_resp_err_t;
pub type OnMessage = unsafe extern "C" fn(
    *mut rd_kafka_t,
    *mut rd_kafka_message_t,
    *mut c_void,
) -> rd_kafka_resp_err_t;
pub type LogCb = unsafe extern "C" fn(*const rd_kafka_t, c_int, *const c_char, *const c_char);

/// `rd_kafka_set_log_level`.
pub type SetLogLevelFn = unsafe extern "C" fn(*mut rd_kafka_t, c_int);

/// `struct rd_kafka_metadata_partition` (rdkafka.h, unchanged since 0.8).
#[repr(C)]
pub struct rd_kafka_metadata_partition {
    pub id: i32,
    pub err: rd_kafka_resp_err_t,
    pub leader: i32,
    pub replica_cnt: c_int,
    pub replicas: *mut i32,
    pub isr_cnt: c_int,
    pub isrs: *mut i32,
}

/// `struct rd_kafka_metadata_topic`.
#[repr(C)]
pub struct rd_kafka_metadata_topic {
    pub topic: *mut c_char,
    pub partition_cnt: c_int,
    pub partitions: *mut rd_kafka_metadata_partition,
    pub err: rd_kafka_resp_err_t,
}

/// `struct rd_kafka_metadata` (its brokers are not read).
#[repr(C)]
pub struct rd_kafka_metadata {
    pub broker_cnt: c_int,
    pub brokers: *mut c_void,
    pub topic_cnt: c_int,
    pub topics: *mut rd_kafka_metadata_topic,
    pub orig_broker_id: i32,
    pub orig_broker_name: *mut c_char,
}
