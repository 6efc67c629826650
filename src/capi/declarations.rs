//! What rdpart declares (rdpart.h's section before the version): its
//! strategies and properties, from their one declaration in the library
//! (`Strategy::ALL`, `config::PROPERTIES`), for the Python package, the
//! command, the build and tools, which keep no list of their own.

use crate::boundary::{boundary, write_errstr};
use crate::config::PROPERTIES;
use crate::strategy::Strategy;
use std::ffi::c_char;

/// The name of strategy `i` (0-based, in the order of the callbacks above),
/// a static string; NULL past the last:
///
///     for (size_t i = 0; rdpart_strategy_name(i); i++)
///             puts(rdpart_strategy_name(i));
#[no_mangle]
pub extern "C" fn rdpart_strategy_name(i: usize) -> *const c_char {
    Strategy::ALL
        .get(i)
        .map_or(std::ptr::null(), |s| s.c_name().as_ptr())
}

/// The strategies and properties as JSON, written to `buf` (`size` bytes,
/// always NUL-terminated, cut when it does not fit; NULL with size 0 to ask
/// the length). Returns the length of the whole JSON text, without the
/// NUL, as snprintf() does:
///
///     {"strategies":[{"name":"murmur2","keyed":"(murmur2(key) & 0x7fffffff) % n",
///       "null_key":"hash of \"\"","empty_key":"hash of \"\"",
///       "clients":"librdkafka murmur2; the Java client for keyed records."},...],
///      "properties":[{"name":"strategy","values":"a strategy name","default":"sticky"},...]}
///
/// `keyed` is "key ignored: as NULL keys" for strategies that ignore keys;
/// a property's `default` is "" when it has none. The plugin's properties
/// are these names after "rdpart.".
#[no_mangle]
pub unsafe extern "C" fn rdpart_declarations(buf: *mut c_char, size: usize) -> usize {
    boundary(0, || {
        let json = declarations().to_string();
        // SAFETY: the caller's buffer contract (NULL or `size` bytes).
        unsafe { write_errstr(buf, size, &json) };
        json.len()
    })
}

fn declarations() -> serde_json::Value {
    let strategies: Vec<serde_json::Value> = Strategy::ALL
        .iter()
        .map(|s| {
            let (keyed, null_key, empty_key) = s.recipe().describe();
            serde_json::json!({
                "name": s.name(),
                "keyed": keyed,
                "null_key": null_key,
                "empty_key": empty_key,
                "clients": s.clients(),
            })
        })
        .collect();
    let properties: Vec<serde_json::Value> = PROPERTIES
        .iter()
        .map(|p| serde_json::json!({"name": p.name, "values": p.values, "default": p.default}))
        .collect();
    serde_json::json!({"strategies": strategies, "properties": properties})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_strategy_and_property_is_declared_once() {
        let d = declarations();
        let names: Vec<&str> = d["strategies"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, Strategy::ALL.map(|s| s.name()));
        assert_eq!(d["properties"].as_array().unwrap().len(), PROPERTIES.len());
        // The C names end where the list does.
        let c: Vec<String> = (0..)
            .map(|i: usize| rdpart_strategy_name(i))
            .take_while(|p| !p.is_null())
            .map(|p| {
                // SAFETY: static C strings.
                unsafe { std::ffi::CStr::from_ptr(p) }
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(c, names);
    }

    #[test]
    fn the_rules_read_as_the_readme_writes_them() {
        let d = declarations();
        let rule = |name: &str, field: &str| -> String {
            d["strategies"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == name)
                .unwrap()[field]
                .as_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(rule("murmur2", "keyed"), "(murmur2(key) & 0x7fffffff) % n");
        assert_eq!(rule("consistent_random", "empty_key"), "random");
        assert_eq!(rule("fnv1a_random", "null_key"), "random");
        assert_eq!(rule("fnv1a_random", "empty_key"), "hash of \"\"");
        assert_eq!(rule("round_robin", "null_key"), "round-robin");
        assert!(rule("sarama_crc", "clients").contains("Sarama"));
    }
}
