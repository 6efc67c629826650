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

#[inline]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let t = ctx.topic();
    t.with_lane(|lane| {
        let first = take(lane, n);
        if ctx.usable(t, first, n) {
            return first;
        }
        skip_unusable(first, n, ctx, lane)
    })
}

#[inline]
fn take(lane: &mut Lane, n: u32) -> u32 {
    let p = modulo(lane.tickets, n);
    lane.tickets = lane.tickets.wrapping_add(1);
    p
}

#[cold]
fn skip_unusable(first: u32, n: u32, ctx: &Ctx, lane: &mut Lane) -> u32 {
    let t = ctx.topic();
    for _ in 1..n.min(PROBES) {
        let p = take(lane, n);
        if ctx.usable(t, p, n) {
            return p;
        }
    }
    ctx.next_usable(t, first, n).unwrap_or(first)
}

/// `t % n`, with a 32-bit divide for the first 2^32 tickets (several times
/// cheaper than a 64-bit one on many CPUs) and exact cycles beyond.
#[inline]
fn modulo(t: u64, n: u32) -> u32 {
    match u32::try_from(t) {
        Ok(t) => t % n,
        Err(_) => (t % n as u64) as u32,
    }
}
