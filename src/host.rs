//! Finding, at run time, the librdkafka that is already in the process.
//!
//! rdpart carries no librdkafka and links none (a second copy in one
//! process corrupts memory; see FACTS.md). It looks functions up by name:
//!
//! - for a plugin, in the very copy whose code called `conf_init` (the first
//!   stack frame outside this library, `dladdr`, `dlopen(RTLD_NOLOAD)`), so
//!   confluent-kafka's private, renamed librdkafka is found;
//! - otherwise in the global scope (`RTLD_DEFAULT`), then in every loaded
//!   object (`dl_iterate_phdr`).

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Opaque librdkafka topic handle.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct rd_kafka_topic_t {
    _private: [u8; 0],
}

/// `rd_kafka_topic_partition_available()`.
pub type AvailableFn = unsafe extern "C" fn(*const rd_kafka_topic_t, i32) -> c_int;

/// The symbol every partitioner may call (FACTS.md).
pub const AVAILABLE: &CStr = c"rd_kafka_topic_partition_available";

extern "C" {
    // glibc <execinfo.h>
    fn backtrace(buffer: *mut *mut c_void, size: c_int) -> c_int;
}

/// A `dlopen` handle on one loaded object, closed on drop. Holding it does
/// not load anything: it is only ever made with `RTLD_NOLOAD`.
pub struct Library(*mut c_void);

impl Library {
    /// The already-loaded object at `path` (NULL: the main program).
    fn loaded(path: *const c_char) -> Option<Library> {
        // SAFETY: RTLD_NOLOAD never loads a new object; path is NULL or a C string.
        let h = unsafe { libc::dlopen(path, libc::RTLD_NOW | libc::RTLD_NOLOAD) };
        (!h.is_null()).then(|| Library(h))
    }

    /// The address of `name` in this object's lookup scope.
    pub fn sym(&self, name: &CStr) -> Option<*mut c_void> {
        // SAFETY: self.0 is a live handle, name a C string.
        let p = unsafe { libc::dlsym(self.0, name.as_ptr()) };
        (!p.is_null()).then_some(p)
    }

    /// The librdkafka whose code called into this library: the first frame
    /// of the current stack outside rdpart that belongs to an object
    /// defining librdkafka's functions.
    pub fn calling_librdkafka() -> Option<Library> {
        let mut frames = [std::ptr::null_mut::<c_void>(); 32];
        // SAFETY: the buffer holds 32 entries.
        let n = unsafe { backtrace(frames.as_mut_ptr(), frames.len() as c_int) };
        let own = object_base(Library::calling_librdkafka as *const c_void)?;
        for &pc in &frames[..n.max(0) as usize] {
            let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
            // SAFETY: info is a valid Dl_info to fill.
            if unsafe { libc::dladdr(pc, &mut info) } == 0 || info.dli_fbase == own {
                continue;
            }
            // The first foreign frame should be librdkafka's plugin loader;
            // keep looking if it is not (an unexpected wrapper in between).
            // The main program is not found by its path: use its handle.
            let lib = Library::loaded(info.dli_fname).or_else(|| Library::loaded(std::ptr::null()));
            if let Some(lib) = lib.filter(|l| l.sym(c"rd_kafka_conf_set").is_some()) {
                return Some(lib);
            }
        }
        None
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: balances the dlopen in `loaded`.
        unsafe { libc::dlclose(self.0) };
    }
}

fn object_base(addr: *const c_void) -> Option<*mut c_void> {
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: info is a valid Dl_info to fill.
    (unsafe { libc::dladdr(addr, &mut info) } != 0).then_some(info.dli_fbase)
}

/// `name` from the global scope, else from any loaded object.
pub fn find_anywhere(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: RTLD_DEFAULT lookup of a C string.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    if !p.is_null() {
        return Some(p);
    }
    struct Search<'a> {
        name: &'a CStr,
        found: *mut c_void,
    }
    unsafe extern "C" fn each(info: *mut libc::dl_phdr_info, _: usize, data: *mut c_void) -> c_int {
        // SAFETY: dl_iterate_phdr passes a valid info and our own data pointer.
        let (info, search) = unsafe { (&*info, &mut *(data as *mut Search)) };
        if info.dlpi_name.is_null() || unsafe { *info.dlpi_name } == 0 {
            return 0;
        }
        if let Some(p) = Library::loaded(info.dlpi_name).and_then(|l| l.sym(search.name)) {
            search.found = p;
            return 1;
        }
        0
    }
    let mut search = Search {
        name,
        found: std::ptr::null_mut(),
    };
    // SAFETY: the callback only reads what it is given.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut search as *mut Search as *mut c_void) };
    (!search.found.is_null()).then_some(search.found)
}

const UNRESOLVED: usize = 0;
const MISSING: usize = 1;
static GLOBAL_AVAILABLE: AtomicUsize = AtomicUsize::new(UNRESOLVED);

/// `rd_kafka_topic_partition_available` from the process, looked up once.
#[inline]
pub fn global_available() -> Option<AvailableFn> {
    let mut v = GLOBAL_AVAILABLE.load(Ordering::Acquire);
    if v == UNRESOLVED {
        v = find_anywhere(AVAILABLE).map_or(MISSING, |p| p as usize);
        GLOBAL_AVAILABLE.store(v, Ordering::Release);
    }
    // SAFETY: a non-sentinel value is the address of the librdkafka function.
    (v != MISSING).then(|| unsafe { std::mem::transmute::<usize, AvailableFn>(v) })
}
