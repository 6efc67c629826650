//! The key delimiter (`key.delimiter`): the hashing strategies hash only
//! the bytes of the key before the first occurrence of the delimiter, so
//! composite keys such as `tenant:order` keep each tenant in one partition.
//! A key without the delimiter is hashed whole.

/// A delimiter of 1 to `KeyDelimiter::MAX` bytes, or none. `Copy` and small, so it
/// travels in every placement's context at no cost when unset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct KeyDelimiter {
    bytes: [u8; KeyDelimiter::MAX],
    len: u8,
}

impl KeyDelimiter {
    /// The longest delimiter, in bytes.
    pub(crate) const MAX: usize = 8;

    /// No delimiter: keys are hashed whole.
    pub const NONE: KeyDelimiter = KeyDelimiter {
        bytes: [0; KeyDelimiter::MAX],
        len: 0,
    };

    /// A delimiter of 1 to `MAX` bytes (None otherwise).
    pub fn new(delim: &[u8]) -> Option<KeyDelimiter> {
        if delim.is_empty() || delim.len() > KeyDelimiter::MAX {
            return None;
        }
        let mut bytes = [0; KeyDelimiter::MAX];
        bytes[..delim.len()].copy_from_slice(delim);
        Some(KeyDelimiter {
            bytes,
            len: delim.len() as u8,
        })
    }

    /// The delimiter's bytes (empty: none).
    pub fn delimiter(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// What of `key` is hashed.
    #[inline(always)]
    pub fn apply(self, key: &[u8]) -> &[u8] {
        if self.len == 0 {
            key
        } else {
            self.before(key)
        }
    }

    #[inline]
    fn before(self, key: &[u8]) -> &[u8] {
        let d = self.delimiter();
        let mut from = 0;
        // memchr: the first byte of the delimiter, a word or vector at a time.
        while let Some(i) = memchr::memchr(d[0], &key[from..]) {
            let at = from + i;
            if key[at..].starts_with(d) {
                return &key[..at];
            }
            from = at + 1;
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use super::KeyDelimiter;

    #[test]
    fn cuts_before_the_first_occurrence() {
        let c = KeyDelimiter::new(b":").unwrap();
        assert_eq!(c.apply(b"tenant:order:7"), b"tenant");
        assert_eq!(c.apply(b"tenant"), b"tenant");
        assert_eq!(c.apply(b":x"), b"");
        assert_eq!(c.apply(b""), b"");
        let c = KeyDelimiter::new(b"::").unwrap();
        assert_eq!(c.apply(b"a:b::c::d"), b"a:b");
        assert_eq!(c.apply(b"a:b:"), b"a:b:");
        assert_eq!(KeyDelimiter::NONE.apply(b"a:b"), b"a:b");
        assert!(KeyDelimiter::new(b"").is_none() && KeyDelimiter::new(b"123456789").is_none());
        assert_eq!(KeyDelimiter::new(b"--").unwrap().delimiter(), b"--");
    }
}
