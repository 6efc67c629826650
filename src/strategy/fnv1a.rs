//! fnv1a: `abs(int32 fnv1a(key)) % n`, as librdkafka's `fnv1a` and Sarama's
//! default NewHashPartitioner.

use crate::hash::fnv1a_abs;

#[inline]
pub fn keyed(key: &[u8], n: u32) -> u32 {
    fnv1a_abs(key) % n
}
