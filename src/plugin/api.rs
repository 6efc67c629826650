//! The librdkafka functions the plugin calls, taken from the copy that
//! loaded it, each checked to be defined in that very object.

use crate::boundary::c_string;
use crate::loader::{Library, AVAILABLE};
use crate::sys::*;
use std::ffi::{c_char, c_int, c_void, CStr};

pub struct Api {
    pub conf_set: unsafe extern "C" fn(
        *mut rd_kafka_conf_t,
        *const c_char,
        *const c_char,
        *mut c_char,
        usize,
    ) -> rd_kafka_conf_res_t,
    pub conf_get: unsafe extern "C" fn(
        *const rd_kafka_conf_t,
        *const c_char,
        *mut c_char,
        *mut usize,
    ) -> rd_kafka_conf_res_t,
    pub topic_conf_get: unsafe extern "C" fn(
        *const rd_kafka_topic_conf_t,
        *const c_char,
        *mut c_char,
        *mut usize,
    ) -> rd_kafka_conf_res_t,
    pub get_default_topic_conf:
        unsafe extern "C" fn(*mut rd_kafka_conf_t) -> *mut rd_kafka_topic_conf_t,
    pub topic_conf_new: unsafe extern "C" fn() -> *mut rd_kafka_topic_conf_t,
    pub set_default_topic_conf:
        unsafe extern "C" fn(*mut rd_kafka_conf_t, *mut rd_kafka_topic_conf_t),
    pub set_partitioner_cb: unsafe extern "C" fn(*mut rd_kafka_topic_conf_t, PartitionerCb),
    pub set_log_cb: unsafe extern "C" fn(*mut rd_kafka_conf_t, LogCb),
    pub add_on_conf_set: unsafe extern "C" fn(
        *mut rd_kafka_conf_t,
        *const c_char,
        OnConfSet,
        *mut c_void,
    ) -> rd_kafka_resp_err_t,
    pub add_on_conf_destroy: unsafe extern "C" fn(
        *mut rd_kafka_conf_t,
        *const c_char,
        OnConfDestroy,
        *mut c_void,
    ) -> rd_kafka_resp_err_t,
    pub add_on_new: unsafe extern "C" fn(
        *mut rd_kafka_conf_t,
        *const c_char,
        OnNew,
        *mut c_void,
    ) -> rd_kafka_resp_err_t,
    pub add_on_send: unsafe extern "C" fn(
        *mut rd_kafka_t,
        *const c_char,
        OnMessage,
        *mut c_void,
    ) -> rd_kafka_resp_err_t,
    pub add_on_acknowledgement: unsafe extern "C" fn(
        *mut rd_kafka_t,
        *const c_char,
        OnMessage,
        *mut c_void,
    ) -> rd_kafka_resp_err_t,
    pub topic_name: unsafe extern "C" fn(*const rd_kafka_topic_t) -> *const c_char,
    pub name: unsafe extern "C" fn(*const rd_kafka_t) -> *const c_char,
    pub message_latency: unsafe extern "C" fn(*const rd_kafka_message_t) -> i64,
    pub version: unsafe extern "C" fn() -> c_int,
    pub version_str: unsafe extern "C" fn() -> *const c_char,
    pub available: AvailableFn,
    /// What rack awareness needs (None: librdkafka before 2.3.0).
    pub racks: Option<RackApi>,
    /// What learning leaders needs (every supported librdkafka has it).
    pub leaders: Option<LeaderApi>,
    /// `rd_kafka_message_broker_id` (None: an older librdkafka).
    pub broker_id: Option<unsafe extern "C" fn(*const rd_kafka_message_t) -> i32>,
    /// `rd_kafka_set_log_level` (log.rs: the carrier of a queued line).
    pub set_log_level: Option<SetLogLevelFn>,
    pub add_on_request_sent: Option<
        unsafe extern "C" fn(
            *mut rd_kafka_t,
            *const c_char,
            OnRequestSent,
            *mut c_void,
        ) -> rd_kafka_resp_err_t,
    >,
    pub add_on_response_received: Option<
        unsafe extern "C" fn(
            *mut rd_kafka_t,
            *const c_char,
            OnResponseReceived,
            *mut c_void,
        ) -> rd_kafka_resp_err_t,
    >,
    pub add_on_broker_state_change: Option<
        unsafe extern "C" fn(
            *mut rd_kafka_t,
            *const c_char,
            OnBrokerStateChange,
            *mut c_void,
        ) -> rd_kafka_resp_err_t,
    >,
    /// `rd_kafka_message_headers`, `rd_kafka_header_get_all`.
    pub message_headers: Option<
        unsafe extern "C" fn(*const rd_kafka_message_t, *mut *mut c_void) -> rd_kafka_resp_err_t,
    >,
    pub header_get_all: Option<
        unsafe extern "C" fn(
            *const c_void,
            usize,
            *mut *const c_char,
            *mut *const c_void,
            *mut usize,
        ) -> rd_kafka_resp_err_t,
    >,
    /// Where this librdkafka is, for messages.
    pub path: String,
}

