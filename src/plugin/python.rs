//! The Python package's partitioner, called through CPython's own C API
//! (found in the process with dlsym, stable-ABI functions only): much
//! cheaper per message than a ctypes callback. `rdpart.partitioner.python`
//! is the address of the package's bridge (`id()` of a callable), kept
//! alive by the package; the bridge calls the user's function and answers
//! with an int (a partition, or -1: the strategy), bytes (a routing key) or
//! a str (why the message fails).

use std::ffi::{c_char, c_int, c_long, c_void, CStr};

type Obj = *mut c_void;

/// The CPython functions rdpart calls.
#[derive(Clone, Copy)]
pub struct Python {
    gil_check: unsafe extern "C" fn() -> c_int,
    gil_ensure: unsafe extern "C" fn() -> c_int,
    gil_release: unsafe extern "C" fn(c_int),
    save_thread: unsafe extern "C" fn() -> *mut c_void,
    restore_thread: unsafe extern "C" fn(*mut c_void),
    is_initialized: unsafe extern "C" fn() -> c_int,
    is_finalizing: Option<unsafe extern "C" fn() -> c_int>,
    none: Obj,
    incref: unsafe extern "C" fn(Obj),
    decref: unsafe extern "C" fn(Obj),
    bytes: unsafe extern "C" fn(*const c_char, isize) -> Obj,
    unicode: unsafe extern "C" fn(*const c_char, isize, *const c_char) -> Obj,
    long: unsafe extern "C" fn(c_long) -> Obj,
    tuple_new: unsafe extern "C" fn(isize) -> Obj,
    tuple_set: unsafe extern "C" fn(Obj, isize, Obj) -> c_int,
    list_new: unsafe extern "C" fn(isize) -> Obj,
    list_set: unsafe extern "C" fn(Obj, isize, Obj) -> c_int,
    call: unsafe extern "C" fn(Obj, Obj) -> Obj,
    get_attr: unsafe extern "C" fn(Obj, *const c_char) -> Obj,
    as_long: unsafe extern "C" fn(Obj) -> c_long,
    as_bytes: unsafe extern "C" fn(Obj, *mut *mut c_char, *mut isize) -> c_int,
    as_utf8: unsafe extern "C" fn(Obj, *mut isize) -> *const c_char,
    err_occurred: unsafe extern "C" fn() -> Obj,
    err_clear: unsafe extern "C" fn(),
}

// SAFETY: function pointers and the address of CPython's None object, which
// never change; calling any of them takes the GIL first, as CPython wants.
unsafe impl Send for Python {}
// SAFETY: as above; nothing in it is ever written after find().
unsafe impl Sync for Python {}

/// What the bridge answered.
pub enum Reply {
    Partition(i64),
    Key(Vec<u8>),
    Failed(String),
}

/// A message's headers: (name, value) pairs.
pub type Headers<'a> = Vec<(&'a [u8], Option<&'a [u8]>)>;

/// A message, as the bridge gets it.
pub struct Message<'a> {
    pub topic: &'a [u8],
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    /// (name, value) pairs; None when the message has no headers.
    pub headers: Option<Headers<'a>>,
    pub partition_cnt: i32,
    pub available: &'a [i32],
}

/// A symbol's address as the function pointer type `F`.
///
/// # Safety
/// `F` is the function's true signature.
unsafe fn cast<F: Copy>(p: *mut c_void) -> F {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: the caller's contract; sizes checked.
    unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) }
}

/// CPython's C API in this process, looked up once (in on_new, never on a
/// placement); None when the process runs no CPython.
pub fn python() -> Option<&'static Python> {
    static PYTHON: std::sync::OnceLock<Option<Python>> = std::sync::OnceLock::new();
    PYTHON.get_or_init(Python::find).as_ref()
}

