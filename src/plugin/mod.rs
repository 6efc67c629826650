//! The librdkafka plugin: `plugin.library.paths=librdpart` installs an
//! rdpart partitioner in any librdkafka producer, configured by `rdpart.*`
//! properties (the same as `rdpart_conf_set`'s). This file: `conf_init`,
//! which makes the instance (`instance.rs`) of each conf and installs the
//! partitioner (`partition.rs`), which finds its producer and topic in the
//! registry (registry.rs), never in the topic opaque (the application's).
//! `api.rs` binds to the librdkafka that loaded the plugin, `properties.rs`
//! claims properties, `interceptors.rs` has every hook in the order
//! librdkafka calls them, `log.rs` tells the user. docs/plugin.md has what
//! `conf_init` does, step by step.

#![allow(clippy::missing_safety_doc)]

mod api;
mod custom;
mod instance;
mod interceptors;
mod leaders;
mod log;
mod partition;
mod properties;
mod python;

pub use properties::claim;

use crate::boundary::{boundary, c_string, write_errstr, write_stderr};
use crate::config::{parse_int, Config, STICKY_LINGER_MS};
use crate::loader::Library;
use crate::sys::*;
use api::Api;
use instance::Instance;
use partition::plugin_partition;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// The plugin entry point librdkafka looks up after dlopen().
#[no_mangle]
pub unsafe extern "C" fn conf_init(
    conf: *mut rd_kafka_conf_t,
    plug_opaquep: *mut *mut c_void,
    errstr: *mut c_char,
    errstr_size: usize,
) -> rd_kafka_resp_err_t {
    let result = boundary(
        Err("rdpart: internal error in conf_init".to_string()),
        || {
            // SAFETY: conf is what librdkafka passed.
            unsafe { init(conf) }
        },
    );
    match result {
        Ok(()) => {
            if !plug_opaquep.is_null() {
                // SAFETY: librdkafka passes a valid out-pointer.
                unsafe { *plug_opaquep = std::ptr::null_mut() };
            }
            ERR_NO_ERROR
        }
        Err(msg) => {
            // SAFETY: librdkafka's errstr buffer.
            unsafe { write_errstr(errstr, errstr_size, &msg) };
            ERR_INVALID_ARG
        }
    }
}

