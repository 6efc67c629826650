"""rdpart's client presets against the clients' own code: KafkaJS 2.2.4's
partitioners run in node, and Python oracles written from Sarama's and
kafka-go's source (oracle.py). Keys: random bytes and strings of lengths 0
to 300, every byte value in every tail position, published murmur2 vectors,
and keys whose FNV-1a hash is at the int32 edges; partition counts 1 to
10,007."""

import json
import os
import random
import shutil
import subprocess

import pytest

import rdpart
from keyset import COUNTS, FNV_EDGES, JAVA_VECTORS, keys  # noqa: F401
from oracle import fnv1a32, kafka_go_hash, kafkajs_legacy, sarama_crc, sarama_reference

HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def cases():
    rng = random.Random(3)
    return [(k, s, rng.choice(COUNTS) if i % 3 else rng.randrange(1, 10008)) for i, (k, s) in enumerate(keys())] \
        + [(k, s, n) for k, s in keys()[:40] + [(k, None) for k in FNV_EDGES] for n in COUNTS]


@pytest.fixture(scope="module")
def kafkajs(cases):
    if not shutil.which("node"):
        pytest.fail("node is not installed (make test installs it: .ci/setup.sh --test)")
    req = {"cases": [[{"str": s} if s is not None else {"hex": k.hex()}, n] for k, s, n in cases],
           "null_calls": [1, 2, 6, 7, 100]}
    r = subprocess.run(["node", os.path.join(HERE, "kafkajs_oracle.js")], input=json.dumps(req),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_fnv_edge_keys_are_edges():
    assert [fnv1a32(k) for k in FNV_EDGES] == [0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 0]


@pytest.mark.parametrize("strategy,side", [("kafkajs", "default"), ("kafkajs_legacy", "legacy")])
def test_kafkajs_presets_equal_kafkajs_itself(kafkajs, cases, strategy, side):
    theirs = kafkajs[side]
    assert len(theirs) == len(cases) > 5000
    bad = [(k, n, rdpart.partition(strategy, k, n), want)
           for (k, _, n), want in zip(cases, theirs) if rdpart.partition(strategy, k, n) != want]
    assert not bad, f"{len(bad)} of {len(cases)} differ, e.g. {bad[:5]}"


def test_kafkajs_legacy_differs_from_murmur2_where_kafkajs_does(kafkajs, cases):
    """The legacy hash is not Kafka's murmur2: KafkaJS's two partitioners
    disagree on most long keys, and rdpart reproduces each side."""
    differ = sum(a != b for a, b in zip(kafkajs["default"], kafkajs["legacy"]))
    assert differ > len(cases) // 3, differ


def test_python_legacy_oracle_equals_kafkajs(kafkajs, cases):
    """The Python oracle the end-to-end tests use for kafkajs_legacy."""
    assert [kafkajs_legacy(k, n) for k, _, n in cases] == kafkajs["legacy"]


@pytest.mark.parametrize("strategy", ["kafkajs", "kafkajs_legacy"])
def test_kafkajs_null_keys_go_round_robin(kafkajs, strategy):
    """KafkaJS sends NULL keys round-robin over the available partitions:
    n consecutive messages cover the n partitions once. So does rdpart."""
    side = "null_default" if strategy == "kafkajs" else "null_legacy"
    for n, theirs in zip([1, 2, 6, 7, 100], kafkajs[side]):
        assert sorted(theirs) == list(range(n)), "kafkajs itself"
        ours = [rdpart.partition(strategy, None, n) for _ in range(n)]
        assert sorted(ours) == list(range(n)), ours


@pytest.mark.parametrize("strategy,oracle", [("sarama_reference", sarama_reference),
                                             ("sarama_crc", sarama_crc),
                                             ("kafka_go_hash", kafka_go_hash)])
def test_go_presets_equal_the_go_clients(cases, strategy, oracle):
    bad = [(k, n) for k, _, n in cases if rdpart.partition(strategy, k, n) != oracle(k, n)]
    assert not bad, f"{len(bad)} of {len(cases)} differ, e.g. {bad[:5]}"


def test_go_presets_differ_where_the_clients_do():
    """Sarama's reference hash masks the sign bit where its default (and
    kafka-go's Hash) takes the absolute value: the FNV edge keys tell them
    apart, and rdpart follows each."""
    k, n = FNV_EDGES[0], 3  # fnv1a = 0x80000000: int32 -2^31
    assert fnv1a32(k) == 0x80000000
    assert rdpart.partition("sarama_reference", k, n) == (0x80000000 & 0x7FFFFFFF) % n == 0
    assert rdpart.partition("kafka_go_hash", k, n) == 2**31 % n == 2  # abs(INT32_MIN) stays 2^31


def test_go_presets_null_and_empty_keys():
    """NULL: Sarama random, kafka-go Hash round-robin; empty keys hash."""
    n = 6
    assert rdpart.partition("sarama_crc", b"", n) == 0  # crc32("") = 0
    assert rdpart.partition("sarama_reference", b"", n) == sarama_reference(b"", n)
    assert rdpart.partition("kafka_go_hash", b"", n) == kafka_go_hash(b"", n)
    assert sorted(rdpart.partition("kafka_go_hash", None, n) for _ in range(n)) == list(range(n))
    for s in ("sarama_reference", "sarama_crc"):
        seen = {rdpart.partition(s, None, n) for _ in range(300)}
        assert seen == set(range(n)), (s, seen)
