//! Finding, without linking it, the librdkafka already in the process
//! (docs/loading.md):
//!
//! - the plugin binds to the object whose code called `conf_init`
//!   ([`Library::caller`]), accepting only symbols that object defines;
//! - the plain callbacks and `rdpart_new()` partitioners use one
//!   process-wide `rd_kafka_topic_partition_available` (and topic name
//!   function): the one handed over with `rdpart_set_available()`, else the
//!   one resolved when librdpart is loaded ([`resolve_at_load`]), kept only
//!   when the process links that librdkafka, so that it is the copy whose
//!   topics they are handed. No partitioner ever calls the dynamic loader.

use crate::atomic::AtomicFn;
use crate::boundary::write_stderr;
use crate::sys::{AvailableFn, NameFn};
use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};

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
    /// the current stack outside rdpart and outside the object that holds
    /// the process's `backtrace` (glibc's, or a sanitizer runtime's, whose
    /// interceptor is then the first frame). Cold: only while configuring.
    pub fn caller() -> Option<Library> {
        let mut frames = [std::ptr::null_mut::<c_void>(); 32];
        // SAFETY: the buffer holds 32 entries.
        let n = unsafe { glibc::backtrace(frames.as_mut_ptr(), frames.len() as c_int) };
        let own = dladdr(Library::caller as *const c_void)?.dli_fbase;
        let unwinder = global_symbol(c"backtrace")
            .and_then(|p| dladdr(p))
            .map(|i| i.dli_fbase);
        frames[..n.max(0) as usize]
            .iter()
            .find(|&&pc| {
                dladdr(pc).is_some_and(|i| i.dli_fbase != own && Some(i.dli_fbase) != unwinder)
            })
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
/// `rd_kafka_topic_partition_available` and `rd_kafka_topic_name` of the
/// librdkafka in the global scope at load, kept only when that librdkafka
/// is the process's own (see [`linked_by_the_process`]): then every topic
/// a partitioner is handed is one of its topics.
static FOUND: AtomicFn<AvailableFn> = AtomicFn::none();
static FOUND_NAME: AtomicFn<NameFn> = AtomicFn::none();
static WARNED: AtomicBool = AtomicBool::new(false);

/// Resolves the availability and topic name functions from the global
/// scope, keeping them when the process links that librdkafka. Called
/// once, when librdpart is loaded (process.rs).
pub fn resolve_at_load() {
    // SAFETY: RTLD_DEFAULT lookups of C strings.
    let (p, name) = unsafe {
        (
            libc::dlsym(libc::RTLD_DEFAULT, AVAILABLE.as_ptr()),
            libc::dlsym(libc::RTLD_DEFAULT, c"rd_kafka_topic_name".as_ptr()),
        )
    };
    if p.is_null() || !linked_by_the_process(p) {
        return;
    }
    if !name.is_null() && dladdr(name).map(|i| i.dli_fbase) == dladdr(p).map(|i| i.dli_fbase) {
        // SAFETY: that librdkafka's rd_kafka_topic_name.
        unsafe { FOUND_NAME.set_addr(name as usize) };
    }
    // SAFETY: that librdkafka's rd_kafka_topic_partition_available.
    unsafe { FOUND.set_addr(p as usize) };
}

/// Whether the librdkafka defining `symbol` is the one the process's code
/// calls: it is the main program itself (a librdkafka linked statically
/// and exported), or another loaded object names it (its SONAME) among the
/// libraries it needs (DT_NEEDED), as a program, librdkafka++ or a
/// wrapper linked with `-lrdkafka` does. A librdkafka that is only
/// dlopen()ed into the global scope, beside the program's own copy linked
/// statically and hidden, is not: its functions must never be handed that
/// copy's topics.
fn linked_by_the_process(symbol: *const c_void) -> bool {
    let objects = elf::objects();
    let Some(found) = objects.iter().position(|o| o.contains(symbol as usize)) else {
        return false;
    };
    if found == 0 {
        return true; // the main program
    }
    let Some(soname) = objects[found].soname.as_deref() else {
        return false;
    };
    objects
        .iter()
        .enumerate()
        .any(|(i, o)| i != found && o.needed.iter().any(|n| n.as_slice() == soname))
}

/// The loaded objects' address ranges and dynamic sections, read from
/// memory as the dynamic linker left them.
mod elf {
    use std::ffi::{c_int, c_void, CStr};

    pub struct Object {
        ranges: Vec<(usize, usize)>,
        pub soname: Option<Vec<u8>>,
        pub needed: Vec<Vec<u8>>,
    }

    impl Object {
        pub fn contains(&self, addr: usize) -> bool {
            self.ranges.iter().any(|&(lo, hi)| lo <= addr && addr < hi)
        }
    }

    /// An entry of a dynamic section (Elf64_Dyn; Elf32_Dyn on 32-bit).
    #[repr(C)]
    struct Dyn {
        tag: isize,
        val: usize,
    }
    const DT_NULL: isize = 0;
    const DT_NEEDED: isize = 1;
    const DT_STRTAB: isize = 5;
    const DT_SONAME: isize = 14;

    /// Every loaded object, the main program first (dl_iterate_phdr's order).
    pub fn objects() -> Vec<Object> {
        let mut all: Vec<Object> = Vec::new();
        unsafe extern "C" fn each(
            info: *mut libc::dl_phdr_info,
            _size: usize,
            data: *mut c_void,
        ) -> c_int {
            // SAFETY: dl_iterate_phdr's arguments; data is our Vec.
            let (info, all) = unsafe { (&*info, &mut *(data as *mut Vec<Object>)) };
            // SAFETY: as above: a loaded object's description.
            all.push(unsafe { read(info) });
            0
        }
        // SAFETY: a callback of the right type and a pointer to our Vec.
        unsafe { libc::dl_iterate_phdr(Some(each), &mut all as *mut _ as *mut c_void) };
        all
    }

    /// # Safety
    /// `info` is dl_iterate_phdr's description of a loaded object.
    unsafe fn read(info: &libc::dl_phdr_info) -> Object {
        let base = info.dlpi_addr as usize;
        let headers = if info.dlpi_phdr.is_null() {
            &[][..]
        } else {
            // SAFETY: dlpi_phnum program headers at dlpi_phdr.
            unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) }
        };
        let mut o = Object {
            ranges: Vec::new(),
            soname: None,
            needed: Vec::new(),
        };
        let mut dynamic = None;
        for h in headers {
            let at = base + h.p_vaddr as usize;
            match h.p_type {
                libc::PT_LOAD => o.ranges.push((at, at + h.p_memsz as usize)),
                libc::PT_DYNAMIC => dynamic = Some(at as *const Dyn),
                _ => {}
            }
        }
        let Some(mut d) = dynamic else { return o };
        let (mut strtab, mut soname, mut needed) = (0usize, None, Vec::new());
        loop {
            // SAFETY: a loaded object's dynamic section, ended by DT_NULL.
            let e = unsafe { &*d };
            match e.tag {
                DT_NULL => break,
                DT_STRTAB => strtab = e.val,
                DT_SONAME => soname = Some(e.val),
                DT_NEEDED => needed.push(e.val),
                _ => {}
            }
            // SAFETY: DT_NULL not reached: the next entry is in the section.
            d = unsafe { d.add(1) };
        }
        if strtab == 0 {
            return o;
        }
        // glibc relocates DT_STRTAB in place, except in read-only dynamic
        // sections (the vDSO's): an address below the base is an offset.
        if strtab < base {
            strtab += base;
        }
        let string = |off: usize| {
            // SAFETY: offsets into the object's string table, of C strings.
            unsafe { CStr::from_ptr((strtab + off) as *const std::ffi::c_char) }
                .to_bytes()
                .to_vec()
        };
        o.soname = soname.map(string);
        o.needed = needed.into_iter().map(string).collect();
        o
    }
}

/// `rd_kafka_topic_name` of the process's librdkafka, when it is known.
/// Never calls the loader.
#[inline]
pub fn topic_name() -> Option<NameFn> {
    FOUND_NAME.get()
}

/// Hands over the availability function (None: back to the one found at load).
pub fn set_available(f: Option<AvailableFn>) {
    GIVEN.set(f);
}

/// The process-wide `rd_kafka_topic_partition_available`: the one handed
/// over, else the process's own librdkafka's (see `resolve_at_load`). Never
/// calls the loader. When there is none, says so once on stderr:
/// partitions are then all treated as available.
#[inline]
pub fn global_available() -> Option<AvailableFn> {
    let f = GIVEN.get().or_else(|| FOUND.get());
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
             partitions have a leader (when librdpart was loaded, no librdkafka that the program \
             links was in the global scope: librdkafka linked statically, or only dlopen()ed), \
             so they treat every partition as available; call \
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
            "rdpart: topic.strategy cannot read topic names: when librdpart was loaded, no \
             librdkafka that the program links was in the global scope (librdkafka linked \
             statically, or only dlopen()ed), so its topics get `strategy`; link the program \
             with -rdynamic, or use the plugin (plugin.library.paths)\n",
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
