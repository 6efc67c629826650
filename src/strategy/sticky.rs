//! sticky (keyless messages): stay on one partition until `messages` have
//! been placed on it or `linger_ms` have passed since the switch, whichever
//! comes first, or it loses its leader; then move to a partition chosen
//! uniformly among the other available ones.
//!
//! Lock-free. The run is one atomic word, `(partition + 1) << 32 | count`:
//! each message takes a place in the run with one `fetch_add`, and the
//! thread that finds the run over installs the next one with a
//! compare-and-swap. The switch time is a second word tagged with the same
//! partition, so a reader that sees a new run before its time knows the
//! switch is in progress and does not switch again. Each lane of a topic
//! (see topics.rs) has its own run: one producing thread's keyless messages
//! follow the rules exactly; concurrent threads do not contend.

use super::{random_available, Ctx};
use crate::{clock, rng};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

#[inline]
pub fn place(n: u32, ctx: &Ctx) -> u32 {
    let (_, state) = ctx.topic().lane();
    let limits = ctx.sticky;
    loop {
        let run = state.sticky.fetch_add(1, AcqRel);
        let tag = (run >> 32) as u32;
        let count = run as u32;
        if tag >= 1 && tag <= n && count < limits.messages {
            let p = tag - 1;
            let since = state.sticky_since.load(Acquire);
            let in_time = limits.linger_ms == 0
                || (since >> 32) as u32 != tag
                || clock::elapsed_below(since as u32, limits.linger_ms);
            if in_time && ctx.available(p) {
                return p;
            }
        }
        // The run is over for us: install the next one, unless another
        // thread already did (then take a place in that one).
        let prev = (tag >= 1 && tag <= n).then(|| tag - 1);
        let mut cur = run.wrapping_add(1);
        loop {
            if (cur >> 32) as u32 != tag {
                break;
            }
            let next = choose_next(prev, n, ctx);
            let tag_next = (next as u64 + 1) << 32;
            match state
                .sticky
                .compare_exchange(cur, tag_next | 1, AcqRel, Relaxed)
            {
                Ok(_) => {
                    let now = if limits.linger_ms > 0 {
                        clock::now_ms()
                    } else {
                        0
                    };
                    state.sticky_since.store(tag_next | now as u64, Release);
                    return next;
                }
                Err(actual) => cur = actual,
            }
        }
    }
}

/// Uniform among the available partitions other than `prev`; failing that,
/// any available one; failing that, any.
fn choose_next(prev: Option<u32>, n: u32, ctx: &Ctx) -> u32 {
    if n == 1 {
        return 0;
    }
    let p = match prev {
        Some(prev) => {
            let r = rng::below(n - 1);
            r + (r >= prev) as u32
        }
        None => rng::below(n),
    };
    if ctx.available(p) {
        return p;
    }
    random_available(n, ctx, prev)
        .or_else(|| random_available(n, ctx, None))
        .unwrap_or(p)
}
