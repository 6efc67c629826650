//! random: uniform over the usable partitions (see available.rs); over all
//! of them when none is.

use super::ctx::Ctx;
use crate::rng;

#[inline(always)]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let p = rng::below(n);
    let v = &ctx.topic().view;
    if ctx.usable(v, p, n) {
        return p;
    }
    ctx.random_usable(v, n, Some(p)).unwrap_or(p)
}
