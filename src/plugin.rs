//! The librdkafka plugin: `plugin.library.paths=librdpart` installs an
//! rdpart partitioner in any librdkafka producer, configured by `rdpart.*`
//! properties (the same names and values as `rdpart_conf_set`).
//!
//! librdkafka calls `conf_init` for every conf that names the plugin,
//! copies made by `rd_kafka_conf_dup()` included. For each, it:
//! 1. binds to the librdkafka that called it (`host.rs`);
//! 2. sets `sticky.partitioning.linger.ms=0`, so NULL-key messages reach
//!    the partitioner instead of librdkafka's own sticky step;
//! 3. claims `rdpart.*` (and a later `sticky.partitioning.linger.ms`, taken
//!    as rdpart's sticky time) with an on_conf_set interceptor, and frees
//!    its state in on_conf_destroy (for a producer: when it is destroyed);
//! 4. sets `rdpart_partition` and its state as partitioner and opaque of
//!    the default topic conf, creating that conf only when there is none.
//!
//! `conf_init` is called by librdkafka only, with its documented arguments.

#![allow(clippy::missing_safety_doc)]

use crate::conf::{parse_int, Config, SetError, PREFIX, STICKY_LINGER_MS};
use crate::ffi::{
    boundary, rd_kafka_conf_res_t, rdpart_partition, rdpart_t, write_errstr, RD_KAFKA_CONF_INVALID,
    RD_KAFKA_CONF_OK, RD_KAFKA_CONF_UNKNOWN,
};
use crate::host::{rd_kafka_topic_t, AvailableFn, Library, AVAILABLE};
use crate::partitioner::Partitioner;
use std::ffi::{c_char, c_int, c_void, CStr};

#[allow(non_camel_case_types)]
#[repr(C)]
pub struct rd_kafka_conf_t {
    _private: [u8; 0],
}

#[allow(non_camel_case_types)]
#[repr(C)]
pub struct rd_kafka_topic_conf_t {
    _private: [u8; 0],
}

/// librdkafka's `rd_kafka_resp_err_t`.
#[allow(non_camel_case_types)]
pub type rd_kafka_resp_err_t = c_int;
const ERR_NO_ERROR: rd_kafka_resp_err_t = 0;
const ERR_INVALID_ARG: rd_kafka_resp_err_t = -186;
const ERR_CONFLICT: rd_kafka_resp_err_t = -173;

type PartitionerCb = unsafe extern "C" fn(
    *const rd_kafka_topic_t,
    *const c_void,
    usize,
    i32,
    *mut c_void,
    *mut c_void,
) -> i32;
type OnConfSet = unsafe extern "C" fn(
    *mut rd_kafka_conf_t,
    *const c_char,
    *const c_char,
    *mut c_char,
    usize,
    *mut c_void,
) -> rd_kafka_conf_res_t;
type OnConfDestroy = unsafe extern "C" fn(*mut c_void) -> rd_kafka_resp_err_t;

/// The librdkafka functions the plugin calls, from the copy that loaded it.
struct Api {
    conf_set: unsafe extern "C" fn(
        *mut rd_kafka_conf_t,
        *const c_char,
        *const c_char,
        *mut c_char,
        usize,
    ) -> rd_kafka_conf_res_t,
    get_default_topic_conf:
        unsafe extern "C" fn(*mut rd_kafka_conf_t) -> *mut rd_kafka_topic_conf_t,
    topic_conf_new: unsafe extern "C" fn() -> *mut rd_kafka_topic_conf_t,
    set_default_topic_conf: unsafe extern "C" fn(*mut rd_kafka_conf_t, *mut rd_kafka_topic_conf_t),
    set_partitioner_cb: unsafe extern "C" fn(*mut rd_kafka_topic_conf_t, PartitionerCb),
    set_topic_opaque: unsafe extern "C" fn(*mut rd_kafka_topic_conf_t, *mut c_void),
    add_on_conf_set: unsafe extern "C" fn(
        *mut rd_kafka_conf_t,
        *const c_char,
        OnConfSet,
        *mut c_void,
    ) -> rd_kafka_resp_err_t,
    add_on_conf_destroy: unsafe extern "C" fn(
        *mut rd_kafka_conf_t,
        *const c_char,
        OnConfDestroy,
        *mut c_void,
    ) -> rd_kafka_resp_err_t,
}

