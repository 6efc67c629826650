//! Keyless placement: random is uniform, round_robin cycles exactly,
//! sticky runs have the configured length and switch uniformly, and
//! threads share no state.

mod common;
use common::*;
use rdpart::capi::*;
use rdpart::strategy::{Strategy, TopicState};
use rdpart::sys::*;
use std::sync::atomic::Ordering;

#[test]
fn random_is_uniform() {
    let n = 12;
    let mut counts = vec![0u64; n];
    for _ in 0..240_000 {
        counts[call(rdpart_random, None, n as i32) as usize] += 1;
    }
    let x = chi_square(&counts);
    assert!(x < chi_square_bound(n - 1), "chi2 {x} counts {counts:?}");
    // The keyless side of every *_random strategy and jump uses it too.
    for cb in [
        rdpart_murmur2_random as Cb,
        rdpart_fnv1a_random,
        rdpart_consistent_random,
        rdpart_jump,
    ] {
        let mut counts = vec![0u64; 5];
        for _ in 0..50_000 {
            counts[call(cb, None, 5) as usize] += 1;
        }
        assert!(chi_square(&counts) < chi_square_bound(4), "{counts:?}");
    }
}

#[test]
fn round_robin_is_exactly_even_over_each_cycle_and_skips_unavailable() {
    let part = partitioner(Strategy::RoundRobin, 1, 0);
    let topic = FakeTopic::new(0);
    let n = 7;
    let first: Vec<u32> = (0..n)
        .map(|_| part.partition(topic.rkt(), Some(b"key ignored"), n))
        .collect();
    let mut sorted = first.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        (0..n).collect::<Vec<_>>(),
        "one cycle visits each partition once"
    );
    for cycle in 0..100 {
        let again: Vec<u32> = (0..n)
            .map(|_| part.partition(topic.rkt(), None, n))
            .collect();
        assert_eq!(again, first, "cycle {cycle}");
    }
    topic.0.store(0b0001010, Ordering::Relaxed); // 1 and 3 down
    let mut counts = vec![0u64; n as usize];
    for _ in 0..5 * 1000 {
        counts[part.partition(topic.rkt(), None, n) as usize] += 1;
    }
    assert_eq!(counts, vec![1000, 0, 1000, 0, 1000, 1000, 1000]);
    // Topics have separate cycles.
    let other = FakeTopic::new(0);
    let p0 = part.partition(other.rkt(), None, 3);
    assert_eq!(part.partition(other.rkt(), None, 3), (p0 + 1) % 3);
}

#[test]
fn sticky_runs_have_the_configured_length_and_switch_uniformly() {
    let (messages, n) = (25u32, 6u32);
    let part = partitioner(Strategy::Sticky, messages, 0);
    let topic = FakeTopic::new(0);
    let seq: Vec<u32> = (0..messages * 4000)
        .map(|_| part.partition(topic.rkt(), None, n))
        .collect();
    let mut targets = vec![0u64; n as usize];
    for (i, run) in seq.chunks(messages as usize).enumerate() {
        assert!(
            run.iter().all(|&p| p == run[0]),
            "run {i} is not one partition: {run:?}"
        );
        if i > 0 {
            assert_ne!(
                run[0],
                seq[(i - 1) * messages as usize],
                "run {i} did not switch"
            );
        }
        targets[run[0] as usize] += 1;
    }
    assert!(
        chi_square(&targets) < chi_square_bound(n as usize - 1),
        "{targets:?}"
    );
    // Keyed messages do not touch the run.
    assert_eq!(
        part.partition(topic.rkt(), Some(b"k"), n),
        call(rdpart_murmur2, Some(b"k"), n as i32) as u32
    );
}

#[test]
fn sticky_switches_when_time_passes_or_the_leader_goes() {
    let part = partitioner(Strategy::Sticky, 1_000_000, 50);
    let topic = FakeTopic::new(0);
    let n = 8;
    let a = part.partition(topic.rkt(), None, n);
    for _ in 0..1000 {
        assert_eq!(
            part.partition(topic.rkt(), None, n),
            a,
            "stays within linger and count"
        );
    }
    std::thread::sleep(std::time::Duration::from_millis(60));
    let b = part.partition(topic.rkt(), None, n);
    assert_ne!(a, b, "switched after linger.ms");
    topic.0.store(1 << b, Ordering::Relaxed);
    let c = part.partition(topic.rkt(), None, n);
    assert_ne!(b, c, "switched when its partition lost its leader");
    topic.0.store(!(1u64 << 3), Ordering::Relaxed); // only 3 is up
    for _ in 0..100 {
        assert_eq!(part.partition(topic.rkt(), None, n), 3);
    }
}

