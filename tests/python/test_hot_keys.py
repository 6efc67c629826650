"""Hot keys (rdpart.hot.key.share), on the mock cluster and Apache Kafka: one
key with 40% of a 6-partition topic's messages, 60% over 2,000 keys, read
back from the broker. The fullest partition against the mean: murmur2 alone
about 3.0 (the hot key's partition gets 0.4 + 0.6/6 of the messages); with
the hot key spread, at most 1.5 with the defaults and at most 1.15 with
hot.key.partitions=6. Every other key stays on murmur2's partition
(confluent-kafka's murmur2, librdkafka's), in order; nothing is lost or
duplicated; the producer's log says when the key turned hot."""

import collections
import time

import confluent_kafka
import pytest
from confluent_kafka import Producer

import rdpart
from conftest import new_topic
from producer import read_back

N = 12_000
HOT = b"hot"


def key_of(i: int) -> bytes:
    if i % 5 < 2:
        return HOT
    return b"k%d" % ((i // 5 * 3 + i % 5 - 2) % 2000)


def run(broker, logger=None, **options):
    topic = new_topic(broker)
    conf = {"bootstrap.servers": broker.bootstrap_servers, "enable.idempotence": True,
            "linger.ms": 5, **rdpart.config("murmur2", **options)}
    p = Producer(conf, logger=logger) if logger else Producer(conf)  # produce at once
    # About 2.5 s of traffic, so the counting windows roll while it runs.
    for i in range(N):
        p.produce(topic, key=key_of(i), value=b"%d" % i)
        if i % 600 == 599:
            p.poll(0)
            time.sleep(0.12)
    assert p.flush(60) == 0
    records = read_back(broker.bootstrap_servers, topic, 6, N, timeout=120)
    values = [int(v) for _, _, v in records]
    assert len(values) == N and len(set(values)) == N, (len(values), len(set(values)))
    counts = collections.Counter(q for q, _, _ in records)
    imbalance = max(counts.values()) / (N / 6)
    # Every key but the hot one: murmur2's partition, in the order produced.
    last = {}
    for q, k, v in records:
        if k == HOT:
            continue
        assert q == confluent_kafka.murmur2(k, 6), (k, q)
        assert last.get(k, -1) < int(v), (k, last.get(k), v)
        last[k] = int(v)
    hot_partitions = sorted({q for q, k, _ in records if k == HOT})
    return imbalance, hot_partitions


class Log:
    def __init__(self):
        self.lines = []

    def log(self, level, msg, *args, **kwargs):
        self.lines.append(msg % args if args else msg)

    debug = info = warning = error = critical = exception = log

    def __getattr__(self, name):
        return lambda *a, **k: None


def test_murmur2_alone_sinks_the_hot_keys_partition(broker):
    imbalance, hot = run(broker)
    home = confluent_kafka.murmur2(HOT, 6)
    assert hot == [home]
    assert 2.8 <= imbalance <= 3.2, imbalance
    print(f"murmur2 alone: fullest/mean {imbalance:.3f}")


def test_hot_keys_spread_with_the_defaults(broker):
    log = Log()
    imbalance, hot = run(broker, logger=log, hot_key_share="0.2")
    home = confluent_kafka.murmur2(HOT, 6)
    assert hot == sorted((home + i) % 6 for i in range(4)), hot
    assert imbalance <= 1.5, imbalance
    said = [line for line in log.lines if 'key "hot" is hot' in line]
    assert len(said) == 1, log.lines
    assert "partitions %d, %d, %d, %d" % tuple((home + i) % 6 for i in range(4)) in said[0], said
    print(f"hot.key.share=0.2: fullest/mean {imbalance:.3f}; {said[0]}")


def test_hot_keys_spread_over_every_partition(broker):
    imbalance, hot = run(broker, hot_key_share="0.2", hot_key_partitions="6")
    assert hot == list(range(6)), hot
    assert imbalance <= 1.15, imbalance
    print(f"hot.key.partitions=6: fullest/mean {imbalance:.3f}")


@pytest.mark.parametrize("value", ["1", "-0.5", "often", "nan"])
def test_a_bad_share_is_refused_naming_the_property(value):
    with pytest.raises(rdpart.RdpartError) as e:
        rdpart.config("murmur2", hot_key_share=value)
    assert "rdpart.hot.key.share" in str(e.value) and "between 0 and 1" in str(e.value)
