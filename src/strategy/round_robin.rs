//! round_robin: the key is ignored; each message takes the next ticket of
//! the topic's cycle. A ticket that falls on a partition without a leader
//! is skipped, so the available partitions share exactly evenly. (The Java
//! RoundRobinPartitioner skips every other partition when batches roll.)

use super::Ctx;
use std::sync::atomic::Ordering;

#[inline]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let tickets = &ctx.topic().tickets;
    let first = (tickets.fetch_add(1, Ordering::Relaxed) % n as u64) as u32;
    if ctx.available(first) {
        return first;
    }
    for _ in 1..n {
        let p = (tickets.fetch_add(1, Ordering::Relaxed) % n as u64) as u32;
        if ctx.available(p) {
            return p;
        }
    }
    first
}
