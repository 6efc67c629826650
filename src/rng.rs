//! A per-thread pseudo-random generator (wyrand) for placement decisions.
//!
//! No lock and no allocation: the state is a plain `Cell<u64>` in a
//! const-initialised thread local. Seeded on first use per thread from the
//! clock, the process id, the thread's address and a process-wide counter;
//! a fork() child reseeds (process.rs), so forked workers do not draw the
//! same sequence.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

thread_local! {
    static STATE: Cell<u64> = const { Cell::new(0) };
}

static SEEDS: AtomicU64 = AtomicU64::new(0);

#[cold]
fn seed(slot: &Cell<u64>) -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() } as u64;
    let mut z = (ts.tv_sec as u64)
        ^ ((ts.tv_nsec as u64) << 20)
        ^ pid.wrapping_mul(0xd6e8_feb8_6659_fd93)
        ^ (slot as *const Cell<u64> as u64)
        ^ SEEDS.fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed);
    // splitmix64 finaliser.
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31) | 1
}

/// The next 64 random bits of this thread's stream.
#[inline]
pub fn next_u64() -> u64 {
    STATE.with(|s| {
        let mut x = s.get();
        if x == 0 {
            x = seed(s);
        }
        x = x.wrapping_add(0xa076_1d64_78bd_642f);
        s.set(x);
        let t = (x as u128).wrapping_mul((x ^ 0xe703_7ed1_a0b4_28db) as u128);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

/// A uniform number in `0..n` (`n >= 1`), by multiply-shift: no division,
/// bias below `n / 2^64`.
#[inline]
pub fn below(n: u32) -> u32 {
    ((next_u64() as u128 * n as u128) >> 64) as u32
}

/// A uniform draw in `0..n` (`n >= 1`), 64-bit.
#[inline]
pub fn below_u64(n: u64) -> u64 {
    ((next_u64() as u128 * n as u128) >> 64) as u64
}

/// Makes this thread draw a new sequence (a fork() child's only thread).
pub fn reseed_this_thread() {
    let _ = STATE.try_with(|s| s.set(0));
}
