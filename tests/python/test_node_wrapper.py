"""@confluentinc/kafka-javascript 1.10.1 with rdpart, on Apache Kafka: a
service moving from KafkaJS 2.2.4 keeps its keys where they were.

kafka-javascript's KafkaJS-compatible API refuses a custom partitioner
(`createPartitioner` throws ERR__NOT_IMPLEMENTED); librdkafka properties go
at the top level of the producer config, next to the `kafkaJS` block, and
reach librdkafka in order, after the ones the block becomes. One of those
is `partitioner=murmur2_random` (lib/kafkajs/_producer.js; MIGRATION.md
says `partitioner` is set outside the block), which rdpart refuses to
replace when it comes before plugin.library.paths: such a config names
`partitioner` itself (the property keeps the block's place, with the
user's value: consistent_random, librdkafka's default, which rdpart takes
over), or has no kafkaJS block (librdkafka properties only).

The same key set (strings: ASCII and UTF-8, 0 to 100 characters) goes to
topic A with KafkaJS 2.2.4's own producer (its DefaultPartitioner) and to
topic B with kafka-javascript; both are read back and compared key by key.

kafka-javascript is built from its npm package's sources by
tests/node/build_kafka_javascript.sh (its install downloads a prebuilt
binary from outside the registries); tests/node/produce.js produces."""

import json
import os
import random
import subprocess

import confluent_kafka
import pytest

from conftest import new_topic
from oracle import KEYED
from producer import read_back

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "tests", "node", "build_kafka_javascript.sh")
PRODUCE = os.path.join(ROOT, "tests", "node", "produce.js")
PLUGIN = os.path.join(ROOT, "target", "release", "librdpart.so")
N = 6


def key_set(count: int = 2000):
    """Distinct JS strings: "", ASCII and UTF-8 (2-, 3- and 4-byte
    characters), 0 to 100 characters."""
    rng = random.Random(2024)
    ascii_ = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:./ "
    utf8 = ascii_ + "éüß€中文字🙂🚀"
    out, seen = [""], {""}
    while len(out) < count:
        alphabet = ascii_ if len(out) % 2 else utf8
        s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 101)))
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


KEYS = key_set()


@pytest.fixture(scope="module")
def kjs():
    """Builds kafka-javascript (or finds it built) in target/node-kjs."""
    if not os.path.exists(PLUGIN):
        pytest.fail(f"{PLUGIN} is missing: build rdpart first (cargo build --release)")
    r = subprocess.run(["bash", BUILD], capture_output=True, text=True, timeout=3600)
    if r.returncode != 0:
        pytest.fail(f"tests/node/build_kafka_javascript.sh failed:\n{r.stderr[-4000:]}", pytrace=False)


def run_produce(broker, client: str, config=None, kafkajs_block=True, keys=KEYS):
    topic = new_topic(broker, N)
    spec = {"client": client, "brokers": broker.bootstrap_servers, "topic": topic,
            "config": config or {}, "kafkajs_block": kafkajs_block, "keys": keys}
    r = subprocess.run(["node", PRODUCE], input=json.dumps(spec), capture_output=True,
                       text=True, timeout=300)
    return topic, r


def produce(broker, client: str, config=None, kafkajs_block=True, keys=KEYS):
    """A fresh N-partition topic with every key produced by one client;
    {message index: partition}, from reading the topic back."""
    topic, r = run_produce(broker, client, config, kafkajs_block, keys)
    assert r.returncode == 0, f"produce.js {client} {config} kafkajs_block={kafkajs_block}: {r.stderr[-3000:]}"
    out = json.loads(r.stdout)
    rows = read_back(broker.bootstrap_servers, topic, N, len(keys), timeout=60)
    placed = {}
    for partition, key, value in rows:
        i = int(value)
        assert i not in placed, f"message {i} read twice"
        assert key == keys[i].encode(), (i, key, keys[i])
        placed[i] = partition
    assert len(placed) == len(keys), f"{len(keys) - len(placed)} of {len(keys)} messages not read back from {topic}"
    if out["partitions"] is not None:  # the delivery reports agree
        assert all(out["partitions"][i] == p for i, p in placed.items())
    return placed


def differences(a, b):
    return [(KEYS[i], a[i], b[i]) for i in a if a[i] != b[i]]


def rdpart(strategy, **before):
    # In this order: rdpart.* properties exist once the plugin is loaded.
    return {**before, "plugin.library.paths": PLUGIN, "rdpart.strategy": strategy}