/// librdkafka's on_request_sent interceptor.
pub type OnRequestSent = unsafe extern "C" fn(
    *mut rd_kafka_t,
    c_int,
    *const c_char,
    i32,
    i16,
    i16,
    i32,
    usize,
    *mut c_void,
) -> rd_kafka_resp_err_t;

/// librdkafka's on_broker_state_change interceptor.
pub type OnBrokerStateChange = unsafe extern "C" fn(
    *mut rd_kafka_t,
    i32,
    *const c_char,
    *const c_char,
    c_int,
    *const c_char,
    *mut c_void,
) -> rd_kafka_resp_err_t;

/// librdkafka's on_response_received interceptor.
pub type OnResponseReceived = unsafe extern "C" fn(
    *mut rd_kafka_t,
    c_int,
    *const c_char,
    i32,
    i16,
    i16,
    i32,
    usize,
    i64,
    rd_kafka_resp_err_t,
    *mut c_void,
) -> rd_kafka_resp_err_t;

impl Api {
    /// The functions of `lib`, which must define them itself.
    pub fn load(lib: &Library) -> Result<Api, String> {
        // SAFETY: each symbol has the signature librdkafka's rdkafka.h
        // declares for it, which is the field's type.
        unsafe {
            Ok(Api {
                conf_set: func(lib, c"rd_kafka_conf_set")?,
                conf_get: func(lib, c"rd_kafka_conf_get")?,
                topic_conf_get: func(lib, c"rd_kafka_topic_conf_get")?,
                get_default_topic_conf: func(lib, c"rd_kafka_conf_get_default_topic_conf")?,
                topic_conf_new: func(lib, c"rd_kafka_topic_conf_new")?,
                set_default_topic_conf: func(lib, c"rd_kafka_conf_set_default_topic_conf")?,
                set_partitioner_cb: func(lib, c"rd_kafka_topic_conf_set_partitioner_cb")?,
                set_log_cb: func(lib, c"rd_kafka_conf_set_log_cb")?,
                add_on_conf_set: func(lib, c"rd_kafka_conf_interceptor_add_on_conf_set")?,
                add_on_conf_destroy: func(lib, c"rd_kafka_conf_interceptor_add_on_conf_destroy")?,
                add_on_new: func(lib, c"rd_kafka_conf_interceptor_add_on_new")?,
                add_on_send: func(lib, c"rd_kafka_interceptor_add_on_send")?,
                add_on_acknowledgement: func(lib, c"rd_kafka_interceptor_add_on_acknowledgement")?,
                topic_name: func(lib, c"rd_kafka_topic_name")?,
                name: func(lib, c"rd_kafka_name")?,
                message_latency: func(lib, c"rd_kafka_message_latency")?,
                version: func(lib, c"rd_kafka_version")?,
                version_str: func(lib, c"rd_kafka_version_str")?,
                available: func(lib, AVAILABLE)?,
                racks: RackApi::load(lib),
                leaders: LeaderApi::load(lib),
                broker_id: func(lib, c"rd_kafka_message_broker_id").ok(),
                set_log_level: func(lib, c"rd_kafka_set_log_level").ok(),
                add_on_request_sent: func(lib, c"rd_kafka_interceptor_add_on_request_sent").ok(),
                add_on_response_received: func(
                    lib,
                    c"rd_kafka_interceptor_add_on_response_received",
                )
                .ok(),
                add_on_broker_state_change: func(
                    lib,
                    c"rd_kafka_interceptor_add_on_broker_state_change",
                )
                .ok(),
                message_headers: func(lib, c"rd_kafka_message_headers").ok(),
                header_get_all: func(lib, c"rd_kafka_header_get_all").ok(),
                path: lib.path().to_string(),
            })
        }
    }

    /// librdkafka's version string, e.g. "2.0.2".
    pub fn version_string(&self) -> String {
        // SAFETY: rd_kafka_version_str returns a static C string.
        unsafe { c_string((self.version_str)()) }
    }

