//! What every entry point from C goes through: the panic landing pad, the
//! NULL-safe conversions of what C hands over, and the ways back out (an
//! error buffer, stderr, a value cut short for a message). Nothing here
//! allocates except `c_string` and `shorten`.

use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// A message key: `None` is a NULL key, `Some(&[])` an empty one.
pub type Key<'a> = Option<&'a [u8]>;

/// Runs `f`; if it panics, returns `on_panic` instead of unwinding into C.
#[inline]
pub fn boundary<R>(on_panic: R, f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(on_panic)
}

/// The key as librdkafka hands it over: NULL is no key, whatever keylen.
///
/// # Safety
/// `keydata` is NULL or points to `keylen` readable bytes.
#[inline]
pub unsafe fn key<'a>(keydata: *const c_void, keylen: usize) -> Key<'a> {
    if keydata.is_null() {
        None
    } else {
        // SAFETY: the caller's contract.
        Some(unsafe { std::slice::from_raw_parts(keydata as *const u8, keylen) })
    }
}

/// Writes `msg` into a C error buffer (truncated, always NUL-terminated).
///
/// # Safety
/// `errstr` is NULL or points to `errstr_size` writable bytes.
pub unsafe fn write_errstr(errstr: *mut c_char, errstr_size: usize, msg: &str) {
    if errstr.is_null() || errstr_size == 0 {
        return;
    }
    let mut len = msg.len().min(errstr_size - 1);
    while !msg.is_char_boundary(len) {
        len -= 1;
    }
    // SAFETY: len < errstr_size bytes fit, plus the NUL.
    unsafe {
        std::ptr::copy_nonoverlapping(msg.as_ptr(), errstr as *mut u8, len);
        *errstr.add(len) = 0;
    }
}

/// A C string as an owned string (NULL: empty).
///
/// # Safety
/// `s` is NULL or a NUL-terminated string.
pub unsafe fn c_string(s: *const c_char) -> String {
    if s.is_null() {
        String::new()
    } else {
        // SAFETY: the caller's contract.
        unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
    }
}

/// Writes to stderr with one write(2), only when it cannot block: no
/// allocation, no lock, no wait. A write to a full pipe (stderr that
/// nobody reads) would block the host's thread, possibly inside a
/// placement, so such a line is dropped, and the next line written says
/// how many were.
pub fn write_stderr(msg: &str) {
    use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
    static DROPPED: AtomicU64 = AtomicU64::new(0);
    // At most PIPE_BUF bytes: a pipe that polls writable takes them at once.
    let mut len = msg.len().min(4096); // PIPE_BUF on Linux
    while !msg.is_char_boundary(len) {
        len -= 1;
    }
    let mut fds = libc::pollfd {
        fd: 2,
        events: libc::POLLOUT,
        revents: 0,
    };
    // SAFETY: one valid pollfd; a zero timeout never waits.
    let ready = unsafe { libc::poll(&mut fds, 1, 0) } == 1 && fds.revents & libc::POLLOUT != 0;
    if !ready {
        DROPPED.fetch_add(1, Relaxed);
        return;
    }
    let dropped = DROPPED.swap(0, Relaxed);
    if dropped > 0 {
        let mut buf = [0u8; 96];
        let mut w = &mut buf[..];
        let _ = std::io::Write::write_fmt(
            &mut w,
            format_args!("rdpart: {dropped} earlier lines dropped: stderr was not writable\n"),
        );
        let n = 96 - w.len();
        // SAFETY: a valid buffer of that length.
        let _ = unsafe { libc::write(2, buf.as_ptr() as *const c_void, n) };
    }
    // SAFETY: a valid buffer of that length.
    let _ = unsafe { libc::write(2, msg.as_ptr() as *const c_void, len) };
}

/// `s`, cut to about `max` characters for a message.
pub fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}
