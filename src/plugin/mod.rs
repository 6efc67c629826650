//! The librdkafka plugin: `plugin.library.paths=librdpart` installs an
//! rdpart partitioner in any librdkafka producer, configured by `rdpart.*`
//! properties (the same as `rdpart_conf_set`'s). This file: `conf_init`,
//! the instance it makes per conf, and the partitioner it installs, which
//! finds its producer and topic in the registry (registry.rs), never in the
//! topic opaque (the application's). `api.rs` binds to the librdkafka that
//! loaded the plugin, `properties.rs` claims properties, `interceptors.rs`
//! has every hook in the order librdkafka calls them, `log.rs` tells the
//! user. docs/plugin.md has what `conf_init` does, step by step.

#![allow(clippy::missing_safety_doc)]

mod api;
mod custom;
mod interceptors;
mod leaders;
mod log;
mod properties;
mod python;

pub use properties::claim;

use crate::boundary::{boundary, c_string, key, write_errstr, write_stderr};
use crate::config::{parse_int, Config, STICKY_LINGER_MS};
use crate::loader::Library;
use crate::partitioner::Partitioner;
use crate::registry::{place_plain, PRODUCERS};
use crate::strategy::{Strategy, TopicRef};
use crate::sys::*;
use api::Api;
use std::ffi::{c_char, c_void};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// One plugin instance per conf: the partitioner's configuration, the
/// librdkafka it lives in, and (once a producer is made from the conf)
/// that producer's log.
pub struct Instance {
    /// The configuration while the conf is being set (on_conf_set)...
    config: std::sync::Mutex<Config>,
    /// ...frozen into the partitioner when the producer is made (on_new).
    part: std::sync::OnceLock<Partitioner>,
    api: Api,
    /// The producer's log (log.rs), once a producer is made from the conf.
    log: std::sync::Arc<log::Log>,
    /// The producer's default topic conf names another partitioner (said
    /// in on_new), which then places the topics made from it.
    foreign_default: AtomicBool,
    /// The thread that learns leaders and their racks (leaders.rs), made
    /// in on_new, started by the first topic that needs it.
    leaders: std::sync::OnceLock<leaders::Watcher>,
    /// The producer's brokers' round trips (adaptive), from on_request_sent
    /// and on_response_received.
    brokers: std::sync::Arc<crate::strategy::Brokers>,
    /// The application's own partitioner, if it set one (custom.rs).
    custom: custom::Custom,
}

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

/// The partitioner the plugin installs: the producer's configuration and
/// the topic's state come from the registry, never from the topic opaque.
pub unsafe extern "C" fn plugin_partition(
    rkt: *const rd_kafka_topic_t,
    keydata: *const c_void,
    keylen: usize,
    partition_cnt: i32,
    _rkt_opaque: *mut c_void,
    msg_opaque: *mut c_void,
) -> i32 {
    if partition_cnt < 1 {
        return PARTITION_UA;
    }
    boundary(PARTITION_UA, || {
        match PRODUCERS.get(rkt as usize).and_then(|t| {
            // SAFETY: a registered topic's owner is the live instance of
            // the producer placing this message (its on_send registered it).
            unsafe { Instance::from_opaque(t.owner as *const c_void) }.map(|i| (t, i))
        }) {
            Some((t, inst)) => {
                if !t.placed.load(Relaxed) {
                    t.placed.store(true, Relaxed);
                }
                let place = |key: crate::boundary::Key| {
                    inst.part()
                        .place(rkt, TopicRef::Known(&t.state), key, partition_cnt as u32)
                        as i32
                };
                if inst.custom.is_set() {
                    return custom::partition(
                        inst,
                        t,
                        rkt,
                        keydata,
                        keylen,
                        msg_opaque,
                        partition_cnt,
                        place,
                    );
                }
                // SAFETY: librdkafka's contract for keydata/keylen.
                place(unsafe { key(keydata, keylen) })
            }
            // A topic no on_send registered: not produced through a plugin
            // producer (a direct call). Place as the default would.
            // SAFETY: the callback contract, passed on.
            None => unsafe {
                place_plain::<{ Strategy::Sticky as u8 }>(rkt, keydata, keylen, partition_cnt)
            },
        }
    })
}

impl Instance {
    /// The configuration being set (before the producer is made).
    fn config(&self) -> std::sync::MutexGuard<'_, Config> {
        self.config.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The partitioner, its configuration frozen: in on_new, or by the
    /// first reader (none comes before on_new). Once frozen, on_conf_set
    /// refuses rdpart's properties (`frozen`).
    #[inline]
    fn part(&self) -> &Partitioner {
        self.part.get_or_init(|| {
            Partitioner::new(
                self.config().clone(),
                Some(self.api.available),
                Some(self.api.topic_name),
            )
        })
    }

    /// Err when `config` asks for rack awareness that this librdkafka
    /// cannot give.
    /// Whether the configuration is frozen (a producer was made from the conf).
    fn frozen(&self) -> bool {
        self.part.get().is_some()
    }

    fn check_racks(&self, config: &Config) -> Result<(), String> {
        if config.rack_aware && self.api.racks.is_none() {
            return Err(format!(
                "\"rdpart.rack.aware\": true needs librdkafka 2.3.0 or later (DescribeTopics, \
                 to learn the leaders' racks); this is librdkafka {} ({}): set false or upgrade",
                self.api.version_string(),
                self.api.path
            ));
        }
        Ok(())
    }

    /// The instance an interceptor's `ic_opaque` (or a topic's owner) is.
    ///
    /// # Safety
    /// `opaque` is NULL or the opaque conf_init registered, live (its conf
    /// is not destroyed).
    #[inline]
    unsafe fn from_opaque<'a>(opaque: *const c_void) -> Option<&'a Instance> {
        // SAFETY: the caller's contract.
        unsafe { (opaque as *const Instance).as_ref() }
    }

    /// Logs `msg` (which starts with "rdpart: ") at syslog `level` on the
    /// producer's log (log.rs).
    pub fn log(&self, level: i32, msg: &str) {
        self.log.write(level, msg, false)
    }
}
