//! consistent: `crc32(key) % n`, as librdkafka's `consistent` and Sarama's
//! ConsistentCRCHashPartitioner.

use crate::hash::crc32;

#[inline]
pub fn keyed(key: &[u8], n: u32) -> u32 {
    crc32(key) % n
}
