//! Behaviour of every strategy: range, determinism, uniformity,
//! round-robin cycles, sticky runs, jump's minimal movement, availability,
//! concurrency, and the NULL/out-of-range contract of the C ABI.

mod common;
use common::{call, chi_square, chi_square_bound, Cb, Gen};
use rdpart::capi::*;
use rdpart::config::Config;
use rdpart::partitioner::Partitioner;
use rdpart::strategy::{RunLimits, Strategy, TopicRef, TopicState};
use rdpart::sys::*;
use rdpart::topics::Topics;
use std::ffi::{c_int, c_void, CString};
use std::sync::atomic::{AtomicU64, Ordering};

const ALL: [(&str, Cb); 16] = [
    ("murmur2", rdpart_murmur2),
    ("murmur2_random", rdpart_murmur2_random),
    ("consistent", rdpart_consistent),
    ("consistent_random", rdpart_consistent_random),
    ("fnv1a", rdpart_fnv1a),
    ("fnv1a_random", rdpart_fnv1a_random),
    ("jump", rdpart_jump),
    ("random", rdpart_random),
    ("round_robin", rdpart_round_robin),
    ("sticky", rdpart_sticky),
    ("kafkajs", rdpart_kafkajs),
    ("kafkajs_legacy", rdpart_kafkajs_legacy),
    ("sarama_reference", rdpart_sarama_reference),
    ("sarama_crc", rdpart_sarama_crc),
    ("kafka_go_hash", rdpart_kafka_go_hash),
    ("adaptive", rdpart_adaptive),
];

/// A fake topic: the "rkt" points at a bit mask of partitions that have no
/// leader, and `fake_available` reads it, as librdkafka's function would.
struct FakeTopic(AtomicU64);

impl FakeTopic {
    fn new(down: u64) -> Box<FakeTopic> {
        Box::new(FakeTopic(AtomicU64::new(down)))
    }
    fn rkt(&self) -> *const rd_kafka_topic_t {
        self as *const FakeTopic as *const rd_kafka_topic_t
    }
}

unsafe extern "C" fn fake_available(rkt: *const rd_kafka_topic_t, p: i32) -> c_int {
    let down = unsafe { &*(rkt as *const FakeTopic) }
        .0
        .load(Ordering::Relaxed);
    (down >> p & 1 == 0) as c_int
}

/// A partitioner with its own topic table, as rdpart_new() makes.
struct TestPart {
    part: Partitioner,
    topics: Topics<TopicState>,
}

impl TestPart {
    fn partition(&self, rkt: *const rd_kafka_topic_t, key: Option<&[u8]>, n: u32) -> u32 {
        self.part
            .place(rkt, TopicRef::Table(&self.topics), key, n, 0)
    }
}

fn partitioner(strategy: Strategy, messages: u32, linger_ms: u32) -> TestPart {
    TestPart {
        part: Partitioner::new(
            Config {
                strategy,
                run: RunLimits {
                    messages,
                    linger_ms,
                    ..RunLimits::default()
                },
                ..Config::default()
            },
            Some(fake_available),
            None,
        ),
        topics: Topics::default(),
    }
}

#[test]
fn always_in_range_for_every_strategy_and_count() {
    let mut g = Gen(1);
    for (name, cb) in ALL {
        for n in [1, 2, 3, 6, 7, 64, 1000, 10_000, i32::MAX] {
            for i in 0..2_000 {
                let len = g.below(40) as usize;
                let key = g.bytes(len);
                let k = match i % 3 {
                    0 => None,
                    1 => Some(&key[..0]),
                    _ => Some(&key[..]),
                };
                let p = call(cb, k, n);
                assert!((0..n).contains(&p), "{name} gave {p} for n {n}");
            }
        }
    }
}

#[test]
fn hash_strategies_are_deterministic() {
    let mut g = Gen(2);
    let hashed = [
        "murmur2",
        "murmur2_random",
        "consistent",
        "consistent_random",
        "fnv1a",
        "fnv1a_random",
        "jump",
        "sticky",
        "kafkajs",
        "kafkajs_legacy",
        "sarama_reference",
        "sarama_crc",
        "kafka_go_hash",
        "adaptive",
    ];
    for (name, cb) in ALL.iter().filter(|(n, _)| hashed.contains(n)) {
        for _ in 0..5_000 {
            let len = 1 + g.below(64) as usize;
            let key = g.bytes(len);
            let n = 1 + g.below(500) as i32;
            assert_eq!(call(*cb, Some(&key), n), call(*cb, Some(&key), n), "{name}");
        }
    }
}