#[test]
fn many_threads_on_one_topic_give_exact_totals() {
    let threads = 4;
    let per_thread = 150_000u64;
    let n = 6u32;
    for strategy in [Strategy::RoundRobin, Strategy::Sticky] {
        let part = partitioner(strategy, 100, 1);
        let topic = FakeTopic::new(0);
        let rkt = topic.rkt() as usize;
        let counts: Vec<Vec<u64>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let part = &part;
                    s.spawn(move || {
                        let mut c = vec![0u64; n as usize];
                        for _ in 0..per_thread {
                            let p = part.partition(rkt as *const rd_kafka_topic_t, None, n);
                            assert!(p < n);
                            c[p as usize] += 1;
                        }
                        c
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let totals: Vec<u64> = (0..n as usize)
            .map(|p| counts.iter().map(|c| c[p]).sum())
            .collect();
        assert_eq!(totals.iter().sum::<u64>(), threads as u64 * per_thread);
        if strategy == Strategy::RoundRobin {
            let each = threads as u64 * per_thread / n as u64;
            assert_eq!(totals, vec![each; n as usize], "tickets are shared exactly");
        } else {
            assert!(totals.iter().all(|&t| t > 0), "{totals:?}");
        }
    }
    // The plain callbacks share state through a global table: hammer them too.
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..50_000 {
                    for cb in [rdpart_round_robin as Cb, rdpart_sticky] {
                        let p = call(cb, None, 5);
                        assert!((0..5).contains(&p));
                    }
                }
            });
        }
    });
}

#[test]
fn every_topic_has_its_own_cycle_beyond_the_old_table_size() {
    let part = partitioner(Strategy::RoundRobin, 1, 0);
    let topics: Vec<Box<FakeTopic>> = (0..300).map(|_| FakeTopic::new(0)).collect();
    // Two topics past the first 255 alternate: each keeps its own cycle.
    let (a, b) = (&topics[298], &topics[299]);
    for t in &topics {
        part.partition(t.rkt(), None, 2);
    }
    let mut counts = [[0u64; 2]; 2];
    for _ in 0..10_000 {
        counts[0][part.partition(a.rkt(), None, 2) as usize] += 1;
        counts[1][part.partition(b.rkt(), None, 2) as usize] += 1;
    }
    assert_eq!(counts, [[5000, 5000], [5000, 5000]]);
}

#[test]
fn in_steady_state_threads_write_no_shared_state() {
    // By construction: once a topic is settled, keyless placement writes
    // only the calling thread's lane (its own cache line) and the thread's
    // random state. Check that the shared topic state does not change and
    // that two threads' lanes are on different cache lines.
    for strategy in [Strategy::RoundRobin, Strategy::Sticky, Strategy::Random] {
        let part = partitioner(strategy, 100, 0);
        let topic = FakeTopic::new(0);
        let rkt = topic.rkt() as usize;
        part.partition(topic.rkt(), None, 6);
        let state = part.topics.get(rkt).unwrap();
        let snapshot = |s: &TopicState| {
            (
                s.view.availability.settled.load(Ordering::Relaxed),
                s.view.availability.first_placed.load(Ordering::Relaxed),
                s.view.availability.last_scan.load(Ordering::Relaxed),
                s.view.availability.dark_until.load(Ordering::Relaxed),
            )
        };
        let before = snapshot(state);
        assert!(before.0, "settled after the first call");
        let lanes: Vec<usize> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..2)
                .map(|_| {
                    let part = &part;
                    s.spawn(move || {
                        for _ in 0..100_000 {
                            part.partition(rkt as *const rd_kafka_topic_t, None, 6);
                        }
                        let t = part.topics.get(rkt).unwrap();
                        t.with_lane(|l| l as *const _ as usize)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            snapshot(state),
            before,
            "{strategy:?}: shared state written"
        );
        assert_ne!(lanes[0] / 64, lanes[1] / 64, "lanes share a cache line");
        assert_eq!(lanes[0] % 64, 0);
    }
}
