//! Nothing rdpart writes to stderr may block the host: with stderr a pipe
//! that nobody reads (full), an `rdpart_new()` partitioner with hot keys
//! still places every message (a key's turn to hot is said on stderr).
//! The test runs itself as a child with such a stderr and kills it after a
//! timeout: a placement that blocks fails the test instead of hanging it.

use rdpart::capi::*;
use std::ffi::{c_void, CString};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHILD: &str = "RDPART_TEST_STDERR_CHILD";

fn child() {
    // Fill the pipe: non-blocking writes until it is full, then blocking again.
    // SAFETY: fcntl and write on our own stderr.
    unsafe {
        let flags = libc::fcntl(2, libc::F_GETFL);
        libc::fcntl(2, libc::F_SETFL, flags | libc::O_NONBLOCK);
        let junk = [b'x'; 4096];
        while libc::write(2, junk.as_ptr() as *const c_void, junk.len()) > 0 {}
        libc::fcntl(2, libc::F_SETFL, flags);
    }
    let mut err = [0 as std::ffi::c_char; 256];
    // SAFETY: the C API with valid arguments.
    unsafe {
        let conf = rdpart_conf_new();
        for (k, v) in [("strategy", "murmur2"), ("hot.key.share", "0.2")] {
            let (k, v) = (CString::new(k).unwrap(), CString::new(v).unwrap());
            assert_eq!(
                rdpart_conf_set(conf, k.as_ptr(), v.as_ptr(), err.as_mut_ptr(), 256),
                0
            );
        }
        let part = rdpart_new(conf, err.as_mut_ptr(), 256) as *mut c_void;
        assert!(!part.is_null());
        rdpart_conf_destroy(conf);
        // One key with half of the messages: hot after 100 messages.
        for i in 0..20_000u32 {
            let key = if i % 2 == 0 {
                b"tenant-hot".to_vec()
            } else {
                i.to_string().into_bytes()
            };
            let p = rdpart_partition(
                std::ptr::null(),
                key.as_ptr() as *const c_void,
                key.len(),
                6,
                part,
                std::ptr::null_mut(),
            );
            assert!((0..6).contains(&p));
        }
    }
    println!("placed 20000");
}

#[test]
fn a_full_stderr_never_blocks_a_placement() {
    if std::env::var_os(CHILD).is_some() {
        return child();
    }
    let mut c = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "a_full_stderr_never_blocks_a_placement",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()) // never read while it runs
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = c.try_wait().unwrap() {
            break Some(s);
        }
        if start.elapsed() > Duration::from_secs(30) {
            c.kill().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    assert!(
        status.is_some(),
        "a placement blocked on the full stderr (killed after 30 s)"
    );
    assert!(
        status.unwrap().success() && out.contains("placed 20000"),
        "{out}"
    );
}
