//! round_robin: the key is ignored; each message takes the next ticket of
//! the topic's cycle. A ticket that falls on a partition without a leader
//! is skipped, so the available partitions share exactly evenly; when none
//! has a leader, the cycle runs over all of them. (The Java
//! RoundRobinPartitioner skips every other partition when batches roll.)
//!
//! Each lane of a topic (see topics.rs) has its own cycle, starting at its
//! own offset: one thread's messages cycle exactly, and concurrent threads
//! do not contend.

use super::Ctx;
use std::sync::atomic::Ordering;

#[inline]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let (lane, state) = ctx.topic().lane();
    let first = modulo(
        state.tickets.fetch_add(1, Ordering::Relaxed) + lane as u64,
        n,
    );
    if ctx.available(first) {
        return first;
    }
    skip_unavailable(first, n, ctx)
}

#[cold]
fn skip_unavailable(first: u32, n: u32, ctx: &Ctx) -> u32 {
    if !(1..n).any(|i| ctx.available((first + i) % n)) {
        return first;
    }
    let (lane, state) = ctx.topic().lane();
    for _ in 1..n {
        let p = modulo(
            state.tickets.fetch_add(1, Ordering::Relaxed) + lane as u64,
            n,
        );
        if ctx.available(p) {
            return p;
        }
    }
    first
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