    /// A global property's value as librdkafka prints it (None: unknown or unset).
    pub fn get(&self, conf: *const rd_kafka_conf_t, name: &CStr) -> Option<String> {
        let mut buf = [0 as c_char; 512];
        let mut size = buf.len();
        // SAFETY: a valid conf, a C string, and a buffer of `size` bytes.
        let r = unsafe { (self.conf_get)(conf, name.as_ptr(), buf.as_mut_ptr(), &mut size) };
        // SAFETY: librdkafka NUL-terminates what it wrote.
        (r == RD_KAFKA_CONF_OK).then(|| unsafe { c_string(buf.as_ptr()) })
    }

    /// A topic property's value as librdkafka prints it.
    pub fn topic_get(&self, tconf: *const rd_kafka_topic_conf_t, name: &CStr) -> Option<String> {
        let mut buf = [0 as c_char; 512];
        let mut size = buf.len();
        // SAFETY: as in get().
        let r = unsafe { (self.topic_conf_get)(tconf, name.as_ptr(), buf.as_mut_ptr(), &mut size) };
        // SAFETY: librdkafka NUL-terminates what it wrote.
        (r == RD_KAFKA_CONF_OK).then(|| unsafe { c_string(buf.as_ptr()) })
    }
}

/// A pointer property's value as librdkafka prints it ("%p"), as an
/// address (0 for none).
pub fn parse_pointer(v: Option<&str>) -> usize {
    let Some(v) = v.map(str::trim) else { return 0 };
    let hex = v
        .strip_prefix("0x")
        .or_else(|| v.strip_prefix("0X"))
        .unwrap_or(v);
    usize::from_str_radix(hex, 16).unwrap_or(0)
}

/// The function `name` of `lib` as the function pointer type `F`.
///
/// # Safety
/// `F` must be the function's true signature.
unsafe fn func<F: Copy>(lib: &Library, name: &CStr) -> Result<F, String> {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    let name_s = name.to_string_lossy();
    let p = lib.own_sym(name).ok_or_else(|| {
        // SAFETY: RTLD_DEFAULT lookup of a C string.
        let elsewhere = !unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }.is_null();
        if elsewhere || name_s == "rd_kafka_conf_set" {
            // The fix first: wrappers keep about 255 bytes of this.
            format!(
                "rdpart: link the program with -rdynamic (-Wl,--export-dynamic; Go: \
                 -ldflags=-extldflags=-Wl,--export-dynamic): its librdkafka does not export \
                 its functions ({name_s} is not visible), and rdpart calls only the \
                 librdkafka that loaded it, never another copy ({})",
                lib.path()
            )
        } else {
            format!(
                "rdpart: the librdkafka that loaded this plugin ({}) lacks {name_s} \
                 (rdpart needs librdkafka >= 1.6)",
                lib.path()
            )
        }
    })?;
    // SAFETY: F is a function pointer type (size checked) for this symbol.
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
}

/// What rack awareness calls (plugin/leaders.rs): librdkafka 2.3.0 and later
/// describe a topic's partitions with their leaders' racks.
#[derive(Clone, Copy)]
pub struct RackApi {
    pub queue_new: unsafe extern "C" fn(*mut rd_kafka_t) -> *mut c_void,
    pub queue_destroy: unsafe extern "C" fn(*mut c_void),
    pub queue_poll: unsafe extern "C" fn(*mut c_void, c_int) -> *mut c_void,
    pub event_destroy: unsafe extern "C" fn(*mut c_void),
    pub event_error: unsafe extern "C" fn(*mut c_void) -> rd_kafka_resp_err_t,
    pub event_error_string: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    pub options_new: unsafe extern "C" fn(*mut rd_kafka_t, c_int) -> *mut c_void,
    pub options_set_request_timeout:
        unsafe extern "C" fn(*mut c_void, c_int, *mut c_char, usize) -> rd_kafka_resp_err_t,
    pub options_destroy: unsafe extern "C" fn(*mut c_void),
    pub topic_names: unsafe extern "C" fn(*const *const c_char, usize) -> *mut c_void,
    pub topic_names_destroy: unsafe extern "C" fn(*mut c_void),
    pub describe_topics:
        unsafe extern "C" fn(*mut rd_kafka_t, *const c_void, *const c_void, *mut c_void),
    pub describe_result: unsafe extern "C" fn(*mut c_void) -> *const c_void,
    pub result_topics: unsafe extern "C" fn(*const c_void, *mut usize) -> *const *const c_void,
    pub topic_name: unsafe extern "C" fn(*const c_void) -> *const c_char,
    pub topic_error: unsafe extern "C" fn(*const c_void) -> *const c_void,
    pub error_code: unsafe extern "C" fn(*const c_void) -> rd_kafka_resp_err_t,
    pub topic_partitions: unsafe extern "C" fn(*const c_void, *mut usize) -> *const *const c_void,
    pub partition_id: unsafe extern "C" fn(*const c_void) -> c_int,
    pub partition_leader: unsafe extern "C" fn(*const c_void) -> *const c_void,
    pub node_id: unsafe extern "C" fn(*const c_void) -> c_int,
    pub node_rack: unsafe extern "C" fn(*const c_void) -> *const c_char,
}

