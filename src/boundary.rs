//! What every entry point from C goes through: the panic landing pad, the
//! NULL-safe conversions of what C hands over, and the ways back out (an
//! error buffer, stderr). Nothing here allocates except `c_string`.

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

/// Writes to stderr with one write(2): no allocation, no lock.
pub fn write_stderr(msg: &str) {
    // SAFETY: a valid buffer of that length.
    let _ = unsafe { libc::write(2, msg.as_ptr() as *const c_void, msg.len()) };
}
