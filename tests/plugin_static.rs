//! The plugin inside a program that links librdkafka statically (here
//! rdkafka-sys 2.12, built with --export-dynamic): rdpart must find that
//! librdkafka in the main program. Produces to the mock cluster and checks
//! every delivery against librdkafka's own murmur2 partitioner.
//!
//! This test does not link rdpart itself: only the built librdpart.so.

use rdkafka_sys as k;
use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::atomic::{AtomicUsize, Ordering};

fn plugin_path() -> CString {
    // target/<profile>/deps/plugin_static-HASH -> target/<profile>/librdpart.so
    let exe = std::env::current_exe().unwrap();
    let so = exe.parent().unwrap().parent().unwrap().join("librdpart.so");
    assert!(so.exists(), "{} not built", so.display());
    CString::new(so.to_str().unwrap()).unwrap()
}

unsafe fn set(conf: *mut k::rd_kafka_conf_t, name: &str, value: &str) -> Result<(), String> {
    let mut err = [0 as c_char; 512];
    let (n, v) = (CString::new(name).unwrap(), CString::new(value).unwrap());
    let r =
        unsafe { k::rd_kafka_conf_set(conf, n.as_ptr(), v.as_ptr(), err.as_mut_ptr(), err.len()) };
    if r == k::rd_kafka_conf_res_t::RD_KAFKA_CONF_OK {
        Ok(())
    } else {
        Err(unsafe { CStr::from_ptr(err.as_ptr()) }
            .to_string_lossy()
            .into_owned())
    }
}

static CHECKED: AtomicUsize = AtomicUsize::new(0);
static WRONG: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn dr(_: *mut k::rd_kafka_t, m: *const k::rd_kafka_message_t, _: *mut c_void) {
    let m = unsafe { &*m };
    assert_eq!(m.err, k::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR);
    let want = unsafe {
        k::rd_kafka_msg_partitioner_murmur2(
            std::ptr::null(),
            m.key,
            m.key_len,
            6,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    CHECKED.fetch_add(1, Ordering::Relaxed);
    if want != m.partition {
        WRONG.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn plugin_binds_to_a_librdkafka_in_the_main_program() {
    unsafe {
        // Bad values are refused with the message, as in a shared librdkafka.
        let conf = k::rd_kafka_conf_new();
        set(
            conf,
            "plugin.library.paths",
            plugin_path().to_str().unwrap(),
        )
        .unwrap();
        let e = set(conf, "rdpart.strategy", "nope").unwrap_err();
        assert!(
            e.contains("rdpart.strategy") && e.contains("round_robin"),
            "{e}"
        );
        k::rd_kafka_conf_destroy(conf);

        // A mock cluster with a 6-partition topic.
        let mconf = k::rd_kafka_conf_new();
        set(mconf, "log_level", "3").unwrap();
        let mut err = [0 as c_char; 512];
        let mrk = k::rd_kafka_new(
            k::rd_kafka_type_t::RD_KAFKA_PRODUCER,
            mconf,
            err.as_mut_ptr(),
            err.len(),
        );
        let mc = k::rd_kafka_mock_cluster_new(mrk, 3);
        k::rd_kafka_mock_topic_create(mc, c"t".as_ptr(), 6, 1);
        let bootstraps = CStr::from_ptr(k::rd_kafka_mock_cluster_bootstraps(mc))
            .to_str()
            .unwrap()
            .to_owned();

        let conf = k::rd_kafka_conf_new();
        set(conf, "bootstrap.servers", &bootstraps).unwrap();
        set(
            conf,
            "plugin.library.paths",
            plugin_path().to_str().unwrap(),
        )
        .unwrap();
        set(conf, "rdpart.strategy", "sticky").unwrap();
        k::rd_kafka_conf_set_dr_msg_cb(conf, Some(dr));
        let rk = k::rd_kafka_new(
            k::rd_kafka_type_t::RD_KAFKA_PRODUCER,
            conf,
            err.as_mut_ptr(),
            err.len(),
        );
        assert!(
            !rk.is_null(),
            "{}",
            CStr::from_ptr(err.as_ptr()).to_string_lossy()
        );
        let rkt = k::rd_kafka_topic_new(rk, c"t".as_ptr(), std::ptr::null_mut());
        let mut md = std::ptr::null();
        k::rd_kafka_metadata(rk, 0, rkt, &mut md, 10_000);
        if !md.is_null() {
            k::rd_kafka_metadata_destroy(md);
        }
        for i in 0..2000 {
            let key = format!("key-{i}");
            let r = k::rd_kafka_produce(
                rkt,
                -1,
                k::RD_KAFKA_MSG_F_COPY,
                b"v".as_ptr() as *mut c_void,
                1,
                key.as_ptr() as *const c_void,
                key.len(),
                std::ptr::null_mut(),
            );
            assert_eq!(r, 0);
        }
        assert_eq!(
            k::rd_kafka_flush(rk, 30_000),
            k::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
        );
        k::rd_kafka_topic_destroy(rkt);
        k::rd_kafka_destroy(rk);
        k::rd_kafka_mock_cluster_destroy(mc);
        k::rd_kafka_destroy(mrk);
    }
    assert_eq!(CHECKED.load(Ordering::Relaxed), 2000);
    assert_eq!(
        WRONG.load(Ordering::Relaxed),
        0,
        "keyed messages not where murmur2 puts them"
    );
}
