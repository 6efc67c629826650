//! Finding, without linking it, the librdkafka already in the process
//! (docs/loading.md):
//!
//! - the plugin binds to the object whose code called `conf_init`
//!   ([`Library::caller`]), accepting only symbols that object defines;
//! - the plain callbacks and `rdpart_new()` partitioners use one
//!   process-wide `rd_kafka_topic_partition_available` (and topic name
//!   function), resolved when librdpart is loaded ([`resolve_at_load`]) or
//!   handed over with `rdpart_set_available()`. No partitioner ever calls
//!   the dynamic loader.

use crate::atomic::AtomicFn;
use crate::boundary::write_stderr;
use crate::sys::{AvailableFn, NameFn};
use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The symbol every partitioner may call.
pub const AVAILABLE: &CStr = c"rd_kafka_topic_partition_available";
mod glibc {
    use std::ffi::{c_int, c_void};
    extern "C" {
        // <execinfo.h>
        pub fn backtrace(buffer: *mut *mut c_void, size: c_int) -> c_int;
    }
}

/// A loaded object: its `dlopen` handle (closed on drop; only ever made
/// with `RTLD_NOLOAD`, so holding it loads nothing), base address and path.
pub struct Library {
    handle: *mut c_void,
    base: *mut c_void,
    path: String,
}

impl Library {
    /// The already-loaded object that contains `addr`.
    pub fn containing(addr: *const c_void) -> Option<Library> {
        let info = dladdr(addr)?;
        let name = if info.dli_fname.is_null() {
            String::new()
        } else {
            // SAFETY: dladdr gives a C string.
            unsafe { CStr::from_ptr(info.dli_fname) }
                .to_string_lossy()
                .into_owned()
        };
        // SAFETY: RTLD_NOLOAD never loads a new object; the path is the
        // object's own. The main program may not be found by its path:
        // then use its handle (NULL).
        let mut h = unsafe { libc::dlopen(info.dli_fname, libc::RTLD_NOW | libc::RTLD_NOLOAD) };
        if h.is_null() {
            // SAFETY: as above: the main program's handle.
            h = unsafe { libc::dlopen(std::ptr::null(), libc::RTLD_NOW | libc::RTLD_NOLOAD) };
        }
        (!h.is_null()).then(|| Library {
            handle: h,
            base: info.dli_fbase,
            path: if name.is_empty() {
                "the main program".into()
            } else {
                name
            },
        })
    }

    /// Where the object is, for messages.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The address of `name` if this object itself defines it (not another
    /// object in its lookup scope).
    pub fn own_sym(&self, name: &CStr) -> Option<*mut c_void> {
        // SAFETY: a live handle and a C string.
        let p = unsafe { libc::dlsym(self.handle, name.as_ptr()) };
        if p.is_null() {
            return None;
        }
        (dladdr(p)?.dli_fbase == self.base).then_some(p)
    }

    /// The object whose code called into this library: the first frame of
    /// the current stack outside rdpart.
    pub fn caller() -> Option<Library> {
        let mut frames = [std::ptr::null_mut::<c_void>(); 32];
        // SAFETY: the buffer holds 32 entries.
        let n = unsafe { glibc::backtrace(frames.as_mut_ptr(), frames.len() as c_int) };
        let own = dladdr(Library::caller as *const c_void)?.dli_fbase;
        frames[..n.max(0) as usize]
            .iter()
            .find(|&&pc| dladdr(pc).is_some_and(|i| i.dli_fbase != own))
            .and_then(|&pc| Library::containing(pc))
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: balances the dlopen in `containing`.
        unsafe { libc::dlclose(self.handle) };
    }
}

fn dladdr(addr: *const c_void) -> Option<libc::Dl_info> {
    // SAFETY: Dl_info is plain data, valid when zeroed.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: info is a valid Dl_info to fill.
    (unsafe { libc::dladdr(addr, &mut info) } != 0).then_some(info)
}

/// The process-wide availability function: the one the application handed
/// over, else the one found at load.
static GIVEN: AtomicFn<AvailableFn> = AtomicFn::none();
static FOUND: AtomicFn<AvailableFn> = AtomicFn::none();
/// `rd_kafka_topic_name` of the same librdkafka as FOUND.
static FOUND_NAME: AtomicFn<NameFn> = AtomicFn::none();
/// The addresses of the object FOUND is in: a partitioner called from
/// code outside them is called by another librdkafka (one linked
/// statically, without exporting its functions), whose topics FOUND must
/// never be handed.
static FOUND_LO: AtomicUsize = AtomicUsize::new(0);
static FOUND_HI: AtomicUsize = AtomicUsize::new(0);
static WARNED: AtomicBool = AtomicBool::new(false);

/// Resolves the availability and topic name functions from the global
/// scope, with the address range of the librdkafka that has them. Called
/// once, when librdpart is loaded (process.rs).
pub fn resolve_at_load() {
    // SAFETY: RTLD_DEFAULT lookups of C strings.
    let (p, name) = unsafe {
        (
            libc::dlsym(libc::RTLD_DEFAULT, AVAILABLE.as_ptr()),
            libc::dlsym(libc::RTLD_DEFAULT, c"rd_kafka_topic_name".as_ptr()),
        )
    };
    if p.is_null() {
        return;
    }
    if let Some((lo, hi)) = object_range(p) {
        FOUND_LO.store(lo, Ordering::Relaxed);
        FOUND_HI.store(hi, Ordering::Relaxed);
    }
    if object_range(name) == object_range(p) {
        // SAFETY: that librdkafka's rd_kafka_topic_name.
        unsafe { FOUND_NAME.set_addr(name as usize) };
    }
    // SAFETY: that librdkafka's rd_kafka_topic_partition_available.
    unsafe { FOUND.set_addr(p as usize) };
}

