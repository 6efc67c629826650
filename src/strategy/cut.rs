//! The key delimiter (`key.delimiter`): the hashing strategies hash only
//! the bytes of the key before the first occurrence of the delimiter, so
//! composite keys such as `tenant:order` keep each tenant in one partition.
//! A key without the delimiter is hashed whole.

/// A delimiter of 1 to `Cut::MAX` bytes, or none. `Copy` and small, so it
/// travels in every placement's context at no cost when unset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Cut {
    bytes: [u8; Cut::MAX],
    len: u8,
}

impl Cut {
    /// The longest delimiter, in bytes.
    pub(crate) const MAX: usize = 8;

    /// No delimiter: keys are hashed whole.
    pub const NONE: Cut = Cut {
        bytes: [0; Cut::MAX],
        len: 0,
    };

    /// A delimiter of 1 to `MAX` bytes (None otherwise).
    pub fn new(delim: &[u8]) -> Option<Cut> {
        if delim.is_empty() || delim.len() > Cut::MAX {
            return None;
        }
        let mut bytes = [0; Cut::MAX];
        bytes[..delim.len()].copy_from_slice(delim);
        Some(Cut {
            bytes,
            len: delim.len() as u8,
        })
    }

    /// Packed into a u64 and a length, for atomic storage.
    pub fn to_parts(self) -> (u64, u8) {
        (u64::from_le_bytes(self.bytes), self.len)
    }

    pub fn from_parts(bytes: u64, len: u8) -> Cut {
        Cut {
            bytes: bytes.to_le_bytes(),
            len: len.min(Cut::MAX as u8),
        }
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
    use super::Cut;

    #[test]
    fn cuts_before_the_first_occurrence() {
        let c = Cut::new(b":").unwrap();
        assert_eq!(c.apply(b"tenant:order:7"), b"tenant");
        assert_eq!(c.apply(b"tenant"), b"tenant");
        assert_eq!(c.apply(b":x"), b"");
        assert_eq!(c.apply(b""), b"");
        let c = Cut::new(b"::").unwrap();
        assert_eq!(c.apply(b"a:b::c::d"), b"a:b");
        assert_eq!(c.apply(b"a:b:"), b"a:b:");
        assert_eq!(Cut::NONE.apply(b"a:b"), b"a:b");
        assert!(Cut::new(b"").is_none() && Cut::new(b"123456789").is_none());
        let (b, l) = Cut::new(b"--").unwrap().to_parts();
        assert_eq!(Cut::from_parts(b, l).delimiter(), b"--");
    }
}
