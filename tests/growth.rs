//! How many keys move when a topic grows: jump moves about 1/(n+1) of the
//! keys, all to the new partition; the modulo hashes move most.

mod common;
use common::*;
use rdpart::capi::*;

#[test]
fn jump_moves_about_one_in_n_plus_one_keys_and_only_to_the_new_partition() {
    let mut g = Gen(4);
    for n in [1u32, 2, 3, 5, 9, 16, 50, 100, 333, 999] {
        let keys = (1500 * (n as usize + 1)).max(100_000);
        let mut moved = 0usize;
        for _ in 0..keys {
            let key = g.next().to_le_bytes();
            let before = call(rdpart_jump, Some(&key), n as i32);
            let after = call(rdpart_jump, Some(&key), n as i32 + 1);
            if before != after {
                assert_eq!(after, n as i32, "a key moved to an old partition");
                moved += 1;
            }
        }
        let frac = moved as f64 / keys as f64;
        let want = 1.0 / (n as f64 + 1.0);
        assert!(
            (frac - want).abs() <= 0.1 * want,
            "n {n}: moved {frac}, expected {want}"
        );
    }
}
