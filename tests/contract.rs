//! The C API's contract for every strategy: every partition in range for
//! every partition count, the hashes deterministic, NULL and out-of-range
//! arguments, and the conf API's errors.

mod common;
use common::*;
use rdpart::capi::*;
use rdpart::sys::*;
use std::ffi::{c_void, CStr, CString};

#[test]
fn always_in_range_for_every_strategy_and_count() {
    let mut g = Gen(1);
    for (name, cb) in CALLBACKS {
        for n in [1, 2, 3, 6, 7, 64, 1000, 10_000, i32::MAX] {
            for i in 0..2_000 {
                let len = g.below(40) as usize;
                let key = g.bytes(len);
                let k = match i % 3 {
                    0 => None,
                    1 => Some(&key[..0]),
                    _ => Some(&key[..]),
                };
                let p = call(cb, k, n);
                assert!((0..n).contains(&p), "{name} gave {p} for n {n}");
            }
        }
    }
}

#[test]
fn a_keys_partition_never_depends_on_what_was_placed_before() {
    // Strategies with keyless state (sticky, adaptive, round-robin halves)
    // must place keys by their hash alone: the same keys, placed again on
    // another thread in another order between keyless placements that move
    // that state, land where they first did.
    let mut g = Gen(2);
    let keys: Vec<(Vec<u8>, i32)> = (0..2_000)
        .map(|_| {
            let len = 1 + g.below(64) as usize;
            (g.bytes(len), 1 + g.below(500) as i32)
        })
        .collect();
    for (name, cb) in CALLBACKS
        .iter()
        .filter(|(n, _)| !["random", "round_robin"].contains(n))
    {
        let first: Vec<i32> = keys.iter().map(|(k, n)| call(*cb, Some(k), *n)).collect();
        let cb = *cb;
        let keys = keys.clone();
        let again = std::thread::spawn(move || {
            let mut again = vec![0; keys.len()];
            for i in (0..keys.len()).rev() {
                for _ in 0..3 {
                    call(cb, None, keys[i].1);
                }
                again[i] = call(cb, Some(&keys[i].0), keys[i].1);
            }
            again
        })
        .join()
        .unwrap();
        assert_eq!(first, again, "{name}");
    }
}