#: The two configs of the KafkaJS-compatible API that rdpart takes:
#: kafkaJS block and partitioner named, or librdkafka properties only.
WAYS = {"kafkajs-block": (dict(partitioner="consistent_random"), True),
        "no-kafkajs-block": ({}, False)}


@pytest.fixture(scope="module")
def by_kafkajs(kjs, kafka_broker):
    """Topic A: KafkaJS 2.2.4's own producer, its DefaultPartitioner."""
    placed = produce(kafka_broker, "kafkajs")
    # KafkaJS 2.2.4 is Java-compatible murmur2 of the UTF-8 bytes.
    oracle = KEYED["kafkajs"]
    assert all(p == oracle(KEYS[i].encode(), N) for i, p in placed.items())
    return placed


@pytest.mark.parametrize("way", WAYS)
def test_kafkajs_api_with_rdpart_kafkajs_places_every_key_as_kafkajs(by_kafkajs, kafka_broker, way):
    before, block = WAYS[way]
    placed = produce(kafka_broker, "kjs", rdpart("kafkajs", **before), kafkajs_block=block)
    diff = differences(by_kafkajs, placed)
    assert not diff, f"{len(diff)} of {len(KEYS)} keys in another partition than KafkaJS put them, e.g. {diff[:3]}"


@pytest.mark.parametrize("way", WAYS)
def test_rdpart_decides_in_the_kafkajs_api(by_kafkajs, kafka_broker, way):
    """The test above can fail: rdpart's partitioner places the messages
    (fnv1a puts most keys elsewhere, exactly where rdpart's fnv1a says)."""
    before, block = WAYS[way]
    placed = produce(kafka_broker, "kjs", rdpart("fnv1a", **before), kafkajs_block=block)
    assert all(p == KEYED["fnv1a"](KEYS[i].encode(), N) for i, p in placed.items())
    assert len(differences(by_kafkajs, placed)) > len(KEYS) // 2


def test_kafkajs_block_alone_is_refused_with_rdparts_message(kjs, kafka_broker):
    """Kafka({kafkaJS: {brokers}}).producer({plugin.library.paths,
    rdpart.strategy}): the block's partitioner=murmur2_random comes first,
    and rdpart says so rather than replace it silently."""
    _, r = run_produce(kafka_broker, "kjs", rdpart("kafkajs"))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "rdpart: the default topic configuration sets partitioner=murmur2_random" in r.stderr, r.stderr
    # ... and the fix that works there.
    assert "partitioner=consistent_random" in r.stderr and "kafka-javascript" in r.stderr, r.stderr
    assert "before plugin.library.paths" in r.stderr, r.stderr


def test_kafkajs_api_without_rdpart(by_kafkajs, kafka_broker):
    """Without rdpart, the kafkaJS block's partitioner=murmur2_random places
    keyed messages as KafkaJS 2.2.4 does (Java murmur2; they part ways on
    NULL keys only: random against round-robin). Without the block, the
    default is librdkafka's consistent_random (CRC32): most keys move."""
    assert not differences(by_kafkajs, produce(kafka_broker, "kjs"))
    plain = produce(kafka_broker, "kjs", kafkajs_block=False)
    # consistent_random: CRC32 of a non-empty key; random for an empty one.
    assert all(p == confluent_kafka.consistent(KEYS[i].encode(), N) for i, p in plain.items() if KEYS[i])
    moved = differences(by_kafkajs, plain)
    assert len(moved) > len(KEYS) // 2, f"only {len(moved)} of {len(KEYS)} keys moved"


def test_rdkafka_api_default_moves_keys_and_rdpart_keeps_them(by_kafkajs, kafka_broker):
    """The node-rdkafka-style API (Producer) keeps librdkafka's default,
    consistent_random: most keys move. With rdpart, none does."""
    default = produce(kafka_broker, "kjs-rdkafka")
    assert all(p == confluent_kafka.consistent(KEYS[i].encode(), N) for i, p in default.items() if KEYS[i])
    moved = differences(by_kafkajs, default)
    assert len(moved) > len(KEYS) // 2, f"only {len(moved)} of {len(KEYS)} keys moved"

    placed = produce(kafka_broker, "kjs-rdkafka", rdpart("kafkajs"))
    diff = differences(by_kafkajs, placed)
    assert not diff, f"{len(diff)} of {len(KEYS)} keys in another partition than KafkaJS put them, e.g. {diff[:3]}"