impl Api {
    fn load(lib: &Library) -> Result<Api, String> {
        // SAFETY: each symbol has the signature librdkafka's rdkafka.h
        // declares for it, which is the field's type.
        unsafe {
            Ok(Api {
                conf_set: func(lib, c"rd_kafka_conf_set")?,
                get_default_topic_conf: func(lib, c"rd_kafka_conf_get_default_topic_conf")?,
                topic_conf_new: func(lib, c"rd_kafka_topic_conf_new")?,
                set_default_topic_conf: func(lib, c"rd_kafka_conf_set_default_topic_conf")?,
                set_partitioner_cb: func(lib, c"rd_kafka_topic_conf_set_partitioner_cb")?,
                set_topic_opaque: func(lib, c"rd_kafka_topic_conf_set_opaque")?,
                add_on_conf_set: func(lib, c"rd_kafka_conf_interceptor_add_on_conf_set")?,
                add_on_conf_destroy: func(lib, c"rd_kafka_conf_interceptor_add_on_conf_destroy")?,
            })
        }
    }
}

/// The function `name` of `lib` as the function pointer type `F`.
///
/// # Safety
/// `F` must be the function's true signature.
unsafe fn func<F: Copy>(lib: &Library, name: &CStr) -> Result<F, String> {
    assert_eq!(std::mem::size_of::<F>(), std::mem::size_of::<*mut c_void>());
    let p = lib.sym(name).ok_or_else(|| {
        format!(
            "rdpart: the librdkafka that loaded this plugin lacks {} (rdpart needs librdkafka >= 1.6)",
            name.to_string_lossy()
        )
    })?;
    // SAFETY: F is a function pointer type (size checked) for this symbol.
    Ok(unsafe { std::mem::transmute_copy::<*mut c_void, F>(&p) })
}

/// One plugin instance per conf: the partitioner (handed to librdkafka as
/// the topic opaque) and the functions of the librdkafka it lives in.
struct Instance {
    part: rdpart_t,
    api: Api,
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
    let (api, available) = {
        let lib = Library::calling_librdkafka()
            .ok_or("rdpart: cannot find the librdkafka that loaded this plugin")?;
        // SAFETY: rd_kafka_topic_partition_available has this signature.
        (Api::load(&lib)?, unsafe {
            func::<AvailableFn>(&lib, AVAILABLE)?
        })
    };
    // Everything that can fail is checked before anything is registered.
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
        // SAFETY: librdkafka NUL-terminates errstr.
        let why = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy();
        return Err(format!(
            "rdpart: cannot set sticky.partitioning.linger.ms=0: {why}"
        ));
    }
    let inst = Box::into_raw(Box::new(Instance {
        part: rdpart_t::new(Partitioner::new(Config::default(), Some(available))),
        api,
    }));
    // SAFETY: inst is live until on_conf_destroy frees it.
    let api = unsafe { &(*inst).api };
    // SAFETY: valid conf, name and callbacks; inst outlives the conf.
    match unsafe {
        (api.add_on_conf_set)(conf, c"rdpart".as_ptr(), on_conf_set, inst as *mut c_void)
    } {
        ERR_NO_ERROR => {}
        ERR_CONFLICT => {
            // rdpart is already installed on this conf (the plugin was
            // named twice under different paths): that instance rules.
            drop(unsafe { Box::from_raw(inst) });
            return Ok(());
        }
        e => {
            drop(unsafe { Box::from_raw(inst) });
            return Err(format!(
                "rdpart: cannot add the on_conf_set interceptor (error {e})"
            ));
        }
    }
    // From here on the conf refers to inst and this code: succeed. If the
    // destroy hook cannot be added (it always can), inst is leaked, not freed.
    // SAFETY: as above.
    unsafe {
        (api.add_on_conf_destroy)(
            conf,
            c"rdpart".as_ptr(),
            on_conf_destroy,
            inst as *mut c_void,
        );
        let mut tconf = (api.get_default_topic_conf)(conf);
        let created = tconf.is_null();
        if created {
            tconf = (api.topic_conf_new)();
        }
        (api.set_partitioner_cb)(tconf, rdpart_partition);
        (api.set_topic_opaque)(tconf, &(*inst).part as *const rdpart_t as *mut c_void);
        if created {
            (api.set_default_topic_conf)(conf, tconf);
        }
    }
    Ok(())
}

