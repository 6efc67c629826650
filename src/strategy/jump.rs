//! jump: `jump(murmur64a(key, 0x9747b28c), n)`. Growing a topic from n to
//! n+1 partitions moves ~1/(n+1) of the keys, all to the new partition.

use crate::hash::{jump, murmur64a, KAFKA_SEED};

#[inline]
pub fn keyed(key: &[u8], n: u32) -> u32 {
    jump(murmur64a(key, KAFKA_SEED as u64), n)
}
