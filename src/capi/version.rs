//! rdpart's version (the header's last function).

use std::ffi::c_char;

/// rdpart's version, e.g. "0.1.0" (a static string).
#[no_mangle]
pub extern "C" fn rdpart_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr() as *const c_char
}
