//! sticky (keyless messages): stay on one partition until `messages` have
//! been placed on it or `linger_ms` have passed since the switch, whichever
//! comes first, or it stops being usable (see available.rs); then move to
//! a partition chosen uniformly among the other usable ones.
//!
//! Each thread has its own run per topic (see topics.rs): one producing
//! thread's keyless messages follow the rules exactly, and concurrent
//! threads share no state.

use super::available::pick;
use super::Ctx;
use crate::clock;

#[inline]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let t = ctx.topic();
    let limits = ctx.sticky;
    t.with_lane(|lane| {
        let tag = lane.sticky_tag;
        let current = (tag >= 1 && tag <= n).then(|| tag - 1);
        if let Some(p) = current {
            if lane.sticky_count < limits.messages
                && (limits.linger_ms == 0
                    || clock::elapsed_below(lane.sticky_since, limits.linger_ms))
                && ctx.usable(t, p, n)
            {
                lane.sticky_count += 1;
                return p;
            }
        }
        let next = choose_next(current, n, ctx);
        lane.sticky_tag = next + 1;
        lane.sticky_count = 1;
        lane.sticky_since = if limits.linger_ms > 0 {
            clock::now_ms()
        } else {
            0
        };
        next
    })
}

/// Uniform among the usable partitions other than `prev`; failing that,
/// `prev` if usable; failing that, any.
fn choose_next(prev: Option<u32>, n: u32, ctx: &Ctx) -> u32 {
    if n == 1 {
        return 0;
    }
    let t = ctx.topic();
    let p = pick(n, prev);
    if ctx.usable(t, p, n) {
        return p;
    }
    ctx.random_usable(t, n, prev)
        .or(prev.filter(|&q| ctx.usable(t, q, n)))
        .unwrap_or(p)
}
