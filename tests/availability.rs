//! Which partitions keyless placement uses: leaders not known yet are
//! used, lost leaders are not, and an outage costs a bounded number of
//! availability calls.

mod common;
use common::*;
use rdpart::strategy::Strategy;
use std::sync::atomic::Ordering;

#[test]
fn random_avoids_partitions_without_leader_and_stays_uniform() {
    let part = partitioner(Strategy::Random, 1, 0);
    let topic = FakeTopic::new(0);
    part.partition(topic.rkt(), None, 8); // all leaders known: settled
    topic.0.store(0b100101, Ordering::Relaxed); // 0, 2, 5 lose theirs
    let mut counts = vec![0u64; 8];
    for _ in 0..100_000 {
        counts[part.partition(topic.rkt(), None, 8) as usize] += 1;
    }
    assert_eq!([counts[0], counts[2], counts[5]], [0, 0, 0]);
    let up: Vec<u64> = [1, 3, 4, 6, 7].iter().map(|&p| counts[p]).collect();
    assert!(chi_square(&up) < chi_square_bound(4), "{counts:?}");
    // None available: fall back to all partitions.
    topic.0.store(u64::MAX, Ordering::Relaxed);
    let mut seen = [false; 8];
    for _ in 0..1000 {
        seen[part.partition(topic.rkt(), None, 8) as usize] = true;
    }
    assert!(seen.iter().all(|&s| s));
}

#[test]
fn leaders_not_known_yet_are_used_and_lost_leaders_are_not() {
    for strategy in [Strategy::RoundRobin, Strategy::Random, Strategy::Sticky] {
        let part = partitioner(strategy, 1, 0);
        // Right after metadata: only partitions 0 and 1 have a leader yet.
        let topic = FakeTopic::new(0b111100);
        let mut counts = vec![0u64; 6];
        for _ in 0..6000 {
            counts[part.partition(topic.rkt(), None, 6) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| c > 700),
            "{strategy:?}: every partition used from the first message: {counts:?}"
        );
        // The leaders arrive (rdpart scans at most once a millisecond while
        // it waits for them); then partition 4 loses its leader.
        topic.0.store(0, Ordering::Relaxed);
        std::thread::sleep(std::time::Duration::from_millis(2));
        part.partition(topic.rkt(), None, 6);
        topic.0.store(1 << 4, Ordering::Relaxed);
        let mut counts = vec![0u64; 6];
        for _ in 0..6000 {
            counts[part.partition(topic.rkt(), None, 6) as usize] += 1;
        }
        assert_eq!(
            counts[4], 0,
            "{strategy:?}: a lost leader is skipped: {counts:?}"
        );
        if strategy == Strategy::RoundRobin {
            assert_eq!(counts, vec![1200, 1200, 1200, 1200, 0, 1200]);
        }
    }
}

#[test]
fn a_partition_leaderless_from_the_start_is_skipped_after_the_warm_up() {
    let part = partitioner(Strategy::RoundRobin, 1, 0);
    let topic = FakeTopic::new(1 << 2);
    part.partition(topic.rkt(), None, 4);
    std::thread::sleep(std::time::Duration::from_millis(150));
    let mut counts = vec![0u64; 4];
    for _ in 0..3000 {
        counts[part.partition(topic.rkt(), None, 4) as usize] += 1;
    }
    assert_eq!(counts, vec![1000, 1000, 0, 1000]);
}

#[test]
fn an_outage_costs_a_bounded_number_of_availability_calls() {
    let n = 1000;
    for strategy in [Strategy::RoundRobin, Strategy::Random, Strategy::Sticky] {
        let part = counting(strategy);
        let topic = FakeTopic::new(0);
        part.partition(topic.rkt(), None, n); // settled
        topic.0.store(u64::MAX, Ordering::Relaxed); // every leader lost (fake: bits mod 64)
        CALLS.store(0, Ordering::Relaxed);
        let messages = 10_000;
        for _ in 0..messages {
            assert!(part.partition(topic.rkt(), None, n) < n);
        }
        let per = CALLS.load(Ordering::Relaxed) as f64 / messages as f64;
        assert!(per <= 16.0, "{strategy:?}: {per} calls per message");
    }
}