impl Python {
    /// CPython's functions, when this process runs CPython (3.3 or later).
    fn find() -> Option<Python> {
        let sym = |n: &CStr| {
            // SAFETY: a lookup of a C string in the global scope.
            let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, n.as_ptr()) };
            (!p.is_null()).then_some(p)
        };
        macro_rules! f {
            ($name:literal) => {
                // SAFETY: CPython's function of the field's signature
                // (Python.h, stable ABI).
                unsafe { cast(sym($name)?) }
            };
        }
        Some(Python {
            gil_check: f!(c"PyGILState_Check"),
            gil_ensure: f!(c"PyGILState_Ensure"),
            gil_release: f!(c"PyGILState_Release"),
            save_thread: f!(c"PyEval_SaveThread"),
            restore_thread: f!(c"PyEval_RestoreThread"),
            is_initialized: f!(c"Py_IsInitialized"),
            is_finalizing: sym(c"Py_IsFinalizing")
                .or_else(|| sym(c"_Py_IsFinalizing"))
                // SAFETY: as above.
                .map(|p| unsafe { cast(p) }),
            none: sym(c"_Py_NoneStruct")?,
            incref: f!(c"Py_IncRef"),
            decref: f!(c"Py_DecRef"),
            bytes: f!(c"PyBytes_FromStringAndSize"),
            unicode: f!(c"PyUnicode_DecodeUTF8"),
            long: f!(c"PyLong_FromLong"),
            tuple_new: f!(c"PyTuple_New"),
            tuple_set: f!(c"PyTuple_SetItem"),
            list_new: f!(c"PyList_New"),
            list_set: f!(c"PyList_SetItem"),
            call: f!(c"PyObject_CallObject"),
            get_attr: f!(c"PyObject_GetAttrString"),
            as_long: f!(c"PyLong_AsLong"),
            as_bytes: f!(c"PyBytes_AsStringAndSize"),
            as_utf8: f!(c"PyUnicode_AsUTF8AndSize"),
            err_occurred: f!(c"PyErr_Occurred"),
            err_clear: f!(c"PyErr_Clear"),
        })
    }

    /// Runs `f` with the GIL released when this thread holds it.
    pub fn released<R>(&self, f: impl FnOnce() -> R) -> R {
        // SAFETY: CPython's own calls; the state saved is restored on the
        // same thread.
        unsafe {
            if (self.gil_check)() != 1 {
                return f();
            }
            let state = (self.save_thread)();
            let r = f();
            (self.restore_thread)(state);
            r
        }
    }

    /// Whether Python can run code now (not before start, not while the
    /// interpreter finalizes).
    fn alive(&self) -> bool {
        // SAFETY: CPython's own calls, safe without the GIL.
        unsafe { (self.is_initialized)() == 1 && self.is_finalizing.is_none_or(|f| f() == 0) }
    }

    /// A new reference to bytes (None for None).
    unsafe fn bytes_or_none(&self, b: Option<&[u8]>) -> Obj {
        match b {
            // SAFETY: the caller holds the GIL; a valid buffer.
            Some(b) => unsafe { (self.bytes)(b.as_ptr() as *const c_char, b.len() as isize) },
            None => {
                // SAFETY: as above.
                unsafe { (self.incref)(self.none) };
                self.none
            }
        }
    }

    /// Calls `bridge(topic, key, value, headers, partition_count,
    /// available)` on this thread, taking the GIL for the call.
    ///
    /// # Safety
    /// `bridge` is a live Python callable (the package keeps it alive).
    pub unsafe fn place(&self, bridge: usize, m: &Message) -> Reply {
        if !self.alive() {
            return Reply::Failed("the Python interpreter is finalizing".into());
        }
        // SAFETY: CPython's calls, under the GIL taken here; every new
        // reference is handed to a tuple (which steals it) or released.
        unsafe {
            let gil = (self.gil_ensure)();
            let args = (self.tuple_new)(6);
            if args.is_null() {
                (self.err_clear)();
                (self.gil_release)(gil);
                return Reply::Failed("out of memory".into());
            }
            let topic = (self.unicode)(
                m.topic.as_ptr() as *const c_char,
                m.topic.len() as isize,
                c"replace".as_ptr(),
            );
            (self.tuple_set)(args, 0, topic);
            (self.tuple_set)(args, 1, self.bytes_or_none(m.key));
            (self.tuple_set)(args, 2, self.bytes_or_none(m.value));
            let headers = match &m.headers {
                None => {
                    (self.incref)(self.none);
                    self.none
                }
                Some(hs) => {
                    let list = (self.list_new)(hs.len() as isize);
                    if !list.is_null() {
                        for (i, (name, value)) in hs.iter().enumerate() {
                            let pair = (self.tuple_new)(2);
                            if pair.is_null() {
                                continue;
                            }
                            let n = (self.unicode)(
                                name.as_ptr() as *const c_char,
                                name.len() as isize,
                                c"replace".as_ptr(),
                            );
                            (self.tuple_set)(pair, 0, n);
                            (self.tuple_set)(pair, 1, self.bytes_or_none(*value));
                            (self.list_set)(list, i as isize, pair);
                        }
                    }
                    list
                }
            };
            (self.tuple_set)(args, 3, headers);
            (self.tuple_set)(args, 4, (self.long)(m.partition_cnt as c_long));
            let avail = (self.tuple_new)(m.available.len() as isize);
            if !avail.is_null() {
                for (i, &p) in m.available.iter().enumerate() {
                    (self.tuple_set)(avail, i as isize, (self.long)(p as c_long));
                }
            }
            (self.tuple_set)(args, 5, avail);
            let r = if (self.err_occurred)().is_null() {
                (self.call)(bridge as Obj, args)
            } else {
                std::ptr::null_mut()
            };
            (self.decref)(args);
            let reply = self.reply(r);
            if !r.is_null() {
                (self.decref)(r);
            }
            (self.gil_release)(gil);
            reply
        }
    }

    /// The bridge's answer as a Reply (the GIL held).
    unsafe fn reply(&self, r: Obj) -> Reply {
        // SAFETY: the caller holds the GIL; r is NULL or a live object.
        unsafe {
            if r.is_null() {
                (self.err_clear)();
                return Reply::Failed("the partitioner's bridge raised".into());
            }
            let n = (self.as_long)(r);
            if (self.err_occurred)().is_null() {
                #[allow(clippy::unnecessary_cast)] // c_long is i32 on some targets
                return Reply::Partition(n as i64);
            }
            (self.err_clear)();
            let (mut buf, mut len) = (std::ptr::null_mut::<c_char>(), 0isize);
            if (self.as_bytes)(r, &mut buf, &mut len) == 0 && !buf.is_null() {
                return Reply::Key(
                    std::slice::from_raw_parts(buf as *const u8, len as usize).to_vec(),
                );
            }
            (self.err_clear)();
            let s = (self.as_utf8)(r, &mut len);
            if !s.is_null() {
                let text = std::slice::from_raw_parts(s as *const u8, len as usize);
                return Reply::Failed(String::from_utf8_lossy(text).into_owned());
            }
            (self.err_clear)();
            Reply::Failed("the partitioner's bridge answered something else".into())
        }
    }

    /// Calls `bridge.close()` once, on the thread that destroys the
    /// producer (with the GIL taken), unless Python is finalizing.
    ///
    /// # Safety
    /// As for `place`.
    pub unsafe fn close(&self, bridge: usize) {
        if !self.alive() {
            return;
        }
        // SAFETY: as in place().
        unsafe {
            let gil = (self.gil_ensure)();
            let m = (self.get_attr)(bridge as Obj, c"close".as_ptr());
            if m.is_null() {
                (self.err_clear)();
            } else {
                let r = (self.call)(m, std::ptr::null_mut());
                if r.is_null() {
                    (self.err_clear)();
                } else {
                    (self.decref)(r);
                }
                (self.decref)(m);
            }
            (self.gil_release)(gil);
        }
    }
}