/// The lowest and highest address of the loaded segments of the object
/// that contains `addr`.
fn object_range(addr: *const c_void) -> Option<(usize, usize)> {
    let base = dladdr(addr)?.dli_fbase as usize;
    let mut found = (base, 0usize, false);
    unsafe extern "C" fn each(
        info: *mut libc::dl_phdr_info,
        _size: usize,
        data: *mut c_void,
    ) -> c_int {
        // SAFETY: dl_iterate_phdr's arguments; data is our tuple.
        let (info, found) = unsafe { (&*info, &mut *(data as *mut (usize, usize, bool))) };
        let headers = if info.dlpi_phdr.is_null() {
            &[][..]
        } else {
            // SAFETY: dlpi_phnum program headers at dlpi_phdr.
            unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) }
        };
        let load = headers.iter().filter(|h| h.p_type == libc::PT_LOAD);
        let lo = load
            .clone()
            .map(|h| info.dlpi_addr as usize + h.p_vaddr as usize)
            .min();
        let hi = load
            .map(|h| info.dlpi_addr as usize + (h.p_vaddr + h.p_memsz) as usize)
            .max();
        match (lo, hi) {
            (Some(lo), Some(hi)) if lo <= found.0 && found.0 < hi => {
                *found = (lo, hi, true);
                1
            }
            _ => 0,
        }
    }
    // SAFETY: a callback of the right type and a pointer to our tuple.
    unsafe { libc::dl_iterate_phdr(Some(each), &mut found as *mut _ as *mut c_void) };
    found.2.then_some((found.0, found.1))
}

/// Whether a partitioner called from `caller` (its return address; 0:
/// unknown) is called by the librdkafka found at load.
#[inline]
fn called_by_found(caller: usize) -> bool {
    caller == 0
        || (FOUND_LO.load(Ordering::Relaxed) <= caller && caller < FOUND_HI.load(Ordering::Relaxed))
}

/// `rd_kafka_topic_name` for a partitioner called from `caller`, when the
/// librdkafka found at load is the caller. Never calls the loader.
#[inline]
pub fn topic_name_for(caller: usize) -> Option<NameFn> {
    FOUND_NAME.get().filter(|_| called_by_found(caller))
}

/// Hands over the availability function (None: back to the one found at load).
pub fn set_available(f: Option<AvailableFn>) {
    GIVEN.set(f);
}

/// The process-wide `rd_kafka_topic_partition_available` for a partitioner
/// called from `caller`: the one handed over, else the one found at load
/// when that librdkafka is the caller. Never calls the loader. When there
/// is none, says so once on stderr: partitions are then all treated as
/// available.
#[inline]
pub fn global_available(caller: usize) -> Option<AvailableFn> {
    let f = GIVEN
        .get()
        .or_else(|| FOUND.get().filter(|_| called_by_found(caller)));
    if f.is_none() {
        warn_unresolved();
    }
    f
}

#[cold]
fn warn_unresolved() {
    if !WARNED.swap(true, Ordering::Relaxed) {
        write_stderr(
            "rdpart: rdpart's callbacks cannot ask the librdkafka that calls them which \
             partitions have a leader (its rd_kafka_topic_partition_available was not in the \
             global scope when librdpart was loaded, or belongs to another copy of \
             librdkafka), so they treat every partition as available; call \
             rdpart_set_available(rd_kafka_topic_partition_available) before producing (or \
             link the program with -rdynamic)\n",
        );
    }
}

/// Says once on stderr that topic.strategy cannot see topic names.
#[cold]
pub fn warn_no_topic_names() {
    static NAMES_WARNED: AtomicBool = AtomicBool::new(false);
    if !NAMES_WARNED.swap(true, Ordering::Relaxed) {
        write_stderr(
            "rdpart: topic.strategy cannot read topic names: the librdkafka calling rdpart's \
             partitioner is not the one found in the global scope when librdpart was loaded \
             (linked statically, or another copy), so its topics get `strategy`; link the \
             program with -rdynamic, or use the plugin (plugin.library.paths)\n",
        );
    }
}

/// A symbol from the global scope (NULL: none). Calls the loader: only
/// while configuring, never from a partitioner.
pub fn global_symbol(name: &CStr) -> Option<*mut c_void> {
    // SAFETY: RTLD_DEFAULT lookup of a C string.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
    (!p.is_null()).then_some(p)
}

/// `rd_kafka_topic_name` from the global scope, for partitioners that
/// resolve a strategy per topic. Calls the loader: only while configuring
/// (rdpart_new), never from a partitioner.
pub fn global_topic_name() -> Option<NameFn> {
    let p = global_symbol(c"rd_kafka_topic_name")?;
    // SAFETY: that librdkafka function has this signature.
    Some(unsafe { std::mem::transmute::<*mut c_void, NameFn>(p) })
}
