//! Configuration properties, shared by the C conf API (`rdpart_conf_set`)
//! and the plugin (`rdpart.<name>` properties): declared once in
//! [`PROPERTIES`], with one parser and one set of error messages. The
//! header's and the README's property lists are checked against it
//! (tests/lists.rs).

mod topic_rules;

pub use topic_rules::{TopicRule, TopicRules};

use crate::boundary::shorten;
use crate::strategy::{AdaptiveOptions, HotKeyOptions, KeyDelimiter, RunLimits, Strategy};

/// A complete configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The strategy of topics no topic rule names.
    pub strategy: Strategy,
    /// `sticky.messages`, `sticky.linger.ms`, `adaptive.run.bytes`.
    pub run: RunLimits,
    /// `adaptive.timeout.ms`, `adaptive.weighting`.
    pub adaptive: AdaptiveOptions,
    /// `topic.strategy`: a strategy per topic.
    pub topics: TopicRules,
    /// `key.delimiter`: hash only the key's bytes before it.
    pub delimiter: KeyDelimiter,
    /// `hot.key.share`, `hot.key.partitions`.
    pub hot: HotKeyOptions,
    /// `rack.aware`: keyless messages in `client.rack` (the plugin only).
    pub rack_aware: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            strategy: Strategy::Sticky,
            run: RunLimits::default(),
            adaptive: AdaptiveOptions::default(),
            topics: TopicRules::default(),
            delimiter: KeyDelimiter::NONE,
            hot: HotKeyOptions::default(),
            rack_aware: false,
        }
    }
}

/// Why a property was not set.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError {
    /// No such property (the message lists the known ones).
    Unknown(String),
    /// A known property with a bad value (the message gives the allowed ones).
    Invalid(String),
}

/// One property: its name (without the plugin's `rdpart.` prefix), what
/// it takes, and its default as `set` parses it ("" for none).
#[derive(Clone, Copy, Debug)]
pub struct Property {
    pub name: &'static str,
    pub values: &'static str,
    pub default: &'static str,
}

/// Every property, in the order the documentation lists them.
pub const PROPERTIES: [Property; 11] = [
    Property {
        name: "strategy",
        values: "a strategy name",
        default: "sticky",
    },
    Property {
        name: "sticky.messages",
        values: "1..2147483647",
        default: "1000",
    },
    Property {
        name: "sticky.linger.ms",
        values: "0..900000",
        default: "10",
    },
    Property {
        name: "topic.strategy",
        values: "PATTERN:STRATEGY,...",
        default: "",
    },
    Property {
        name: "key.delimiter",
        values: "1 to 8 bytes",
        default: "",
    },
    Property {
        name: "adaptive.run.bytes",
        values: "1..2147483647",
        default: "262144",
    },
    Property {
        name: "adaptive.timeout.ms",
        values: "0..900000",
        default: "500",
    },
    Property {
        name: "adaptive.weighting",
        values: "true, false",
        default: "true",
    },
    Property {
        name: "hot.key.share",
        values: "0 (off), or a share between 0 and 1",
        default: "0",
    },
    Property {
        name: "hot.key.partitions",
        values: "1..65536",
        default: "4",
    },
    Property {
        name: "rack.aware",
        values: "true, false",
        default: "false",
    },
];

/// The prefix of rdpart's properties in a librdkafka conf (optional in
/// `rdpart_conf_set`).
pub const PREFIX: &str = "rdpart.";

/// Bounds of the integer properties (inclusive).
pub const STICKY_MESSAGES: (u32, u32) = (1, i32::MAX as u32);
pub const STICKY_LINGER_MS: (u32, u32) = (0, 900_000);
pub const ADAPTIVE_RUN_BYTES: (u32, u32) = (1, i32::MAX as u32);
pub const ADAPTIVE_TIMEOUT_MS: (u32, u32) = (0, 900_000);
pub const HOT_KEY_PARTITIONS: (u32, u32) = (1, 65_536);

