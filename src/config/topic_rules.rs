//! A strategy per topic (`topic.strategy`): comma-separated
//! `PATTERN:STRATEGY` pairs. A pattern is a topic name, or a glob in which
//! `*` matches any run of characters; the first pair that matches wins;
//! other topics use `strategy`. A topic's strategy is resolved once, when
//! rdpart first sees the topic, never per message.

use crate::strategy::Strategy;

/// One `PATTERN:STRATEGY` pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicRule {
    pub pattern: String,
    pub strategy: Strategy,
}

/// The pairs, in order.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct TopicRules(pub Vec<TopicRule>);

impl TopicRules {
    /// Parse `orders:jump,events-*:round_robin`. The error gives the reason
    /// first, then the bad pair, shortened (it follows the property's name,
    /// and wrappers keep 255 bytes of a message).
    pub fn parse(value: &str) -> Result<TopicRules, String> {
        let mut rules = Vec::new();
        for pair in value.split(',') {
            let pair = pair.trim();
            let Some((pattern, strategy)) = pair.rsplit_once(':') else {
                return Err(format!(
                    "expects PATTERN:STRATEGY pairs (e.g. orders:jump,events-*:round_robin): \
                     no ':' in \"{}\"",
                    crate::boundary::shorten(pair, 32)
                ));
            };
            let (pattern, strategy) = (pattern.trim(), strategy.trim());
            if pattern.is_empty() {
                return Err(format!(
                    "a pair has no topic pattern: \"{}\"",
                    crate::boundary::shorten(pair, 32)
                ));
            }
            if let Some(c) = pattern
                .chars()
                .find(|&c| !(c.is_ascii_alphanumeric() || "._-*".contains(c)))
            {
                return Err(format!(
                    "'{c}' cannot be in a topic name (a pattern has letters, digits, '.', \
                     '_', '-' and the wildcard '*'), in \"{}\"",
                    crate::boundary::shorten(pair, 32)
                ));
            }
            let Some(strategy) = Strategy::from_name(strategy) else {
                // Short: librdkafka wrappers keep 255 bytes of a message.
                return Err(format!(
                    "strategy \"{}\" is not one of {}",
                    crate::boundary::shorten(strategy, 16),
                    Strategy::names(),
                ));
            };
            rules.push(TopicRule {
                pattern: pattern.to_string(),
                strategy,
            });
        }
        Ok(TopicRules(rules))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The strategy of the first pair whose pattern matches `topic`.
    pub fn find(&self, topic: &[u8]) -> Option<Strategy> {
        self.0
            .iter()
            .find(|r| glob(r.pattern.as_bytes(), topic))
            .map(|r| r.strategy)
    }
}

impl std::fmt::Display for TopicRules {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            let sep = if i > 0 { "," } else { "" };
            write!(f, "{sep}{}:{}", r.pattern, r.strategy.name())?;
        }
        Ok(())
    }
}

/// Does `name` match `pattern`, where `*` matches any run of bytes? The
/// classic greedy matcher with one backtrack point: linear in practice,
/// no allocation.
fn glob(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, n));
            p += 1;
        } else if p < pattern.len() && pattern[p] == name[n] {
            p += 1;
            n += 1;
        } else if let Some((sp, sn)) = star {
            p = sp + 1;
            n = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        for (p, n, want) in [
            ("orders", "orders", true),
            ("orders", "orders2", false),
            ("events-*", "events-", true),
            ("events-*", "events-eu.v1", true),
            ("events-*", "event-eu", false),
            ("*", "", true),
            ("*.v1", "a.b.v1", true),
            ("*.v1", "a.v2", false),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("**x", "x", true),
        ] {
            assert_eq!(glob(p.as_bytes(), n.as_bytes()), want, "{p} {n}");
        }
    }

    #[test]
    fn first_match_wins_and_errors_give_the_reason() {
        let r = TopicRules::parse("orders:jump, events-*:round_robin,*:murmur2").unwrap();
        assert_eq!(r.find(b"orders"), Some(Strategy::Jump));
        assert_eq!(r.find(b"events-x"), Some(Strategy::RoundRobin));
        assert_eq!(r.find(b"other"), Some(Strategy::Murmur2));
        assert_eq!(r.to_string(), "orders:jump,events-*:round_robin,*:murmur2");
        let e = TopicRules::parse("orders:jump,events:murmur3").unwrap_err();
        assert!(
            e.starts_with("strategy \"murmur3\" is not one of") && e.contains("round_robin"),
            "{e}"
        );
        let e = TopicRules::parse("orders").unwrap_err();
        assert!(
            e.contains("\"orders\"") && e.contains("PATTERN:STRATEGY"),
            "{e}"
        );
        let e = TopicRules::parse("ord ers:jump").unwrap_err();
        assert!(e.starts_with("' ' cannot be in a topic name"), "{e}");
        assert!(TopicRules::parse(":jump").is_err());
        assert!(TopicRules::parse("a:jump,").is_err());
    }
}
