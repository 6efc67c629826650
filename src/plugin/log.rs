//! What the plugin tells the user, on the producer's log, the way
//! librdkafka's own lines get there: without `log.queue`, through the
//! producer's `log_cb` from the thread that logs; with `log.queue=true`
//! (confluent-kafka's `logger=`), through the log queue: lines wait in a
//! small outbox, the next `on_send` fails once so that librdkafka queues a
//! line, and rdpart's relay `log_cb` swaps it for the outbox in the polling
//! thread. Without a producer or a `log_cb`, to stderr. docs/logging.md
//! explains why.

use crate::atomic::AtomicFn;
use crate::boundary::{boundary, write_stderr};
use crate::sys::{rd_kafka_t, LogCb};
use std::collections::VecDeque;
use std::ffi::{c_char, c_int, CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, Ordering::*};
use std::sync::{Arc, Mutex, MutexGuard};

pub(crate) const ERR: i32 = 3;
pub(crate) const WARNING: i32 = 4;
pub(crate) const NOTICE: i32 = 5;
pub(crate) const DEBUG: i32 = 7;

/// Lines kept for a queued log while the application does not produce.
const OUTBOX: usize = 64;

/// A producer's log, as rdpart writes to it.
#[derive(Default)]
pub struct Log {
    rk: AtomicPtr<rd_kafka_t>,
    /// The application's `log_cb`.
    app_cb: AtomicFn<LogCb>,
    /// librdkafka's `log_level` for this producer.
    level: AtomicI32,
    /// `log.queue=true`: lines go out through the log queue.
    queued: AtomicBool,
    /// Lines waiting for the next on_send to carry them.
    pending: AtomicBool,
    outbox: Mutex<VecDeque<(i32, String)>>,
}

/// The producers whose `log_cb` is rdpart's relay, and their logs.
static RELAYED: Mutex<Vec<(usize, Arc<Log>)>> = Mutex::new(Vec::new());

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The name of the on_send interceptor whose failures carry rdpart's lines.
pub(crate) const CARRIER: &CStr = c"rdpart";

impl Log {
    /// Binds the log to producer `rk` (in on_new), whose conf gives
    /// `log_cb`, `log_level` and `log.queue`. Returns whether the relay
    /// must be installed as the producer's `log_cb`.
    pub fn bind(
        self: &Arc<Self>,
        rk: *mut rd_kafka_t,
        app_cb: usize,
        level: i32,
        queued: bool,
    ) -> bool {
        // SAFETY: the address librdkafka prints for the conf's log_cb (0:
        // none), a function of LogCb's signature.
        unsafe { self.app_cb.set_addr(app_cb) };
        self.level.store(level, Relaxed);
        self.queued.store(queued, Release);
        self.rk.store(rk, Release);
        if queued {
            let mut r = lock(&RELAYED);
            r.retain(|(k, _)| *k != rk as usize);
            r.push((rk as usize, Arc::clone(self)));
        }
        queued
    }

    /// Forgets the producer (its conf is being destroyed).
    pub fn unbind(&self) {
        let rk = self.rk.swap(std::ptr::null_mut(), AcqRel);
        if !rk.is_null() {
            lock(&RELAYED).retain(|(k, _)| *k != rk as usize);
        }
    }

    /// Logs `msg` (which starts with "rdpart: ") at syslog `level`;
    /// `forced`: shown whatever `log_level` says (a line `debug` asked for).
    pub fn write(&self, level: i32, msg: &str, forced: bool) {
        let rk = self.rk.load(Acquire);
        if rk.is_null() {
            return stderr(level, msg);
        }
        if !forced && level > self.level.load(Relaxed) {
            return;
        }
        if self.queued.load(Acquire) {
            let mut q = lock(&self.outbox);
            if q.len() == OUTBOX {
                q.pop_front();
            }
            q.push_back((level, msg.to_string()));
            self.pending.store(true, Release);
            return;
        }
        self.call(rk, level, msg);
    }

    /// The application's log_cb with one line, else stderr.
    fn call(&self, rk: *mut rd_kafka_t, level: i32, msg: &str) {
        match (self.app_cb.get(), CString::new(msg)) {
            (Some(cb), Ok(text)) => {
                // SAFETY: the producer's log_cb, read from its conf; it takes
                // the producer, a level, a facility and a message, and the
                // strings outlive the call.
                unsafe { cb(rk, level, c"RDPART".as_ptr(), text.as_ptr()) };
            }
            _ => stderr(level, msg),
        }
    }

    /// For on_send: whether this message must carry queued lines (then
    /// on_send fails once, which librdkafka logs through the queue).
    #[inline]
    pub fn take_pending(&self) -> bool {
        self.pending.load(Relaxed) && self.pending.swap(false, AcqRel)
    }
}

fn stderr(level: i32, msg: &str) {
    write_stderr(&format!("%{level}|RDPART|{msg}\n"));
}

/// The producer's `log_cb` while its log is queued: librdkafka calls it
/// from the thread that polls the log queue.
pub unsafe extern "C" fn relay(
    rk: *const rd_kafka_t,
    level: c_int,
    fac: *const c_char,
    buf: *const c_char,
) {
    boundary((), || {
        let log = lock(&RELAYED)
            .iter()
            .find(|(k, _)| *k == rk as usize)
            .map(|(_, l)| Arc::clone(l));
        // SAFETY: librdkafka's C strings (or NULL).
        let (f, b) = unsafe {
            (
                (!fac.is_null()).then(|| CStr::from_ptr(fac).to_bytes()),
                (!buf.is_null()).then(|| CStr::from_ptr(buf).to_bytes()),
            )
        };
        let carrier = f == Some(b"ICFAIL".as_slice())
            && b.is_some_and(|b| {
                // After librdkafka's "[thrd:NAME]: " prefix, when it adds one.
                memchr::memmem::find(b, b"Interceptor rdpart failed on_send").is_some()
            });
        let Some(log) = log else {
            // A producer rdpart no longer knows (being destroyed): its own
            // lines to stderr, as librdkafka's default would.
            if !carrier {
                let (f, b) = (f.unwrap_or_default(), b.unwrap_or_default());
                stderr(
                    level,
                    &format!(
                        "{}: {}",
                        String::from_utf8_lossy(f),
                        String::from_utf8_lossy(b)
                    ),
                );
            }
            return;
        };
        if !carrier {
            if let Some(cb) = log.app_cb.get() {
                // SAFETY: the application's log_cb, with what librdkafka passed.
                unsafe { cb(rk, level, fac, buf) };
            }
            return;
        }
        let lines: Vec<(i32, String)> = lock(&log.outbox).drain(..).collect();
        for (level, msg) in lines {
            log.call(rk as *mut rd_kafka_t, level, &msg);
        }
    })
}