/// Parse a decimal integer in `lo..=hi`, as librdkafka does for its own.
pub fn parse_int(shown: &str, value: &str, (lo, hi): (u32, u32)) -> Result<u32, SetError> {
    match value.trim().parse::<i64>() {
        Ok(v) if v >= lo as i64 && v <= hi as i64 => Ok(v as u32),
        _ => Err(SetError::Invalid(format!(
            "Invalid value \"{}\" for configuration property \"{shown}\": \
             expected an integer from {lo} to {hi}",
            shorten(value, 24)
        ))),
    }
}

/// Parse a boolean, in librdkafka's spellings.
pub fn parse_bool(shown: &str, value: &str) -> Result<bool, SetError> {
    match value.trim() {
        "true" | "t" | "1" => Ok(true),
        "false" | "f" | "0" => Ok(false),
        _ => Err(SetError::Invalid(format!(
            "Invalid value \"{}\" for configuration property \"{shown}\": \
             expected true or false",
            shorten(value, 24)
        ))),
    }
}

/// Parse a share: 0 (off), or a decimal from 0.000001 to 0.999999 (rdpart
/// counts shares in millionths: a value that would round to 0 or 1 cannot
/// be honoured, and is refused).
pub fn parse_share(shown: &str, value: &str) -> Result<u32, SetError> {
    match value.trim().parse::<f64>() {
        Ok(0.0) => Ok(0),
        Ok(v) if (0.000_000_5..0.999_999_5).contains(&v) => Ok((v * 1e6).round() as u32),
        _ => Err(SetError::Invalid(format!(
            "Invalid value \"{}\" for configuration property \"{shown}\": \
             expected 0 (off) or a share between 0 and 1, from 0.000001 to 0.999999 (rdpart \
             counts in millionths), such as 0.2",
            shorten(value, 24)
        ))),
    }
}

impl Config {
    /// As `set`, with the value as the bytes the user gave: `key.delimiter`
    /// takes them exactly; every other property needs UTF-8 text.
    pub fn set_bytes(
        &mut self,
        shown: &str,
        name: &str,
        value: Option<&[u8]>,
    ) -> Result<(), SetError> {
        match (name, value) {
            ("key.delimiter", Some(v)) => {
                self.delimiter = KeyDelimiter::new(v).ok_or_else(|| {
                    SetError::Invalid(format!(
                        "Invalid value \"{}\" for configuration property \"{shown}\": \
                         expected a delimiter of 1 to {} bytes",
                        shorten(&String::from_utf8_lossy(v), 24),
                        KeyDelimiter::MAX
                    ))
                })?;
                Ok(())
            }
            (_, None) => self.set(shown, name, None),
            (_, Some(v)) => match std::str::from_utf8(v) {
                Ok(v) => self.set(shown, name, Some(v)),
                Err(_) => Err(SetError::Invalid(format!(
                    "Invalid value for configuration property \"{shown}\": not UTF-8 text"
                ))),
            },
        }
    }

