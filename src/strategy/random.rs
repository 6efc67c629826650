//! random: uniform over the partitions that have a leader; over all of them
//! when none has.

use super::Ctx;
use crate::rng;

#[inline]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let p = rng::below(n);
    if ctx.available(p) {
        return p;
    }
    random_available(n, ctx, None).unwrap_or(p)
}

/// Uniform among the available partitions other than `except`; `None` when
/// there are none. Asks librdkafka about every partition: the slow path.
#[cold]
pub fn random_available(n: u32, ctx: &Ctx, except: Option<u32>) -> Option<u32> {
    let ok = |p: u32| Some(p) != except && ctx.available(p);
    let count = (0..n).filter(|&p| ok(p)).count() as u32;
    if count == 0 {
        return None;
    }
    let k = rng::below(count) as usize;
    (0..n).filter(|&p| ok(p)).nth(k)
}
