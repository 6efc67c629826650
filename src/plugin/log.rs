//! What the plugin tells the user: through the producer's own log callback
//! (librdkafka's `log_cb`, so confluent-kafka's `logger` and an
//! application's callback get it too) once a producer exists, else on
//! stderr. Never silent: a log callback set to NULL falls back to stderr.

use super::types::{rd_kafka_t, LogCb};
use super::Instance;
use std::ffi::CString;
use std::sync::atomic::Ordering::Acquire;

pub(crate) const WARNING: i32 = 4;
pub(crate) const DEBUG: i32 = 7;

impl Instance {
    /// Logs `msg` (which starts with "rdpart: ") at syslog `level`.
    pub fn log(&self, level: i32, msg: &str) {
        let rk = self.rk.load(Acquire);
        let cb = self.log_cb.load(Acquire);
        if !rk.is_null() && cb != 0 {
            if let Ok(text) = CString::new(msg) {
                // SAFETY: cb is the producer's log_cb, read from its conf;
                // it takes the producer, a level, a facility and a message.
                let cb = unsafe { std::mem::transmute::<usize, LogCb>(cb) };
                unsafe {
                    cb(
                        rk as *const rd_kafka_t,
                        level,
                        c"RDPART".as_ptr(),
                        text.as_ptr(),
                    )
                };
                return;
            }
        }
        crate::host::write_stderr(&format!("%{level}|RDPART|{msg}\n"));
    }
}
