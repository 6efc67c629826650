//! `topic.strategy` and `key.delimiter` through the C conf API, with real
//! librdkafka topic handles (rdkafka-sys, linked into this test and exported
//! with --export-dynamic, as a program linked with librdkafka would be), and
//! librdkafka's own partitioner functions as the oracle.

mod common;
use common::{call, librdkafka, Gen};
use rdkafka_sys as k;
use rdpart::capi::*;
use rdpart::sys::*;
use std::ffi::{c_char, c_void, CStr, CString};

fn conf(props: &[(&str, &str)]) -> *mut rdpart_conf_t {
    let c = rdpart_conf_new();
    for (n, v) in props {
        let (n, v) = (CString::new(*n).unwrap(), CString::new(*v).unwrap());
        let mut err = [0 as c_char; 512];
        let r = unsafe { rdpart_conf_set(c, n.as_ptr(), v.as_ptr(), err.as_mut_ptr(), err.len()) };
        assert_eq!(r, RD_KAFKA_CONF_OK, "{:?}", unsafe {
            CStr::from_ptr(err.as_ptr())
        });
    }
    c
}

fn new(props: &[(&str, &str)]) -> *mut rdpart_t {
    let c = conf(props);
    let mut err = [0 as c_char; 512];
    let p = unsafe { rdpart_new(c, err.as_mut_ptr(), err.len()) };
    unsafe { rdpart_conf_destroy(c) };
    assert!(!p.is_null(), "{:?}", unsafe {
        CStr::from_ptr(err.as_ptr())
    });
    p
}

fn place(p: *mut rdpart_t, rkt: *const rd_kafka_topic_t, key: Option<&[u8]>, n: i32) -> i32 {
    let (ptr, len) = key.map_or((std::ptr::null(), 0), |k| (k.as_ptr(), k.len()));
    unsafe {
        rdpart_partition(
            rkt,
            ptr as *const c_void,
            len,
            n,
            p as *mut c_void,
            std::ptr::null_mut(),
        )
    }
}

/// A producer (no broker needed) and topic handles by name.
struct Producer(*mut k::rd_kafka_t);