    /// Set property `name` (as the user spelled it: `shown`) to `value`;
    /// `None` restores the default.
    pub fn set(&mut self, shown: &str, name: &str, value: Option<&str>) -> Result<(), SetError> {
        let default = Config::default();
        match (name, value) {
            ("strategy", None) => self.strategy = default.strategy,
            ("strategy", Some(v)) => {
                self.strategy = Strategy::from_name(v.trim()).ok_or_else(|| {
                    // Short: librdkafka wrappers keep 255 bytes of a message.
                    SetError::Invalid(format!(
                        "\"{shown}\": \"{}\" is not one of {}",
                        shorten(v, 24),
                        Strategy::names()
                    ))
                })?
            }
            ("sticky.messages", None) => self.run.messages = default.run.messages,
            ("sticky.messages", Some(v)) => {
                self.run.messages = parse_int(shown, v, STICKY_MESSAGES)?
            }
            ("topic.strategy", None) => self.topics = default.topics,
            ("topic.strategy", Some(v)) => {
                self.topics = TopicRules::parse(v)
                    .map_err(|why| SetError::Invalid(format!("\"{shown}\" {why}")))?
            }
            ("key.delimiter", None) => self.delimiter = default.delimiter,
            ("key.delimiter", Some(v)) => return self.set_bytes(shown, name, Some(v.as_bytes())),
            ("adaptive.run.bytes", None) => self.run.bytes = default.run.bytes,
            ("adaptive.run.bytes", Some(v)) => {
                self.run.bytes = parse_int(shown, v, ADAPTIVE_RUN_BYTES)?
            }
            ("adaptive.timeout.ms", None) => self.adaptive.timeout_ms = default.adaptive.timeout_ms,
            ("adaptive.timeout.ms", Some(v)) => {
                self.adaptive.timeout_ms = parse_int(shown, v, ADAPTIVE_TIMEOUT_MS)?
            }
            ("adaptive.weighting", None) => self.adaptive.weighting = default.adaptive.weighting,
            ("adaptive.weighting", Some(v)) => self.adaptive.weighting = parse_bool(shown, v)?,
            ("rack.aware", None) => self.rack_aware = default.rack_aware,
            ("rack.aware", Some(v)) => self.rack_aware = parse_bool(shown, v)?,
            ("hot.key.share", None) => self.hot.share_ppm = default.hot.share_ppm,
            ("hot.key.share", Some(v)) => self.hot.share_ppm = parse_share(shown, v)?,
            ("hot.key.partitions", None) => self.hot.partitions = default.hot.partitions,
            ("hot.key.partitions", Some(v)) => {
                self.hot.partitions = parse_int(shown, v, HOT_KEY_PARTITIONS)?
            }
            ("sticky.linger.ms", None) => self.run.linger_ms = default.run.linger_ms,
            ("sticky.linger.ms", Some(v)) => {
                self.run.linger_ms = parse_int(shown, v, STICKY_LINGER_MS)?
            }
            _ => {
                let prefix = &shown[..shown.len() - name.len()];
                return Err(SetError::Unknown(format!(
                    "No such configuration property: \"{shown}\": rdpart knows {}",
                    PROPERTIES.map(|p| format!("{prefix}{}", p.name)).join(", ")
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_property_and_the_allowed_values() {
        let mut c = Config::default();
        let Err(SetError::Invalid(m)) = c.set("rdpart.strategy", "strategy", Some("murmur3"))
        else {
            panic!()
        };
        assert!(
            m.contains("\"rdpart.strategy\"") && m.contains("murmur3") && m.contains("round_robin"),
            "{m}"
        );
        let Err(SetError::Invalid(m)) = c.set("sticky.messages", "sticky.messages", Some("0"))
        else {
            panic!()
        };
        assert!(
            m.contains("\"sticky.messages\"") && m.contains("from 1 to 2147483647"),
            "{m}"
        );
        assert!(c
            .set("sticky.linger.ms", "sticky.linger.ms", Some("ten"))
            .is_err());
        assert!(c
            .set("sticky.linger.ms", "sticky.linger.ms", Some("900001"))
            .is_err());
        let Err(SetError::Unknown(m)) = c.set("rdpart.nope", "nope", Some("1")) else {
            panic!()
        };
        assert!(
            m.contains("\"rdpart.nope\"") && m.contains("rdpart.sticky.linger.ms"),
            "{m}"
        );
        assert_eq!(c, Config::default(), "failed sets changed nothing");
    }

    #[test]
    fn messages_fit_in_the_255_bytes_wrappers_keep() {
        // confluent-kafka-python keeps 255 bytes of a conf error: the
        // property, the reason and the allowed values must be in them,
        // whatever the user typed.
        let long = "x".repeat(300);
        let all = Strategy::names();
        for (name, value, reason) in [
            ("rdpart.strategy", long.clone(), all.as_str()),
            (
                "rdpart.topic.strategy",
                format!("orders:jump,{long}-*:murmur3"),
                all.as_str(),
            ),
            (
                "rdpart.topic.strategy",
                format!("{long}:jump_"),
                all.as_str(),
            ),
            (
                "rdpart.topic.strategy",
                format!("{long}/x:jump"),
                "'/' cannot be in a topic name",
            ),
            ("rdpart.topic.strategy", long.clone(), "PATTERN:STRATEGY"),
            (
                "rdpart.sticky.messages",
                long.clone(),
                "from 1 to 2147483647",
            ),
            ("rdpart.key.delimiter", long.clone(), "1 to 8 bytes"),
            ("rdpart.adaptive.weighting", long.clone(), "true or false"),
            ("rdpart.adaptive.run.bytes", long.clone(), "from 1 to"),
        ] {
            let mut c = Config::default();
            let prop = name.strip_prefix(PREFIX).unwrap();
            let Err(SetError::Invalid(m)) = c.set(name, prop, Some(&value)) else {
                panic!("{name}")
            };
            let kept = &m.as_bytes()[..m.len().min(255)];
            let kept = String::from_utf8_lossy(kept);
            assert!(kept.contains(name), "{name}: {m}");
            assert!(
                kept.contains(reason),
                "{name}: {reason:?} not in the first 255 bytes of {m}"
            );
        }
    }

    #[test]
    fn values_apply_and_none_restores_defaults() {
        let mut c = Config::default();
        c.set("strategy", "strategy", Some("jump")).unwrap();
        c.set("sticky.messages", "sticky.messages", Some("7"))
            .unwrap();
        c.set("sticky.linger.ms", "sticky.linger.ms", Some("0"))
            .unwrap();
        assert_eq!(c.strategy, Strategy::Jump);
        assert_eq!(
            c.run,
            RunLimits {
                messages: 7,
                linger_ms: 0,
                ..RunLimits::default()
            }
        );
        for p in PROPERTIES {
            c.set(p.name, p.name, None).unwrap();
        }
        assert_eq!(c, Config::default());
    }

    #[test]
    fn shares_are_between_0_and_1() {
        let mut c = Config::default();
        c.set("hot.key.share", "hot.key.share", Some("0.25"))
            .unwrap();
        assert_eq!(c.hot.share_ppm, 250_000);
        for bad in [
            "1",
            "-0.1",
            "nan",
            "inf",
            "x",
            "1.5",
            "",
            "1e-300",
            "0.0000001",
            "0.9999999",
        ] {
            let Err(SetError::Invalid(m)) = c.set("hot.key.share", "hot.key.share", Some(bad))
            else {
                panic!("{bad} accepted")
            };
            assert!(
                m.contains("\"hot.key.share\"") && m.contains("between 0 and 1"),
                "{m}"
            );
        }
        c.set("hot.key.share", "hot.key.share", Some("0")).unwrap();
        assert_eq!(c.hot.share_ppm, 0);
        c.set("hot.key.share", "hot.key.share", Some("0.000001"))
            .unwrap();
        assert_eq!(c.hot.share_ppm, 1);
        c.set("hot.key.share", "hot.key.share", Some("0.999999"))
            .unwrap();
        assert_eq!(c.hot.share_ppm, 999_999);
    }

    #[test]
    fn every_property_is_declared_with_its_default() {
        let mut names: Vec<_> = PROPERTIES.iter().map(|p| p.name).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), PROPERTIES.len());
        for p in PROPERTIES {
            let mut c = Config::default();
            if p.default.is_empty() {
                assert!(c.set(p.name, p.name, Some("")).is_err(), "{}", p.name);
            } else {
                c.set(p.name, p.name, Some(p.default)).unwrap();
            }
            assert_eq!(c, Config::default(), "{}: default {:?}", p.name, p.default);
        }
    }
}
