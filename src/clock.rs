//! Monotonic milliseconds: sticky's runs, adaptive's latencies, hot keys'
//! windows, and the plugin's waits.
//!
//! Reading the precise clock costs more than a whole murmur2 partitioning,
//! even through the vDSO. The coarse clock (`CLOCK_MONOTONIC_COARSE`)
//! is the same clock updated once per kernel tick, readable in a few ns; it
//! lags the precise one by less than its resolution. `elapsed_below()` uses
//! it to answer most "has this much time passed?" questions exactly,
//! reading the precise clock only near the limit.

use std::sync::atomic::{AtomicU32, Ordering};

#[inline]
fn read_ms(clock: libc::clockid_t) -> u32 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec to write into; both clocks exist on Linux.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1000)
        .wrapping_add(ts.tv_nsec as u64 / 1_000_000) as u32
}

/// Milliseconds on the monotonic clock, truncated to 32 bits. Compare two
/// readings with `wrapping_sub`: exact for intervals under ~49 days.
#[inline]
pub fn now_ms() -> u32 {
    read_ms(libc::CLOCK_MONOTONIC)
}

/// Milliseconds on the coarse monotonic clock (a few ns to read; behind
/// `now_ms()` by less than its resolution, a few ms): for bookkeeping
/// that needs no precision.
#[inline]
pub fn coarse_ms() -> u32 {
    read_ms(libc::CLOCK_MONOTONIC_COARSE)
}

/// How far the coarse clock may lag, in ms, rounded up (+1 for the ms
/// truncation of both readings). Read once.
fn coarse_lag_ms() -> u32 {
    static LAG: AtomicU32 = AtomicU32::new(0);
    let lag = LAG.load(Ordering::Relaxed);
    if lag != 0 {
        return lag;
    }
    let mut res = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: res is a valid timespec to write into.
    let ok = unsafe { libc::clock_getres(libc::CLOCK_MONOTONIC_COARSE, &mut res) } == 0;
    let lag = if ok && res.tv_sec == 0 {
        (res.tv_nsec as u32).div_ceil(1_000_000) + 1
    } else {
        u32::MAX // unusable: always read the precise clock
    };
    LAG.store(lag, Ordering::Relaxed);
    lag
}

/// Whether less than `limit_ms` has passed since `since` (a `now_ms()`
/// reading). Exact, as if `now_ms()` were read, but usually cheaper.
#[inline]
pub fn elapsed_below(since: u32, limit_ms: u32) -> bool {
    let coarse = read_ms(libc::CLOCK_MONOTONIC_COARSE).wrapping_sub(since) as i32 as i64;
    if coarse + (coarse_lag_ms() as i64) < limit_ms as i64 {
        return true;
    }
    now_ms().wrapping_sub(since) < limit_ms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coarse_answers_agree_with_the_precise_clock() {
        let since = now_ms();
        assert!(elapsed_below(since, 1000));
        assert!(!elapsed_below(since.wrapping_sub(2000), 1000));
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert!(!elapsed_below(since, 20));
        assert!(elapsed_below(since, 10_000));
    }
}
