//! murmur2: `(murmur2(key) & 0x7fffffff) % n`, as librdkafka's `murmur2`
//! and the Java client's default for keyed records.

use crate::hash::murmur2;

#[inline]
pub fn keyed(key: &[u8], n: u32) -> u32 {
    (murmur2(key) & 0x7fff_ffff) % n
}