/// What an `on_conf_set` call means for an instance's configuration.
pub fn claim(config: &mut Config, name: &str, value: Option<&str>) -> Result<bool, SetError> {
    if let Some(prop) = name.strip_prefix(PREFIX) {
        return match config.set(name, prop, value) {
            Err(SetError::Unknown(m)) => Err(SetError::Invalid(m)),
            r => r.map(|()| true),
        };
    }
    match name {
        // librdkafka's own knob becomes rdpart's sticky time; librdkafka's
        // sticky step stays off. 0 ("no sticky step") changes nothing.
        "sticky.partitioning.linger.ms" => {
            match parse_int(name, value.unwrap_or("0"), STICKY_LINGER_MS)? {
                0 => {}
                ms => config.sticky.linger_ms = ms,
            }
            Ok(true)
        }
        "partitioner" => Err(SetError::Invalid(format!(
            "Configuration property \"partitioner\" cannot be used with the rdpart plugin, \
             which places every message: set \"{PREFIX}strategy\" instead"
        ))),
        _ => Ok(false),
    }
}

unsafe extern "C" fn on_conf_set(
    _conf: *mut rd_kafka_conf_t,
    name: *const c_char,
    val: *const c_char,
    errstr: *mut c_char,
    errstr_size: usize,
    ic_opaque: *mut c_void,
) -> rd_kafka_conf_res_t {
    boundary(RD_KAFKA_CONF_UNKNOWN, || {
        if name.is_null() || ic_opaque.is_null() {
            return RD_KAFKA_CONF_UNKNOWN;
        }
        // SAFETY: librdkafka passes C strings and our own opaque.
        let (name, inst) = unsafe { (CStr::from_ptr(name), &*(ic_opaque as *const Instance)) };
        let Ok(name) = name.to_str() else {
            return RD_KAFKA_CONF_UNKNOWN;
        };
        let value = (!val.is_null()).then(|| unsafe { CStr::from_ptr(val) }.to_string_lossy());
        let mut config = inst.part.0.config();
        match claim(&mut config, name, value.as_deref()) {
            Ok(false) => RD_KAFKA_CONF_UNKNOWN,
            Ok(true) => {
                inst.part.0.apply(config);
                RD_KAFKA_CONF_OK
            }
            Err(SetError::Invalid(m) | SetError::Unknown(m)) => {
                // SAFETY: librdkafka's errstr buffer.
                unsafe { write_errstr(errstr, errstr_size, &m) };
                RD_KAFKA_CONF_INVALID
            }
        }
    })
}

unsafe extern "C" fn on_conf_destroy(ic_opaque: *mut c_void) -> rd_kafka_resp_err_t {
    boundary(ERR_NO_ERROR, || {
        if !ic_opaque.is_null() {
            // SAFETY: the Box made in init; librdkafka calls this once per conf.
            let inst = unsafe { Box::from_raw(ic_opaque as *mut Instance) };
            inst.part.0.retire();
        }
        ERR_NO_ERROR
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::Strategy;

    #[test]
    fn claims_only_its_own_properties() {
        let mut c = Config::default();
        assert_eq!(claim(&mut c, "rdpart.strategy", Some("jump")), Ok(true));
        assert_eq!(c.strategy, Strategy::Jump);
        assert_eq!(claim(&mut c, "linger.ms", Some("5")), Ok(false));
        assert_eq!(
            claim(&mut c, "sticky.partitioning.linger.ms", Some("25")),
            Ok(true)
        );
        assert_eq!(c.sticky.linger_ms, 25);
        assert_eq!(
            claim(&mut c, "sticky.partitioning.linger.ms", Some("0")),
            Ok(true)
        );
        assert_eq!(c.sticky.linger_ms, 25, "0 only keeps librdkafka's step off");
        let Err(SetError::Invalid(m)) = claim(&mut c, "rdpart.bogus", Some("1")) else {
            panic!()
        };
        assert!(
            m.contains("rdpart.bogus") && m.contains("rdpart.strategy"),
            "{m}"
        );
        assert!(matches!(
            claim(&mut c, "partitioner", Some("murmur2")),
            Err(SetError::Invalid(_))
        ));
    }
}