/// What learning leaders needs on every librdkafka (plugin/leaders.rs).
#[derive(Clone, Copy)]
pub struct LeaderApi {
    pub metadata: unsafe extern "C" fn(
        *mut rd_kafka_t,
        c_int,
        *mut rd_kafka_topic_t,
        *mut *const rd_kafka_metadata,
        c_int,
    ) -> rd_kafka_resp_err_t,
    pub metadata_destroy: unsafe extern "C" fn(*const rd_kafka_metadata),
    pub query_watermark_offsets: unsafe extern "C" fn(
        *mut rd_kafka_t,
        *const c_char,
        i32,
        *mut i64,
        *mut i64,
        c_int,
    ) -> rd_kafka_resp_err_t,
    pub add_on_destroy: unsafe extern "C" fn(
        *mut rd_kafka_t,
        *const c_char,
        unsafe extern "C" fn(*mut rd_kafka_t, *mut c_void) -> rd_kafka_resp_err_t,
        *mut c_void,
    ) -> rd_kafka_resp_err_t,
}

impl LeaderApi {
    pub fn load(lib: &Library) -> Option<LeaderApi> {
        // SAFETY: as in RackApi::load.
        unsafe {
            Some(LeaderApi {
                metadata: func(lib, c"rd_kafka_metadata").ok()?,
                metadata_destroy: func(lib, c"rd_kafka_metadata_destroy").ok()?,
                query_watermark_offsets: func(lib, c"rd_kafka_query_watermark_offsets").ok()?,
                add_on_destroy: func(lib, c"rd_kafka_interceptor_add_on_destroy").ok()?,
            })
        }
    }
}

impl RackApi {
    /// The functions of `lib`, None when it lacks one (before 2.3.0).
    pub fn load(lib: &Library) -> Option<RackApi> {
        // SAFETY: each symbol has the signature librdkafka's rdkafka.h
        // declares for it (opaque types as c_void), which is the field's type.
        unsafe {
            Some(RackApi {
                queue_new: func(lib, c"rd_kafka_queue_new").ok()?,
                queue_destroy: func(lib, c"rd_kafka_queue_destroy").ok()?,
                queue_poll: func(lib, c"rd_kafka_queue_poll").ok()?,
                event_destroy: func(lib, c"rd_kafka_event_destroy").ok()?,
                event_error: func(lib, c"rd_kafka_event_error").ok()?,
                event_error_string: func(lib, c"rd_kafka_event_error_string").ok()?,
                options_new: func(lib, c"rd_kafka_AdminOptions_new").ok()?,
                options_set_request_timeout: func(
                    lib,
                    c"rd_kafka_AdminOptions_set_request_timeout",
                )
                .ok()?,
                options_destroy: func(lib, c"rd_kafka_AdminOptions_destroy").ok()?,
                topic_names: func(lib, c"rd_kafka_TopicCollection_of_topic_names").ok()?,
                topic_names_destroy: func(lib, c"rd_kafka_TopicCollection_destroy").ok()?,
                describe_topics: func(lib, c"rd_kafka_DescribeTopics").ok()?,
                describe_result: func(lib, c"rd_kafka_event_DescribeTopics_result").ok()?,
                result_topics: func(lib, c"rd_kafka_DescribeTopics_result_topics").ok()?,
                topic_name: func(lib, c"rd_kafka_TopicDescription_name").ok()?,
                topic_error: func(lib, c"rd_kafka_TopicDescription_error").ok()?,
                error_code: func(lib, c"rd_kafka_error_code").ok()?,
                topic_partitions: func(lib, c"rd_kafka_TopicDescription_partitions").ok()?,
                partition_id: func(lib, c"rd_kafka_TopicPartitionInfo_partition").ok()?,
                partition_leader: func(lib, c"rd_kafka_TopicPartitionInfo_leader").ok()?,
                node_id: func(lib, c"rd_kafka_Node_id").ok()?,
                node_rack: func(lib, c"rd_kafka_Node_rack").ok()?,
            })
        }
    }
}
