"""On Apache Kafka itself (3 nodes, KRaft, replication factor 3,
min.insync.replicas 2): the Java client run live as the oracle of keyed
placement, a broker killed (SIGKILL) in the middle of a run and restarted,
and topics grown with CreatePartitions while producers run."""

import collections
import os
import subprocess
import time

import pytest
from confluent_kafka import Producer

import rdpart
from conftest import new_topic
from keyset import keys
from oracle import KEYED
from producer import check, read_back

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
N = 6


def java_placements(kafka, topic, n, key_list, *props):
    """Where the Java client's default partitioner puts each key: produced
    by a real KafkaProducer, read back from the brokers."""
    src = os.path.join(ROOT, "tests", "kafka", "JavaPlacement.java")
    lines = "".join(("-" if k is None else k.hex()) + "\n" for k in key_list)
    r = subprocess.run(["java", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", kafka.classpath, src,
                        kafka.bootstrap_servers, topic, *props],
                       input=lines, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.split()[-1] == str(len(key_list)), r.stdout
    records = read_back(kafka.bootstrap_servers, topic, n, len(key_list), timeout=120)
    assert len(records) == len(key_list)
    return {int(v): p for p, _, v in records}


@pytest.fixture(scope="module")
def java_keys():
    """The shared key set (empty keys included), once each."""
    seen, out = set(), []
    for k, _ in keys():
        if k not in seen:
            seen.add(k)
            out.append(k)
    return out


@pytest.mark.parametrize("n", [6, 7, 12])
def test_java_client_places_keys_where_rdpart_does(kafka_broker, java_keys, n):
    """The Java client's KafkaProducer (kafka-clients 4.4.0, its default
    partitioner) against rdpart's murmur2, sticky and adaptive for keyed
    records: 0 differences. fnv1a, which the Java client does not use,
    differs on most keys, so the comparison can fail."""
    topic = new_topic(kafka_broker, n)
    java = java_placements(kafka_broker, topic, n, java_keys)
    assert len(set(java.values())) == n, "keys over every partition"
    for strategy in ["murmur2", "sticky", "adaptive", "kafkajs", "murmur2_random"]:
        bad = [(k, java[i]) for i, k in enumerate(java_keys) if rdpart.partition(strategy, k, n) != java[i]]
        assert not bad, f"{strategy}: {len(bad)} of {len(java_keys)} differ from Java, e.g. {bad[:3]}"
    differ = sum(rdpart.partition("fnv1a", k, n) != java[i] for i, k in enumerate(java_keys))
    assert differ > len(java_keys) // 2


KEYLESS = ["random", "round_robin", "sticky", "murmur2_random", "consistent_random", "fnv1a_random",
           "jump", "adaptive", "kafkajs", "sarama_crc"]


def test_failover_a_killed_broker(kafka_broker):
    """SIGKILL a node that leads partitions while producers of every keyless
    strategy run, keep producing, restart it, keep producing. On topics with
    3 replicas (min.insync.replicas 2), read back: nothing lost or twice,
    keys in order and where the oracle puts them. On single-replica topics,
    whose partitions on that node have no leader until it returns, keyless
    messages avoid those partitions meanwhile and use them again after."""
    k = kafka_broker
    victim = 2
    per_burst = 1500
    runs = {}
    for s in KEYLESS:
        rf3, rf1 = new_topic(k, N), f"rf1-{new_topic(k, N)}"
        k.create_topic(rf1, N, replication=1, min_insync=1)
        p = Producer({"bootstrap.servers": k.bootstrap_servers, "enable.idempotence": True, "linger.ms": 5,
                      "message.timeout.ms": 180000, "topic.metadata.refresh.interval.ms": 1000,
                      **rdpart.config(s, sticky_messages=50)})
        runs[s] = {"p": p, "rf3": rf3, "rf1": rf1, "sent": collections.Counter(), "placed": {}, "errors": [],
                   "phase": {}, "seq": collections.Counter(), "keyless": set()}

    def burst(phase, count=per_burst):
        for s, r in runs.items():
            for t in ("rf3", "rf1"):
                start = r["sent"][t]
                for i in range(count):
                    g = r["sent"][t]
                    if i % 3 == 0:
                        key = b"key-%d" % (i % 100)
                        value = b"k:%d:%d" % (r["seq"][t, key], g)
                        r["seq"][t, key] += 1
                    else:
                        key, value = None, b"n:%d" % g
                        r["keyless"].add((t, g))
                    r["sent"][t] += 1

                    def on_delivery(err, msg, r=r, t=t, g=g):
                        if err:
                            r["errors"].append(err)
                        else:
                            r["placed"][t, g] = msg.partition()
                    while True:
                        try:
                            r["p"].produce(r[t], key=key, value=value, on_delivery=on_delivery)
                            break
                        except BufferError:
                            r["p"].poll(0.05)
                r["phase"][t, phase] = range(start, r["sent"][t])
            r["p"].poll(0)

    def producers_see(pred, what, timeout=90):
        deadline = time.monotonic() + timeout
        def sees(r):
            try:
                return pred(r["p"].list_topics(r["rf1"], timeout=5).topics[r["rf1"]])
            except Exception:  # noqa: BLE001 - a metadata request to the dead node
                return False
        while time.monotonic() < deadline:
            if all(sees(r) for r in runs.values()):
                for r in runs.values():
                    r["p"].poll(0.2)  # leaders are applied on librdkafka's thread
                return
            for r in runs.values():
                r["p"].poll(0.2)
        raise AssertionError(f"the producers never saw {what}")

    burst("before")
    victims = {s: {pa for pa, lead in k.leaders(r["rf1"]).items() if lead == victim} for s, r in runs.items()}
    assert all(victims.values()), victims
    k.kill(victim)
    burst("kill")  # in flight while the node is gone but still the leader
    producers_see(lambda t: all(m.leader != victim for m in t.partitions.values()), "the node's partitions move")
    burst("down")
    k.start(victim)
    k.wait_ready()
    producers_see(lambda t: all(m.leader >= 0 for m in t.partitions.values()), "leaders back")
    # After: produced over about 3 s, as a running service does. adaptive
    # brings a partition back through probes (every 100 ms) once its
    # latency is normal again, not at the first message.
    for i in range(6):
        burst(f"after{i}", 300)
        for r in runs.values():
            r["p"].poll(0.5)
    for s, r in runs.items():
        assert r["p"].flush(180) == 0, s
        assert not r["errors"], (s, r["errors"][:3])
        for t in ("rf3", "rf1"):
            total = r["sent"][t]
            records = read_back(k.bootstrap_servers, r[t], N, total, timeout=120)
            oracle = KEYED[s]  # None: keys ignored (random, round_robin)
            assert check(records, total, by_key=oracle is not None) == \
                {"lost": 0, "duplicated": 0, "out_of_order": 0, "split_keys": 0}, (s, t)
            if oracle:
                assert all(pa == oracle(key, N) for pa, key, _ in records if key is not None), (s, t)
        # The messages the strategy places without a key: for random and
        # round_robin, which ignore keys, all of them (round_robin's cycle
        # gives keyed messages their turns too).
        keyless = lambda phase: [g for g in r["phase"]["rf1", phase]  # noqa: E731
                                 if ("rf1", g) in r["keyless"] or KEYED[s] is None]
        on_dark = sum(r["placed"]["rf1", g] in victims[s] for g in keyless("down"))
        assert on_dark == 0, f"{s}: {on_dark} keyless messages placed on leaderless partitions"
        after = [g for i in range(6) for g in keyless(f"after{i}")]
        assert any(r["placed"]["rf1", g] in victims[s] for g in after), \
            f"{s}: the partitions {victims[s]} are used again once they have leaders: after the restart " \
            f"{collections.Counter(r['placed']['rf1', g] for g in after)}, leaders {k.leaders(r['rf1'])}"


GROWTH = [7, 12]


@pytest.mark.parametrize("grow_to", GROWTH)
def test_growth_while_producing(kafka_broker, grow_to):
    """CreatePartitions 6 -> 7 and 6 -> 12 while every strategy's producer
    runs: every placement in range; keyed messages placed before growth
    where the oracle puts them at 6 partitions, those placed after the
    producer has seen the new count where it puts them at the new count."""
    k = kafka_broker
    per_phase = 1200
    for s in rdpart.STRATEGIES:
        topic = new_topic(k, N)
        p = Producer({"bootstrap.servers": k.bootstrap_servers, "enable.idempotence": True, "linger.ms": 5,
                      "topic.metadata.refresh.interval.ms": 500, **rdpart.config(s)})
        errors, sent = [], 0

        def phase(tag):
            nonlocal sent
            for i in range(per_phase):
                key = None if i % 4 == 0 else b"user-%d" % i
                p.produce(topic, key=key, value=b"%s:%d" % (tag, sent),
                          on_delivery=lambda e, m: e and errors.append(e))
                sent += 1
            p.poll(0)

        phase(b"before")
        assert p.flush(60) == 0
        k.grow(topic, grow_to)
        deadline = time.monotonic() + 30
        while len(p.list_topics(topic, timeout=10).topics[topic].partitions) != grow_to:
            assert time.monotonic() < deadline, "the producer never saw the new count"
            p.poll(0.2)
        p.poll(0.5)
        phase(b"after")
        assert p.flush(60) == 0 and not errors, (s, errors[:3])
        records = read_back(k.bootstrap_servers, topic, grow_to, sent, timeout=120)
        assert len(records) == sent, (s, len(records))
        assert all(0 <= pa < grow_to for pa, _, _ in records), s
        oracle = KEYED[s]
        if oracle:
            for pa, key, value in records:
                if key is not None:
                    n = N if value.startswith(b"before") else grow_to
                    assert pa == oracle(key, n), (s, key, pa, n)
        else:
            after = {pa for pa, _, v in records if v.startswith(b"after")}
            assert after & set(range(N, grow_to)), (s, "the new partitions are used")
