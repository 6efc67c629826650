//! The plugin's properties: `rdpart.*` (the same table and messages as
//! `rdpart_conf_set`), librdkafka's `sticky.partitioning.linger.ms` taken as
//! rdpart's sticky time, and the partitioner properties rdpart replaces,
//! refused with a message.

use crate::config::{parse_int, Config, SetError, PREFIX, STICKY_LINGER_MS};

/// What setting `name` to `value` means for an instance's configuration:
/// Ok(true) claimed, Ok(false) not rdpart's.
pub fn claim(config: &mut Config, name: &str, value: Option<&[u8]>) -> Result<bool, SetError> {
    if let Some(prop) = name.strip_prefix(PREFIX) {
        return match config.set_bytes(name, prop, Some(value.unwrap_or(b""))) {
            Err(SetError::Unknown(m)) => Err(SetError::Invalid(m)),
            r => r.map(|()| true),
        };
    }
    match name {
        // librdkafka's own knob becomes rdpart's sticky time; librdkafka's
        // sticky step stays off. 0 ("no sticky step") changes nothing.
        "sticky.partitioning.linger.ms" => {
            let value = value.map_or("0".into(), String::from_utf8_lossy);
            match parse_int(name, &value, STICKY_LINGER_MS)? {
                0 => {}
                ms => config.run.linger_ms = ms,
            }
            Ok(true)
        }
        "partitioner" | "topic.partitioner" => Err(SetError::Invalid(replaced(name))),
        _ => Ok(false),
    }
}

/// The environment variable with rdpart's properties, for hosts whose
/// configuration has no order (a hash map): `name=value` pairs separated
/// by `;` (names with or without `rdpart.`), applied when the plugin loads,
/// before any property set on the conf, which win.
pub const ENV: &str = "RDPART_CONFIG";

/// Applies `RDPART_CONFIG`, if set.
pub fn from_env(config: &mut Config) -> Result<(), String> {
    match std::env::var_os(ENV) {
        Some(v) => parse_env(config, v.as_encoded_bytes()),
        None => Ok(()),
    }
}

/// Applies a `RDPART_CONFIG` value to `config`.
pub fn parse_env(config: &mut Config, value: &[u8]) -> Result<(), String> {
    for pair in value.split(|&b| b == b';') {
        let pair = pair.trim_ascii();
        if pair.is_empty() {
            continue;
        }
        let Some(eq) = pair.iter().position(|&b| b == b'=') else {
            return Err(format!(
                "rdpart: {ENV}: expected name=value pairs separated by ';', not \"{}\"",
                crate::boundary::shorten(&String::from_utf8_lossy(pair), 32)
            ));
        };
        let name = String::from_utf8_lossy(pair[..eq].trim_ascii()).into_owned();
        let value = &pair[eq + 1..];
        let name = if name.starts_with(PREFIX) {
            name
        } else {
            format!("{PREFIX}{name}")
        };
        match claim(config, &name, Some(value)) {
            Ok(true) => {}
            Ok(false) => unreachable!("every rdpart. name is claimed or refused"),
            Err(SetError::Invalid(m) | SetError::Unknown(m)) => {
                return Err(format!("rdpart: {ENV}: {m}"))
            }
        }
    }
    Ok(())
}

/// The message for a partitioner property rdpart replaces.
pub fn replaced(name: &str) -> String {
    format!(
        "Configuration property \"{name}\" cannot be used with the rdpart plugin, \
         which places every message: set \"{PREFIX}strategy\" instead"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::Strategy;

    fn claim(c: &mut Config, name: &str, value: Option<&str>) -> Result<bool, SetError> {
        super::claim(c, name, value.map(str::as_bytes))
    }

    #[test]
    fn the_environment_sets_properties_in_any_order() {
        let mut c = Config::default();
        parse_env(
            &mut c,
            b"strategy=jump; rdpart.sticky.messages=7;;key.delimiter=:",
        )
        .unwrap();
        assert_eq!(c.strategy, Strategy::Jump);
        assert_eq!(c.run.messages, 7);
        assert_eq!(c.delimiter.delimiter(), b":");
        let e = parse_env(&mut c, b"strategy=jmp").unwrap_err();
        assert!(
            e.starts_with("rdpart: RDPART_CONFIG: ")
                && e.contains("rdpart.strategy")
                && e.contains("round_robin"),
            "{e}"
        );
        let e = parse_env(&mut c, b"jump").unwrap_err();
        assert!(e.contains("name=value"), "{e}");
        let e = parse_env(&mut c, b"nope=1").unwrap_err();
        assert!(e.contains("rdpart.nope"), "{e}");
    }

    #[test]
    fn delimiters_are_taken_as_bytes() {
        let mut c = Config::default();
        assert_eq!(
            super::claim(&mut c, "rdpart.key.delimiter", Some(b"\xff")),
            Ok(true)
        );
        assert_eq!(c.delimiter.delimiter(), b"\xff");
        assert!(super::claim(&mut c, "rdpart.strategy", Some(b"jump\xff")).is_err());
    }

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
        assert_eq!(c.run.linger_ms, 25);
        assert_eq!(
            claim(&mut c, "sticky.partitioning.linger.ms", Some("0")),
            Ok(true)
        );
        assert_eq!(c.run.linger_ms, 25, "0 only keeps librdkafka's step off");
        let Err(SetError::Invalid(m)) = claim(&mut c, "rdpart.bogus", Some("1")) else {
            panic!()
        };
        assert!(
            m.contains("rdpart.bogus") && m.contains("rdpart.strategy"),
            "{m}"
        );
        for name in ["partitioner", "topic.partitioner"] {
            let Err(SetError::Invalid(m)) = claim(&mut c, name, Some("murmur2")) else {
                panic!()
            };
            assert!(m.contains(name) && m.contains("rdpart.strategy"), "{m}");
        }
        for empty in [Some(""), None] {
            let Err(SetError::Invalid(m)) = claim(&mut c, "rdpart.strategy", empty) else {
                panic!("empty strategy accepted")
            };
            assert!(
                m.contains("rdpart.strategy") && m.contains("round_robin"),
                "{m}"
            );
        }
        assert_eq!(c.strategy, Strategy::Jump);
    }
}