impl Producer {
    fn new() -> Producer {
        let mut err = [0 as c_char; 512];
        let rk = unsafe {
            k::rd_kafka_new(
                k::rd_kafka_type_t::RD_KAFKA_PRODUCER,
                k::rd_kafka_conf_new(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        assert!(!rk.is_null());
        Producer(rk)
    }

    fn topic(&self, name: &str) -> *const rd_kafka_topic_t {
        let n = CString::new(name).unwrap();
        let rkt = unsafe { k::rd_kafka_topic_new(self.0, n.as_ptr(), std::ptr::null_mut()) };
        assert!(!rkt.is_null());
        rkt as *const rd_kafka_topic_t
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        unsafe { k::rd_kafka_destroy(self.0) };
    }
}

#[test]
fn each_topic_takes_the_first_matching_pair() {
    let rk = Producer::new();
    let p = new(&[
        ("strategy", "fnv1a"),
        (
            "topic.strategy",
            "orders:consistent,events-*:murmur2,*.v2:jump",
        ),
    ]);
    let murmur2 = librdkafka(k::rd_kafka_msg_partitioner_murmur2);
    let consistent = librdkafka(k::rd_kafka_msg_partitioner_consistent);
    let fnv1a = librdkafka(k::rd_kafka_msg_partitioner_fnv1a);
    let cases: [(&str, Option<common::Cb>); 6] = [
        ("orders", Some(consistent)),
        ("orders.v2", None), // jump: checked against rdpart_jump below
        ("events-eu", Some(murmur2)),
        ("events-eu.v2", Some(murmur2)), // the first match wins
        ("events", Some(fnv1a)),         // no pair: `strategy`
        ("my_orders", Some(fnv1a)),
    ];
    let mut g = Gen(11);
    for (name, oracle) in cases {
        let rkt = rk.topic(name);
        for _ in 0..2000 {
            let len = 1 + g.below(40) as usize;
            let key = g.bytes(len);
            let n = 1 + g.below(1000) as i32;
            let want = match oracle {
                Some(f) => call(f, Some(&key), n),
                None => call(rdpart_jump, Some(&key), n),
            };
            assert_eq!(place(p, rkt, Some(&key), n), want, "topic {name}");
        }
    }
    // What the conf says a topic gets, without a producer.
    let c = conf(&[("topic.strategy", "orders:consistent,events-*:murmur2")]);
    let strategy = |t: &str| {
        let t = CString::new(t).unwrap();
        unsafe { CStr::from_ptr(rdpart_conf_topic_strategy(c, t.as_ptr())) }
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(strategy("orders"), "consistent");
    assert_eq!(strategy("events-1"), "murmur2");
    assert_eq!(strategy("other"), "sticky");
    assert!(unsafe { rdpart_conf_topic_strategy(c, std::ptr::null()) }.is_null());
    unsafe {
        rdpart_conf_destroy(c);
        rdpart_destroy(p);
    }
}

#[test]
fn topic_strategy_errors_give_the_reason_and_change_nothing() {
    let c = rdpart_conf_new();
    for (bad, says) in [
        (
            "orders:jump,events:murmur3",
            "strategy \"murmur3\" is not one of",
        ),
        ("orders", "PATTERN:STRATEGY"),
        ("ord ers:jump", "' ' cannot be in a topic name"),
        ("", "PATTERN:STRATEGY"),
    ] {
        let v = CString::new(bad).unwrap();
        let mut err = [0 as c_char; 512];
        let r = unsafe {
            rdpart_conf_set(
                c,
                c"rdpart.topic.strategy".as_ptr(),
                v.as_ptr(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        let msg = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy();
        assert_eq!(r, RD_KAFKA_CONF_INVALID, "{bad}");
        assert!(
            msg.contains("\"rdpart.topic.strategy\"") && msg.contains(says),
            "{msg}"
        );
    }
    let t = c"x";
    let s = unsafe { CStr::from_ptr(rdpart_conf_topic_strategy(c, t.as_ptr())) };
    assert_eq!(s.to_str().unwrap(), "sticky");
    for bad in ["", "123456789"] {
        let v = CString::new(bad).unwrap();
        let mut err = [0 as c_char; 512];
        let r = unsafe {
            rdpart_conf_set(
                c,
                c"key.delimiter".as_ptr(),
                v.as_ptr(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        let msg = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy();
        assert_eq!(r, RD_KAFKA_CONF_INVALID);
        assert!(
            msg.contains("\"key.delimiter\"") && msg.contains("1 to 8 bytes"),
            "{msg}"
        );
    }
    unsafe { rdpart_conf_destroy(c) };
}

#[test]
fn the_delimiter_hashes_only_the_part_before_it() {
    let murmur2 = librdkafka(k::rd_kafka_msg_partitioner_murmur2);
    let consistent = librdkafka(k::rd_kafka_msg_partitioner_consistent);
    let mut g = Gen(12);
    for (strategy, oracle, delim) in [
        ("murmur2", murmur2, ":"),
        ("sticky", murmur2, "::"),
        ("consistent", consistent, "|"),
    ] {
        let p = new(&[("strategy", strategy), ("key.delimiter", delim)]);
        for _ in 0..3000 {
            let tenant: Vec<u8> = (0..1 + g.below(12))
                .map(|_| b'a' + g.below(26) as u8)
                .collect();
            let n = 1 + g.below(500) as i32;
            let want = call(oracle, Some(&tenant), n);
            // Every key of the tenant lands with the tenant alone.
            for rest in [&b""[..], b"order-1", b"x:y::z|w"] {
                let mut key = tenant.clone();
                key.extend_from_slice(delim.as_bytes());
                key.extend_from_slice(rest);
                assert_eq!(
                    place(p, std::ptr::null(), Some(&key), n),
                    want,
                    "{strategy} {key:?}"
                );
            }
            // No delimiter: the whole key.
            assert_eq!(place(p, std::ptr::null(), Some(&tenant), n), want);
        }
        // NULL and empty keys are placed as without a delimiter.
        if strategy != "sticky" {
            for n in [1, 7, 1000] {
                assert_eq!(place(p, std::ptr::null(), None, n), call(oracle, None, n));
                assert_eq!(
                    place(p, std::ptr::null(), Some(b""), n),
                    call(oracle, Some(b""), n)
                );
            }
        }
        unsafe { rdpart_destroy(p) };
    }
    // consistent_random: an empty key is random, but a key that is only a
    // delimiter is keyed (its tenant is ""): always crc32("") = 0.
    let p = new(&[("strategy", "consistent_random"), ("key.delimiter", ":")]);
    let spread: std::collections::HashSet<i32> = (0..200)
        .map(|_| place(p, std::ptr::null(), Some(b""), 50))
        .collect();
    assert!(spread.len() > 10, "empty keys stay random: {spread:?}");
    assert!((0..200).all(|_| place(p, std::ptr::null(), Some(b":x"), 50) == 0));
    unsafe { rdpart_destroy(p) };
}
