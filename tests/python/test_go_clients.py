"""rdpart's presets against the Go clients' own partitioners: Sarama
v1.61.1, kafka-go v0.4.51 and franz-go v1.22.3, built from
tests/go/placements and run on the key set test_compat.py uses (keyset.py:
random bytes and UTF-8 strings of 0 to 300 bytes, every byte value in every
tail position, Java murmur2 vectors, FNV-1a int32-edge keys) with partition
counts 1 to 10,007. Keyed messages only: NULL keys go to random or
round-robin partitions, and test_compat.py checks those rules."""

import json
import os
import random
import shutil
import subprocess

import pytest

import rdpart
from keyset import COUNTS, FNV_EDGES, keys
from oracle import fnv1a32

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
SRC = os.path.join(ROOT, "tests", "go", "placements")
BIN = os.path.join(ROOT, "target", "go", "placements")

SARAMA_DEFAULT = "sarama.NewConfig().Producer.Partitioner"
SARAMA_HASH = "sarama.NewHashPartitioner"
SARAMA_REFERENCE = "sarama.NewReferenceHashPartitioner"
SARAMA_CRC = "sarama.NewConsistentCRCHashPartitioner"
SARAMA_MURMUR2 = "sarama.NewMurmur2Partitioner"
SARAMA_ABS_FIRST = "sarama.NewCustomPartitioner(WithAbsFirst())"
SARAMA_CRC_UNSIGNED = "sarama.NewCustomPartitioner(WithCustomHashFunction(crc32.NewIEEE),WithHashUnsigned())"
KGO_HASH = "kafka-go.Hash{}"
KGO_REFERENCE = "kafka-go.ReferenceHash{}"
KGO_CRC = "kafka-go.CRC32Balancer{}"
KGO_CRC_CONSISTENT = "kafka-go.CRC32Balancer{Consistent:true}"
KGO_MURMUR2 = "kafka-go.Murmur2Balancer{}"
KGO_MURMUR2_CONSISTENT = "kafka-go.Murmur2Balancer{Consistent:true}"
FRANZ_DEFAULT = "franz-go.default:UniformBytesPartitioner(65536,true,true,nil)"
FRANZ_KAFKA = "franz-go.StickyKeyPartitioner(nil)"
FRANZ_KAFKA_FNV = "franz-go.StickyKeyPartitioner(KafkaHasher(fnv32a))"
FRANZ_SARAMA_FNV = "franz-go.StickyKeyPartitioner(SaramaHasher(fnv32a))"
FRANZ_SARAMA_CRC = "franz-go.StickyKeyPartitioner(SaramaHasher(crc32.ChecksumIEEE))"
FRANZ_SARAMA_COMPAT_FNV = "franz-go.StickyKeyPartitioner(SaramaCompatHasher(fnv32a))"

MURMUR2_CLIENTS = [SARAMA_MURMUR2, KGO_MURMUR2, KGO_MURMUR2_CONSISTENT, FRANZ_DEFAULT, FRANZ_KAFKA]
FNV1A_CLIENTS = [SARAMA_DEFAULT, SARAMA_HASH, KGO_HASH, FRANZ_SARAMA_COMPAT_FNV]
REFERENCE_CLIENTS = [SARAMA_REFERENCE, SARAMA_ABS_FIRST, KGO_REFERENCE, FRANZ_KAFKA_FNV]
CRC_CLIENTS = [SARAMA_CRC, SARAMA_CRC_UNSIGNED, KGO_CRC_CONSISTENT, FRANZ_SARAMA_CRC]

# What rdpart claims (README.md, "Same placement as", keyed messages; franz-go's
# hashers by what their source computes): strategy -> client functions.
# kafka-go's CRC32Balancer{} sends empty keys to a random partition, as
# consistent_random does: it is compared on non-empty keys.
CLAIMS = {
    "murmur2": MURMUR2_CLIENTS,
    "murmur2_random": MURMUR2_CLIENTS,
    "sticky": [FRANZ_DEFAULT, FRANZ_KAFKA],
    "fnv1a": FNV1A_CLIENTS,
    "fnv1a_random": FNV1A_CLIENTS,
    "kafka_go_hash": [KGO_HASH],
    "sarama_reference": REFERENCE_CLIENTS,
    "consistent": CRC_CLIENTS + [KGO_CRC],
    "consistent_random": [KGO_CRC],
    "sarama_crc": [SARAMA_CRC, SARAMA_CRC_UNSIGNED],
}
RANDOM_ON_EMPTY = {KGO_CRC}
# Client functions no rdpart strategy claims: franz-go's SaramaHasher with
# FNV-1a is unsigned FNV-1a mod n on 64-bit Go (checked below).
UNCLAIMED = {FRANZ_SARAMA_FNV}
PAIRS = [(s, c) for s, cs in CLAIMS.items() for c in cs]


def go_cases():
    """test_compat.py's cases(): every key of the set with a count from
    COUNTS (or, every third, any of 1..10,007), and the first 40 keys and
    the FNV edge keys with every count."""
    rng = random.Random(3)
    return [(k, rng.choice(COUNTS) if i % 3 else rng.randrange(1, 10008)) for i, (k, _) in enumerate(keys())] \
        + [(k, n) for k in [k for k, _ in keys()[:40]] + FNV_EDGES for n in COUNTS]


@pytest.fixture(scope="module")
def cases():
    return go_cases()