#[test]
fn contract_at_the_boundary() {
    for (name, cb) in ALL {
        for n in [0, -1, i32::MIN] {
            assert_eq!(call(cb, Some(b"k"), n), -1, "{name} n {n}");
            assert_eq!(call(cb, None, n), -1, "{name} n {n}");
        }
        // NULL keydata with a length is a NULL key.
        let with_len = unsafe {
            cb(
                std::ptr::null(),
                std::ptr::null(),
                99,
                1,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(with_len, 0, "{name}");
    }
    assert_eq!(
        unsafe {
            rdpart_murmur2(
                std::ptr::null(),
                std::ptr::null(),
                5,
                1000,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        },
        call(rdpart_murmur2, Some(b""), 1000)
    );
    unsafe {
        rdpart_conf_destroy(std::ptr::null_mut());
        rdpart_destroy(std::ptr::null_mut());
        let mut err = [0i8; 64];
        assert_eq!(
            rdpart_conf_set(
                std::ptr::null_mut(),
                c"strategy".as_ptr(),
                c"jump".as_ptr(),
                err.as_mut_ptr(),
                err.len()
            ),
            RD_KAFKA_CONF_INVALID
        );
        let conf = rdpart_conf_new();
        assert_eq!(
            rdpart_conf_set(
                conf,
                std::ptr::null(),
                c"x".as_ptr(),
                std::ptr::null_mut(),
                0
            ),
            RD_KAFKA_CONF_INVALID
        );
        assert_eq!(
            rdpart_conf_set(
                conf,
                c"nope".as_ptr(),
                c"x".as_ptr(),
                std::ptr::null_mut(),
                0
            ),
            RD_KAFKA_CONF_UNKNOWN
        );
        // A tiny error buffer is truncated and terminated.
        assert_eq!(
            rdpart_conf_set(
                conf,
                c"strategy".as_ptr(),
                c"x".as_ptr(),
                err.as_mut_ptr(),
                8
            ),
            RD_KAFKA_CONF_INVALID
        );
        assert_eq!(std::ffi::CStr::from_ptr(err.as_ptr()).to_bytes().len(), 7);
        assert_eq!(
            rdpart_conf_set(
                conf,
                c"strategy".as_ptr(),
                std::ptr::null(),
                std::ptr::null_mut(),
                0
            ),
            RD_KAFKA_CONF_OK
        );
        let part = rdpart_new(conf, std::ptr::null_mut(), 0);
        rdpart_conf_destroy(conf);
        let p = rdpart_partition(
            std::ptr::null(),
            b"key".as_ptr() as *const c_void,
            3,
            10,
            part as *mut c_void,
            std::ptr::null_mut(),
        );
        assert_eq!(
            p,
            call(rdpart_murmur2, Some(b"key"), 10),
            "default strategy sticky hashes keys as murmur2"
        );
        // NULL and foreign opaques place like the default (sticky).
        let foreign = Box::new([0u64; 16]);
        for opaque in [std::ptr::null_mut(), foreign.as_ptr() as *mut c_void] {
            let p = rdpart_partition(
                std::ptr::null(),
                b"key".as_ptr() as *const c_void,
                3,
                10,
                opaque,
                std::ptr::null_mut(),
            );
            assert_eq!(p, call(rdpart_murmur2, Some(b"key"), 10));
        }
        rdpart_destroy(part);
    }
}

#[test]
fn conf_api_sets_the_strategy() {
    let mut g = Gen(3);
    unsafe {
        let conf = rdpart_conf_new();
        let mut err = [0i8; 256];
        for (name, cb) in ALL {
            let v = CString::new(name).unwrap();
            assert_eq!(
                rdpart_conf_set(
                    conf,
                    c"strategy".as_ptr(),
                    v.as_ptr(),
                    err.as_mut_ptr(),
                    err.len()
                ),
                RD_KAFKA_CONF_OK
            );
            let part = rdpart_new(conf, err.as_mut_ptr(), err.len());
            assert!(!part.is_null());
            if !["random", "round_robin"].contains(&name) {
                for _ in 0..1000 {
                    let len = 1 + g.below(30) as usize;
                    let key = g.bytes(len);
                    let got = rdpart_partition(
                        std::ptr::null(),
                        key.as_ptr() as *const c_void,
                        key.len(),
                        97,
                        part as *mut c_void,
                        std::ptr::null_mut(),
                    );
                    assert_eq!(got, call(cb, Some(&key), 97), "{name}");
                }
            }
            rdpart_destroy(part);
        }
        rdpart_conf_destroy(conf);
    }
}

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

#[test]
fn modulo_hashes_move_most_keys() {
    // The contrast that motivates jump: ~n/(n+1) move.
    let mut g = Gen(5);
    let n = 6;
    let moved = (0..60_000)
        .filter(|_| {
            let key = g.next().to_le_bytes();
            call(rdpart_murmur2, Some(&key), n) != call(rdpart_murmur2, Some(&key), n + 1)
        })
        .count();
    let frac = moved as f64 / 60_000.0;
    assert!((frac - 6.0 / 7.0).abs() < 0.02, "{frac}");
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

/// A fake topic whose availability function counts its calls.
static CALLS: AtomicU64 = AtomicU64::new(0);

unsafe extern "C" fn counting_available(rkt: *const rd_kafka_topic_t, p: i32) -> c_int {
    CALLS.fetch_add(1, Ordering::Relaxed);
    unsafe { fake_available(rkt, p) }
}

fn counting(strategy: Strategy) -> TestPart {
    TestPart {
        part: Partitioner::new(
            Config {
                strategy,
                run: RunLimits {
                    messages: 1,
                    linger_ms: 0,
                    ..RunLimits::default()
                },
                ..Config::default()
            },
            Some(counting_available),
            None,
        ),
        topics: Topics::default(),
    }
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
                s.settled.load(Ordering::Relaxed),
                s.first_placed.load(Ordering::Relaxed),
                s.last_scan.load(Ordering::Relaxed),
                s.dark_until.load(Ordering::Relaxed),
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