#[test]
fn contract_at_the_boundary() {
    for (name, cb) in CALLBACKS {
        for n in [0, -1, i32::MIN] {
            assert_eq!(call(cb, Some(b"k"), n), -1, "{name} n {n}");
            assert_eq!(call(cb, None, n), -1, "{name} n {n}");
        }
        // NULL keydata with a length is a NULL key (never read): in range.
        let with_len = unsafe {
            cb(
                std::ptr::null(),
                std::ptr::null(),
                99,
                1000,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert!((0..1000).contains(&with_len), "{name}: {with_len}");
    }
    // Where a NULL key has one place, it is that of the definition (the
    // raw hashes of "" from FACTS.md): murmur2 and fnv1a hash "", consistent
    // puts it on partition 0.
    let null_with_len = |cb: Cb| unsafe {
        cb(
            std::ptr::null(),
            std::ptr::null(),
            5,
            1000,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    assert_eq!(
        null_with_len(rdpart_murmur2),
        ((0x106e_08d9u32 & 0x7fff_ffff) % 1000) as i32
    );
    assert_eq!(null_with_len(rdpart_fnv1a), (0x7ee3_623bu32 % 1000) as i32);
    assert_eq!(null_with_len(rdpart_consistent), 0);
    unsafe {
        rdpart_conf_destroy(std::ptr::null_mut());
        rdpart_destroy(std::ptr::null_mut());
        let mut err = [0i8; 64];
        assert_eq!(
            rdpart_conf_set(
                std::ptr::null_mut(),
                c"strategy".as_ptr(),
                c"jump".as_ptr(),
                err.as_mut_ptr(),
                err.len()
            ),
            RD_KAFKA_CONF_INVALID
        );
        let conf = rdpart_conf_new();
        assert_eq!(
            rdpart_conf_set(
                conf,
                std::ptr::null(),
                c"x".as_ptr(),
                std::ptr::null_mut(),
                0
            ),
            RD_KAFKA_CONF_INVALID
        );
        assert_eq!(
            rdpart_conf_set(
                conf,
                c"nope".as_ptr(),
                c"x".as_ptr(),
                std::ptr::null_mut(),
                0
            ),
            RD_KAFKA_CONF_UNKNOWN
        );
        // A tiny error buffer is truncated and terminated.
        assert_eq!(
            rdpart_conf_set(
                conf,
                c"strategy".as_ptr(),
                c"x".as_ptr(),
                err.as_mut_ptr(),
                8
            ),
            RD_KAFKA_CONF_INVALID
        );
        assert_eq!(std::ffi::CStr::from_ptr(err.as_ptr()).to_bytes().len(), 7);
        assert_eq!(
            rdpart_conf_set(
                conf,
                c"strategy".as_ptr(),
                std::ptr::null(),
                std::ptr::null_mut(),
                0
            ),
            RD_KAFKA_CONF_OK
        );
        let part = rdpart_new(conf, std::ptr::null_mut(), 0);
        rdpart_conf_destroy(conf);
        let p = rdpart_partition(
            std::ptr::null(),
            b"key".as_ptr() as *const c_void,
            3,
            10,
            part as *mut c_void,
            std::ptr::null_mut(),
        );
        assert_eq!(
            p,
            call(rdpart_murmur2, Some(b"key"), 10),
            "default strategy sticky hashes keys as murmur2"
        );
        // NULL and foreign opaques place like the default (sticky).
        let foreign = Box::new([0u64; 16]);
        for opaque in [std::ptr::null_mut(), foreign.as_ptr() as *mut c_void] {
            let p = rdpart_partition(
                std::ptr::null(),
                b"key".as_ptr() as *const c_void,
                3,
                10,
                opaque,
                std::ptr::null_mut(),
            );
            assert_eq!(p, call(rdpart_murmur2, Some(b"key"), 10));
        }
        rdpart_destroy(part);
    }
}

#[test]
fn conf_api_sets_the_strategy() {
    let mut g = Gen(3);
    unsafe {
        let conf = rdpart_conf_new();
        let mut err = [0i8; 256];
        for (name, cb) in CALLBACKS {
            let v = CString::new(name).unwrap();
            assert_eq!(
                rdpart_conf_set(
                    conf,
                    c"strategy".as_ptr(),
                    v.as_ptr(),
                    err.as_mut_ptr(),
                    err.len()
                ),
                RD_KAFKA_CONF_OK
            );
            let part = rdpart_new(conf, err.as_mut_ptr(), err.len());
            assert!(!part.is_null());
            if !["random", "round_robin"].contains(&name) {
                for _ in 0..1000 {
                    let len = 1 + g.below(30) as usize;
                    let key = g.bytes(len);
                    let got = rdpart_partition(
                        std::ptr::null(),
                        key.as_ptr() as *const c_void,
                        key.len(),
                        97,
                        part as *mut c_void,
                        std::ptr::null_mut(),
                    );
                    assert_eq!(got, call(cb, Some(&key), 97), "{name}");
                }
            }
            rdpart_destroy(part);
        }
        rdpart_conf_destroy(conf);
    }
}

#[test]
fn stats_are_json_in_any_buffer() {
    // SAFETY (all calls): NULL with size 0, or a buffer of the size given.
    let n = unsafe { rdpart_stats(std::ptr::null_mut(), 0) };
    assert!(n >= "{\"producers\":[]}".len(), "{n}");
    let mut small = [1 as std::ffi::c_char; 5];
    assert_eq!(unsafe { rdpart_stats(small.as_mut_ptr(), small.len()) }, n);
    assert_eq!(small[4], 0, "NUL-terminated when cut");
    let mut buf = vec![0 as std::ffi::c_char; n + 1];
    assert_eq!(unsafe { rdpart_stats(buf.as_mut_ptr(), buf.len()) }, n);
    let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap();
    assert!(
        text.starts_with("{\"producers\":[") && text.ends_with("]}"),
        "{text}"
    );
}

#[test]
fn rdpart_new_refuses_rack_awareness_and_says_why() {
    unsafe {
        let conf = rdpart_conf_new();
        let mut err = [0i8; 512];
        for bad in [c"yes", c"2"] {
            assert_eq!(
                rdpart_conf_set(
                    conf,
                    c"rack.aware".as_ptr(),
                    bad.as_ptr(),
                    err.as_mut_ptr(),
                    err.len()
                ),
                RD_KAFKA_CONF_INVALID
            );
            let m = CStr::from_ptr(err.as_ptr()).to_string_lossy().into_owned();
            assert!(
                m.contains("rack.aware") && m.contains("true or false"),
                "{m}"
            );
        }
        let set = |v: &CStr| {
            rdpart_conf_set(
                conf,
                c"rack.aware".as_ptr(),
                v.as_ptr(),
                std::ptr::null_mut(),
                0,
            )
        };
        assert_eq!(set(c"false"), RD_KAFKA_CONF_OK);
        let part = rdpart_new(conf, err.as_mut_ptr(), err.len());
        assert!(!part.is_null());
        rdpart_destroy(part);
        assert_eq!(set(c"true"), RD_KAFKA_CONF_OK);
        let part = rdpart_new(conf, err.as_mut_ptr(), err.len());
        assert!(part.is_null());
        let m = CStr::from_ptr(err.as_ptr()).to_string_lossy().into_owned();
        assert!(m.contains("\"rack.aware\"") && m.contains("plugin"), "{m}");
        rdpart_conf_destroy(conf);
    }
}