@pytest.fixture(scope="module")
def placements_bin():
    go = shutil.which("go")
    if not go:
        pytest.fail("go is not installed: building tests/go/placements (Sarama, kafka-go, franz-go) needs Go >= 1.26")
    os.makedirs(os.path.dirname(BIN), exist_ok=True)
    cmd = [go, "build", "-buildvcs=false", "-o", BIN, "."]
    try:
        r = subprocess.run(cmd, cwd=SRC, capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{' '.join(cmd)}` in {SRC} took over 900 s (downloading the modules?)")
    if r.returncode != 0:
        pytest.fail(f"`{' '.join(cmd)}` in {SRC} failed (rc {r.returncode}; a module download needs the Go "
                    f"module proxy or GOPROXY/GOFLAGS=-mod=mod set up):\n{r.stderr[-4000:]}")
    return BIN


@pytest.fixture(scope="module")
def go(placements_bin, cases):
    """{client function: [partition per case]} from the Go clients."""
    stdin = "".join(f"{k.hex()} {n}\n" if k else f"{n}\n" for k, n in cases)
    r = subprocess.run([placements_bin], input=stdin, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{placements_bin} failed (rc {r.returncode}): {r.stderr[-4000:]}"
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == len(cases)
    names = list(rows[0])
    assert all(list(row) == names for row in rows)
    return {name: [row[name] for row in rows] for name in names}


def test_every_client_function_is_claimed_or_listed(go, cases):
    claimed = {c for cs in CLAIMS.values() for c in cs}
    assert set(go) == claimed | UNCLAIMED, set(go) ^ (claimed | UNCLAIMED)
    assert len(cases) > 5000
    assert sum(1 for k, _ in cases if not k) >= 20  # empty keys are in


@pytest.mark.parametrize("strategy,client", PAIRS, ids=[f"{s}={c}" for s, c in PAIRS])
def test_rdpart_places_keys_as_the_client(go, cases, strategy, client):
    theirs = go[client]
    bad = [(k.hex(), n, rdpart.partition(strategy, k, n), want)
           for (k, n), want in zip(cases, theirs)
           if (k or client not in RANDOM_ON_EMPTY) and rdpart.partition(strategy, k, n) != want]
    assert not bad, f"{len(bad)} of {len(cases)} differ (key hex, n, rdpart, {client}), e.g. {bad[:5]}"


def test_clients_differ_from_each_other(go, cases):
    """The clients part ways, so the comparisons above can fail: Sarama's
    default takes abs of the truncated remainder, its reference hash masks
    the sign bit (and so do kafka-go's Hash and ReferenceHash), and murmur2,
    FNV-1a and CRC-32 place most keys differently."""
    edge = [i for i, (k, _) in enumerate(cases) if k in FNV_EDGES]
    assert len(edge) >= 4 * len(COUNTS)
    for a, b in [(SARAMA_DEFAULT, SARAMA_REFERENCE), (KGO_HASH, KGO_REFERENCE),
                 (FRANZ_SARAMA_COMPAT_FNV, FRANZ_KAFKA_FNV), (FRANZ_SARAMA_FNV, SARAMA_DEFAULT),
                 (FRANZ_SARAMA_FNV, SARAMA_REFERENCE)]:
        assert any(go[a][i] != go[b][i] for i in edge), (a, b)
    many = [i for i, (_, n) in enumerate(cases) if n >= 100]
    for a, b in [(SARAMA_DEFAULT, SARAMA_MURMUR2), (SARAMA_DEFAULT, SARAMA_CRC), (SARAMA_MURMUR2, SARAMA_CRC),
                 (SARAMA_DEFAULT, SARAMA_REFERENCE)]:
        differ = sum(go[a][i] != go[b][i] for i in many)
        assert differ > len(many) // 3, (a, b, differ, len(many))
    # FNV-1a 0xffffffff (int32 -1) among 7: abs(-1 % 7) = 1, 0x7fffffff % 7 = 1
    # too; 0x80000000 among 3: abs(-2^31 % 3) = 2, (2^31 & 0x7fffffff) % 3 = 0.
    i = cases.index((FNV_EDGES[0], 3))
    assert (go[SARAMA_DEFAULT][i], go[SARAMA_REFERENCE][i]) == (2, 0)


def test_kafka_go_crc32_balancer_randomizes_empty_keys(go, cases):
    """CRC32Balancer{} treats empty keys as unset (crc32 of "" is 0, yet
    they land elsewhere), as rdpart's consistent_random does."""
    empty = [i for i, (k, n) in enumerate(cases) if not k and n > 1]
    assert any(go[KGO_CRC][i] != 0 for i in empty)
    assert all(go[KGO_CRC_CONSISTENT][i] == 0 for i in empty)
    assert {rdpart.partition("consistent_random", b"", 6) for _ in range(300)} == set(range(6))


def test_franz_sarama_hasher_is_unsigned_fnv1a(go, cases):
    """franz-go's SaramaHasher(fnv32a) is not Sarama's placement (its doc
    says so; SaramaCompatHasher is): on 64-bit Go it is FNV-1a taken
    unsigned, which no rdpart strategy is."""
    assert go[FRANZ_SARAMA_FNV] == [fnv1a32(k) % n for k, n in cases]
    for strategy in ("fnv1a", "sarama_reference", "kafka_go_hash"):
        assert any(rdpart.partition(strategy, k, n) != want
                   for (k, n), want in zip(cases, go[FRANZ_SARAMA_FNV])), strategy
