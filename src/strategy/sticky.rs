//! sticky (keyless messages): runs (run.rs) on one usable partition (see
//! available.rs); each new run goes to a partition chosen uniformly among
//! the other usable ones. Each thread has its own run per topic
//! (state.rs): one producing thread's keyless messages follow the rules
//! exactly, and concurrent threads share no state.

use super::available::pick;
use super::ctx::Ctx;

#[inline(always)]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let t = ctx.topic();
    t.with_lane(|lane| {
        lane.run.place(
            n,
            &ctx.run,
            None,
            |p| ctx.usable(&t.view, p, n),
            |prev| choose_next(prev, n, ctx),
        )
    })
}

/// Uniform among the usable partitions other than `prev`; failing that,
/// `prev` if usable; failing that, any.
fn choose_next(prev: Option<u32>, n: u32, ctx: &Ctx) -> u32 {
    if n == 1 {
        return 0;
    }
    let v = &ctx.topic().view;
    let p = pick(n, prev);
    if ctx.usable(v, p, n) {
        return p;
    }
    ctx.random_usable(v, n, prev)
        .or(prev.filter(|&q| ctx.usable(v, q, n)))
        .unwrap_or(p)
}
