//! adaptive through the C API, as a C program without the plugin uses it:
//! an rdpart_new() partitioner installed with rdpart_partition, fed by
//! rdpart_delivered() from the delivery report callback. On the mock
//! cluster (rdkafka-sys, exported with --export-dynamic as a program linked
//! with librdkafka would be) with one broker answering after 1 s, checked
//! by the partitions librdkafka reports in the delivery reports.

use rdkafka_sys as k;
use rdpart::capi::*;
use rdpart::sys::*;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

const N: i32 = 6;
const SLOW_BROKER: i32 = 2; // leads partitions 1 and 4

static PART: AtomicPtr<rdpart_t> = AtomicPtr::new(std::ptr::null_mut());
static REPORT: AtomicBool = AtomicBool::new(true);
/// Keyless messages produced after 2 s (the first burst, placed before any
/// acknowledgement, is over): all, on the slow broker.
static LATE: AtomicU64 = AtomicU64::new(0);
static LATE_SLOW: AtomicU64 = AtomicU64::new(0);
static DELIVERED: AtomicU64 = AtomicU64::new(0);
static FAILED: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" fn dr(_: *mut k::rd_kafka_t, m: *const k::rd_kafka_message_t, _: *mut c_void) {
    if REPORT.load(Relaxed) {
        // SAFETY: the same struct, as rdkafka.h declares it.
        unsafe { rdpart_delivered(PART.load(Relaxed), m as *const rd_kafka_message_t) };
    }
    let m = unsafe { &*m };
    if m.err != k::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        FAILED.fetch_add(1, Relaxed);
        return;
    }
    DELIVERED.fetch_add(1, Relaxed);
    // The message opaque is its produce time, ms after the start.
    if m._private as usize > 2000 {
        LATE.fetch_add(1, Relaxed);
        if 1 + m.partition % 3 == SLOW_BROKER {
            LATE_SLOW.fetch_add(1, Relaxed);
        }
    }
}

unsafe fn set(conf: *mut k::rd_kafka_conf_t, name: &str, value: &str) {
    let mut err = [0 as c_char; 512];
    let (n, v) = (CString::new(name).unwrap(), CString::new(value).unwrap());
    let r =
        unsafe { k::rd_kafka_conf_set(conf, n.as_ptr(), v.as_ptr(), err.as_mut_ptr(), err.len()) };
    assert_eq!(r, k::rd_kafka_conf_res_t::RD_KAFKA_CONF_OK, "{name}");
}

/// Produces keyless 200-byte messages at 2000/s for 5 s; returns the share
/// of those produced after 2 s that went to the slow broker.
unsafe fn run(report: bool) -> f64 {
    for c in [&LATE, &LATE_SLOW, &DELIVERED, &FAILED] {
        c.store(0, Relaxed);
    }
    REPORT.store(report, Relaxed);
    let mut err = [0 as c_char; 512];
    unsafe {
        let mconf = k::rd_kafka_conf_new();
        set(mconf, "log_level", "0");
        let mrk = k::rd_kafka_new(
            k::rd_kafka_type_t::RD_KAFKA_PRODUCER,
            mconf,
            err.as_mut_ptr(),
            err.len(),
        );
        let mc = k::rd_kafka_mock_cluster_new(mrk, 3);
        k::rd_kafka_mock_topic_create(mc, c"t".as_ptr(), N, 1);
        for p in 0..N {
            k::rd_kafka_mock_partition_set_leader(mc, c"t".as_ptr(), p, 1 + p % 3);
        }
        k::rd_kafka_mock_broker_set_rtt(mc, SLOW_BROKER, 1000);
        let bootstraps = CStr::from_ptr(k::rd_kafka_mock_cluster_bootstraps(mc))
            .to_str()
            .unwrap()
            .to_owned();

        let pconf = rdpart_conf_new();
        let r = rdpart_conf_set(
            pconf,
            c"strategy".as_ptr(),
            c"adaptive".as_ptr(),
            err.as_mut_ptr(),
            err.len(),
        );
        assert_eq!(r, RD_KAFKA_CONF_OK);
        let part = rdpart_new(pconf, err.as_mut_ptr(), err.len());
        rdpart_conf_destroy(pconf);
        assert!(!part.is_null());
        PART.store(part, Relaxed);

        let conf = k::rd_kafka_conf_new();
        set(conf, "bootstrap.servers", &bootstraps);
        set(conf, "enable.idempotence", "true");
        set(conf, "linger.ms", "5");
        set(conf, "sticky.partitioning.linger.ms", "0");
        set(conf, "log_level", "0");
        k::rd_kafka_conf_set_dr_msg_cb(conf, Some(dr));
        let tconf = k::rd_kafka_topic_conf_new();
        let cb: unsafe extern "C" fn(
            *const k::rd_kafka_topic_t,
            *const c_void,
            usize,
            i32,
            *mut c_void,
            *mut c_void,
        ) -> i32 = std::mem::transmute(rdpart_partition as *const ());
        k::rd_kafka_topic_conf_set_partitioner_cb(tconf, Some(cb));
        k::rd_kafka_topic_conf_set_opaque(tconf, part as *mut c_void);
        k::rd_kafka_conf_set_default_topic_conf(conf, tconf);
        let rk = k::rd_kafka_new(
            k::rd_kafka_type_t::RD_KAFKA_PRODUCER,
            conf,
            err.as_mut_ptr(),
            err.len(),
        );
        assert!(!rk.is_null());
        let rkt = k::rd_kafka_topic_new(rk, c"t".as_ptr(), std::ptr::null_mut());

        let payload = [b'x'; 200];
        let start = Instant::now();
        let mut sent = 0u64;
        while start.elapsed() < Duration::from_secs(5) {
            let ms = start.elapsed().as_millis() as u64;
            while sent < ms * 2 {
                let r = k::rd_kafka_produce(
                    rkt,
                    -1,
                    k::RD_KAFKA_MSG_F_COPY,
                    payload.as_ptr() as *mut c_void,
                    payload.len(),
                    std::ptr::null(),
                    0,
                    ms as *mut c_void,
                );
                assert_eq!(r, 0);
                sent += 1;
            }
            k::rd_kafka_poll(rk, 1);
        }
        assert_eq!(
            k::rd_kafka_flush(rk, 60_000),
            k::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
        );
        assert_eq!((DELIVERED.load(Relaxed), FAILED.load(Relaxed)), (sent, 0));
        if report {
            // Every placement reported: no backlog left.
            assert_eq!(rdpart_in_flight(part), 0);
        }
        k::rd_kafka_topic_destroy(rkt);
        k::rd_kafka_destroy(rk);
        rdpart_destroy(part);
        k::rd_kafka_mock_cluster_destroy(mc);
        k::rd_kafka_destroy(mrk);
    }
    LATE_SLOW.load(Relaxed) as f64 / LATE.load(Relaxed).max(1) as f64
}

#[test]
fn delivery_reports_keep_adaptive_off_a_slow_broker() {
    // SAFETY: librdkafka and rdpart used as documented.
    let with = unsafe { run(true) };
    let without = unsafe { run(false) };
    assert!(
        with < 0.03,
        "with reports, {:.1}% on the slow broker",
        100.0 * with
    );
    // Without them adaptive only balances: about a third.
    assert!(without > 0.2, "without reports, {:.1}%", 100.0 * without);
}
