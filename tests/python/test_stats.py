"""rdpart.stats() (rdpart_stats() in C), on the mock cluster and Apache
Kafka: its figures against a direct count of what was produced (the
delivery reports: partition, key and value sizes), for a keyed topic with a
hot key and a keyless adaptive topic in one producer; in flight 0 after a
flush and above 0 while messages wait."""

import collections

import pytest
from confluent_kafka import Producer

import rdpart
from conftest import new_topic


def topics_of(name):
    for p in rdpart.stats()["producers"]:
        if p["name"] == name:
            return {t["topic"]: t for t in p["topics"]}
    raise AssertionError(f"producer {name} not in {rdpart.stats()}")


def test_stats_match_what_was_delivered(broker):
    keyed, keyless = new_topic(broker), new_topic(broker)
    p = Producer({"bootstrap.servers": broker.bootstrap_servers, "linger.ms": 50,
                  **rdpart.config("murmur2", topic_strategy=f"{keyless}:adaptive",
                                  hot_key_share="0.2")})
    got = collections.defaultdict(lambda: [0, 0])  # (topic, partition) -> [messages, bytes]

    def dr(err, m):
        assert err is None, err
        c = got[(m.topic(), m.partition())]
        c[0] += 1
        c[1] += len(m.value()) + len(m.key() or b"")

    for i in range(3000):
        key = b"hot" if i % 2 else b"k%d" % (i % 700)
        p.produce(keyed, key=key, value=b"v" * (i % 50), on_delivery=dr)
        p.produce(keyless, value=b"w" * (i % 70), on_delivery=dr)
    # Messages wait for linger.ms: some are in flight now.
    stats = rdpart.stats()
    producers = [q for q in stats["producers"] if any(t["topic"] == keyed for t in q["topics"])]
    assert len(producers) == 1, stats
    name = producers[0]["name"]
    assert sum(t["in_flight"] for t in topics_of(name).values()) > 0
    assert p.flush(60) == 0
    topics = topics_of(name)
    for topic, strategy in ((keyed, "murmur2"), (keyless, "adaptive")):
        t = topics[topic]
        assert t["strategy"] == strategy
        assert t["sent"] == 3000 and t["in_flight"] == 0, t
        parts = {q["partition"]: q for q in t["partitions"]}
        want = {q: c for (tp, q), c in got.items() if tp == topic}
        assert {q: [v["delivered"], v["bytes"]] for q, v in parts.items() if v["delivered"]} == want
        assert t["sent_bytes"] == sum(c[1] for c in want.values())
        assert all(v["failed"] == 0 for v in parts.values())
    # adaptive's view: nothing in flight after the flush, latencies measured.
    assert all(v["in_flight"] == 0 for v in topics[keyless]["partitions"])
    assert any(v["latency_us"] > 0 for v in topics[keyless]["partitions"])
    # The hot key, with its partitions.
    hot = topics[keyed]["hot_keys"]
    assert [h["key"] for h in hot] == ["hot"], hot
    assert 0.4 <= hot[0]["share"] <= 0.6 and len(hot[0]["partitions"]) == 4, hot
    print(f"{name}: {topics[keyed]['sent']} + {topics[keyless]['sent']} messages, hot keys {hot}")


def test_stats_of_no_producer_is_an_empty_list():
    assert isinstance(rdpart.stats()["producers"], list)