unsafe fn init(conf: *mut rd_kafka_conf_t) -> Result<(), String> {
    if conf.is_null() {
        return Err("rdpart: conf_init called with a NULL conf".into());
    }
    let lib =
        Library::caller().ok_or("rdpart: cannot find the librdkafka that loaded this plugin")?;
    let api = Api::load(&lib)?;
    drop(lib);
    let inst = Box::new(Instance {
        config: std::sync::Mutex::new(Config::default()),
        part: std::sync::OnceLock::new(),
        api,
        log: Default::default(),
        foreign_default: AtomicBool::new(false),
        leaders: std::sync::OnceLock::new(),
        brokers: Default::default(),
        custom: Default::default(),
    });
    let api = &inst.api;

    // Everything that can fail is checked before anything is registered.
    // SAFETY: the conf librdkafka is initialising, used by no other thread.
    if let Some(other) = unsafe { inst.other_copy(conf) } {
        return Err(format!(
            "rdpart: another copy of rdpart ({other}) is already installed on this \
             configuration; name librdpart once in plugin.library.paths (this copy is {})",
            own_path()
        ));
    }
    // SAFETY: as above.
    unsafe { inst.check_default_topic_conf(conf) }
        .map_err(|m| format!("{m} (a partitioner was set before plugin.library.paths)"))?;
    let mut config = Config::default();
    // RDPART_CONFIG: rdpart's properties for hosts that cannot set
    // plugin.library.paths before them (properties kept in a hash map).
    properties::from_env(&mut config)?;
    if let Some(v) = api.get(conf, c"sticky.partitioning.linger.ms") {
        // Set on the conf before the plugin loaded: rdpart's sticky time,
        // which wins over RDPART_CONFIG as every property set on the conf
        // does. librdkafka's default (10, rdpart's too) is no setting.
        match parse_int("sticky.partitioning.linger.ms", &v, STICKY_LINGER_MS) {
            Ok(0 | 10) | Err(_) => {}
            Ok(ms) => config.run.linger_ms = ms,
        }
    }
    inst.check_racks(&config)
        .map_err(|m| format!("RDPART_CONFIG: {m}"))?;
    *inst.config() = config;
    let mut err = [0 as c_char; 256];
    // SAFETY: a valid conf, C strings, and a buffer of the size given.
    let res = unsafe {
        (api.conf_set)(
            conf,
            c"sticky.partitioning.linger.ms".as_ptr(),
            c"0".as_ptr(),
            err.as_mut_ptr(),
            err.len(),
        )
    };
    if res != RD_KAFKA_CONF_OK {
        return Err(format!(
            "rdpart: cannot set sticky.partitioning.linger.ms=0: {}",
            // SAFETY: librdkafka NUL-terminates errstr.
            unsafe { c_string(err.as_ptr()) }
        ));
    }
    warn_old_librdkafka(api);

    let inst = Box::into_raw(inst);
    let opaque = inst as *mut c_void;
    // SAFETY: inst is live until on_conf_destroy frees it.
    let api = unsafe { &(*inst).api };
    // SAFETY: valid conf, name and callbacks; inst outlives the conf.
    match unsafe {
        (api.add_on_conf_set)(conf, c"rdpart".as_ptr(), interceptors::on_conf_set, opaque)
    } {
        ERR_NO_ERROR => {}
        ERR_CONFLICT => {
            // rdpart is already installed on this conf: by this very
            // library (named twice in plugin.library.paths, under two
            // spellings), which is fine, or by another file of it.
            // SAFETY: inst is ours and registered nowhere.
            let inst = unsafe { Box::from_raw(inst) };
            // SAFETY: the conf librdkafka is initialising.
            return if unsafe { inst.installed_here(conf) } {
                Ok(())
            } else {
                Err(format!(
                    "rdpart: another copy of rdpart (a different file) is already installed \
                     on this configuration; name librdpart once in plugin.library.paths \
                     (this copy is {})",
                    own_path()
                ))
            };
        }
        e => {
            // SAFETY: as above.
            drop(unsafe { Box::from_raw(inst) });
            return Err(format!(
                "rdpart: cannot add the on_conf_set interceptor (error {e})"
            ));
        }
    }
    // From here on the conf refers to inst and this code: succeed. If a
    // hook cannot be added (it always can), inst is leaked, not freed.
    // SAFETY: as above.
    unsafe {
        (api.add_on_conf_destroy)(
            conf,
            c"rdpart".as_ptr(),
            interceptors::on_conf_destroy,
            opaque,
        );
        (api.add_on_new)(conf, c"rdpart".as_ptr(), interceptors::on_new, opaque);
        (*inst).install_partitioner(conf);
    }
    Ok(())
}

/// librdkafka before 2.13.0 frees a conf's interceptor state when
/// rd_kafka_new() fails late, while the application's conf still points to
/// it (librdkafka issue #4142); destroying that conf then crashes, for any
/// plugin with interceptors. Nothing a plugin can do prevents it: say so,
/// once per process.
fn warn_old_librdkafka(api: &Api) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    // SAFETY: rd_kafka_version has no arguments.
    let v = unsafe { (api.version)() };
    if v < 0x020d_0000 && !WARNED.swap(true, Relaxed) {
        write_stderr(&format!(
            "rdpart: warning: librdkafka {} is older than 2.13.0: after rd_kafka_new() fails, \
             do not destroy its conf (it points to freed plugin state: librdkafka issue \
             #4142); upgrade to 2.13.0 or later to fix\n",
            api.version_string()
        ));
    }
}

impl Instance {
    /// The path of another rdpart library whose partitioner `conf`'s
    /// default topic conf already uses, if any.
    ///
    /// # Safety
    /// `conf` is a live conf that no other thread uses.
    unsafe fn other_copy(&self, conf: *mut rd_kafka_conf_t) -> Option<String> {
        // SAFETY: the caller's contract.
        let tconf = unsafe { (self.api.get_default_topic_conf)(conf) };
        if tconf.is_null() {
            return None;
        }
        let cb = api::parse_pointer(self.api.topic_get(tconf, c"partitioner_cb").as_deref());
        if cb == 0 || cb == plugin_partition as *const () as usize {
            return None;
        }
        let lib = Library::containing(cb as *const c_void)?;
        lib.own_sym(c"rdpart_version")
            .map(|_| lib.path().to_string())
    }
}

/// The path of this library, for messages.
fn own_path() -> String {
    // SAFETY: Dl_info is plain data, valid when zeroed.
    let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
    // SAFETY: info is a valid Dl_info to fill.
    if unsafe { libc::dladdr(own_path as *const c_void, &mut info) } != 0 {
        // SAFETY: dladdr gives a C string.
        unsafe { c_string(info.dli_fname) }
    } else {
        "librdpart".into()
    }
}
