//! What the plugin tells the user, on the producer's log, the way
//! librdkafka's own lines get there: without `log.queue`, through the
//! producer's `log_cb` from the thread that logs; with `log.queue=true`
//! (confluent-kafka's `logger=`), through the log queue: lines wait in a
//! small outbox, the next `on_send` fails once so that librdkafka queues a
//! line, and rdpart's relay `log_cb` swaps it for the outbox in the polling
//! thread. A carrier is a WARNING: when the application's `log_level` is
//! below it, rdpart raises the producer's level until the carrier has
//! been relayed, and the relay drops librdkafka's lines above the
//! application's level meanwhile. Without a producer or a `log_cb`, to
//! stderr. docs/logging.md explains why.

use crate::atomic::AtomicFn;
use crate::boundary::{boundary, write_stderr};
use crate::sys::{rd_kafka_t, LogCb, SetLogLevelFn};
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
    /// Lines pushed out of a full outbox since it was last drained.
    dropped: std::sync::atomic::AtomicU64,
    /// `rd_kafka_set_log_level`, to let a carrier through a `log_level`
    /// below WARNING.
    set_level: AtomicFn<SetLogLevelFn>,
    /// The producer's level is raised to WARNING until the next carrier.
    raised: AtomicBool,
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
        set_level: Option<SetLogLevelFn>,
    ) -> bool {
        self.set_level.set(set_level);
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
                self.dropped.fetch_add(1, Relaxed);
            }
            q.push_back((level, msg.to_string()));
            // A carrier is logged at WARNING: below that, librdkafka would
            // drop it, and the line with it. Raised and restored under the
            // outbox's lock, so a raise never crosses a restore.
            if self.level.load(Relaxed) < WARNING && !self.raised.load(Relaxed) {
                if let Some(f) = self.set_level.get() {
                    // SAFETY: the producer's own librdkafka function (a
                    // plain store); the producer lives while its log is bound.
                    unsafe { f(rk, WARNING) };
                    self.raised.store(true, Relaxed);
                }
            }
            drop(q);
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
        let app_level = log.level.load(Relaxed);
        if !carrier {
            if app_level < level && level <= WARNING {
                // Let through only by rdpart's raised level: not asked for.
                return;
            }
            if let Some(cb) = log.app_cb.get() {
                // SAFETY: the application's log_cb, with what librdkafka passed.
                unsafe { cb(rk, level, fac, buf) };
            }
            return;
        }
        let lines: Vec<(i32, String)> = {
            let mut q = lock(&log.outbox);
            if log.raised.load(Relaxed) {
                if let Some(f) = log.set_level.get() {
                    // SAFETY: the producer's own librdkafka function, on a
                    // producer that is polling its log.
                    unsafe { f(rk as *mut rd_kafka_t, app_level) };
                }
                log.raised.store(false, Relaxed);
            }
            q.drain(..).collect()
        };
        let dropped = log.dropped.swap(0, Relaxed);
        if dropped > 0 {
            // Said, not silently lost: the oldest lines made room.
            log.call(
                rk as *mut rd_kafka_t,
                WARNING,
                &format!(
                    "rdpart: {dropped} earlier rdpart lines were dropped: more than {OUTBOX} \
                     waited for the log queue (the application produced nothing meanwhile)"
                ),
            );
        }
        for (level, msg) in lines {
            log.call(rk as *mut rd_kafka_t, level, &msg);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    static SEEN: Mutex<Vec<(i32, String)>> = Mutex::new(Vec::new());

    unsafe extern "C" fn app_log(
        _rk: *const rd_kafka_t,
        level: c_int,
        _f: *const c_char,
        b: *const c_char,
    ) {
        // SAFETY: the relay passes a C string.
        let b = unsafe { CStr::from_ptr(b) }.to_string_lossy().into_owned();
        lock(&SEEN).push((level, b));
    }

    #[test]
    fn lines_pushed_out_of_a_full_outbox_are_said_not_lost() {
        let log = Arc::new(Log::default());
        let rk = 0x1000 as *mut rd_kafka_t; // a key only: never dereferenced
        assert!(log.bind(rk, app_log as *const () as usize, 7, true, None));
        for i in 0..80 {
            log.write(NOTICE, &format!("rdpart: notice {i}"), false);
        }
        // SAFETY: librdkafka's carrier line, as it logs a failed on_send.
        unsafe {
            relay(
                rk,
                4,
                c"ICFAIL".as_ptr(),
                c"[thrd:app]: Interceptor rdpart failed on_send for message: Local: Interrupted system call".as_ptr(),
            )
        };
        log.unbind();
        let seen = lock(&SEEN).clone();
        assert_eq!(seen.len(), 65, "{seen:?}");
        assert_eq!(seen[0].0, WARNING);
        assert!(
            seen[0].1.contains("16 earlier rdpart lines were dropped"),
            "{}",
            seen[0].1
        );
        assert_eq!(seen[1].1, "rdpart: notice 16");
        assert_eq!(seen[64].1, "rdpart: notice 79");
    }
}
