//! round_robin: the key is ignored; each message takes the next ticket of
//! the topic's cycle. A ticket that falls on a partition that is not usable
//! (see available.rs) is skipped, so the usable partitions share exactly
//! evenly; when none is, the cycle runs over all of them. (The Java
//! RoundRobinPartitioner skips every other partition when batches roll.)
//!
//! Each thread has its own cycle per topic (see state.rs), starting at a
//! random offset: one thread's messages cycle exactly, and concurrent
//! threads share no state.

use super::available::PROBES;
use super::ctx::Ctx;
use super::state::Lane;

#[inline(always)]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let t = ctx.topic();
    t.with_lane(|lane| {
        let first = take(lane, n);
        if ctx.usable(&t.view, first, n) {
            return first;
        }
        skip_unusable(first, n, ctx, lane)
    })
}

/// The lane's next partition; its ticket moves on to the one after. The
/// ticket is kept in `0..n`, so no division is needed, except when the
/// lane is new (its ticket a random offset) or the topic had more
/// partitions before.
#[inline]
fn take(lane: &mut Lane, n: u32) -> u32 {
    let n = n as u64;
    let mut p = lane.tickets;
    if p >= n {
        p %= n;
    }
    lane.tickets = if p + 1 == n { 0 } else { p + 1 };
    p as u32
}

#[cold]
fn skip_unusable(first: u32, n: u32, ctx: &Ctx, lane: &mut Lane) -> u32 {
    let v = &ctx.topic().view;
    for _ in 1..n.min(PROBES) {
        let p = take(lane, n);
        if ctx.usable(v, p, n) {
            return p;
        }
    }
    ctx.next_usable(v, first, n).unwrap_or(first)
}
