"""`rdpart skew`, on the mock cluster and Apache Kafka: its figures against
a direct count of what was produced (the delivery reports), and its
what-if figures against placements computed by librdkafka's own murmur2
(confluent_kafka.murmur2) and the hot-key rule written here from its
definition; --plot draws a PNG; bad arguments are refused naming them."""

import collections
import json
import subprocess
import sys

import confluent_kafka
import pytest
from confluent_kafka import Producer

import rdpart
from conftest import new_topic


def skew(*args):
    return subprocess.run([sys.executable, "-m", "rdpart.cli", "skew", *map(str, args)],
                          capture_output=True, text=True, timeout=180)


def fullest(counts):
    return max(counts) / (sum(counts) / len(counts))


def test_skew_reports_what_was_produced(broker, tmp_path):
    topic = new_topic(broker)
    p = Producer({"bootstrap.servers": broker.bootstrap_servers, **rdpart.config("murmur2")})
    got = collections.defaultdict(lambda: [0, 0])
    keys = collections.Counter()

    def dr(err, m):
        assert err is None, err
        got[m.partition()][0] += 1
        got[m.partition()][1] += len(m.key() or b"") + len(m.value())

    for i in range(6000):
        key = b"hot" if i % 5 < 2 else (b"k%d" % (i % 400) if i % 7 else None)
        if key is not None:
            keys[key] += 1
        p.produce(topic, key=key, value=b"v" * (i % 30), on_delivery=dr)
    assert p.flush(60) == 0
    png = tmp_path / "skew.png"
    r = skew("-b", broker.bootstrap_servers, "-t", topic, "-s", "murmur2", "--partitions", "12",
             "--json", "--plot", png)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert rep["messages"] == 6000 and rep["keyed"] == sum(keys.values())
    assert [[q["messages"], q["bytes"]] for q in rep["per_partition"]] == [got[q] for q in range(6)]
    assert rep["imbalance"] == pytest.approx(fullest([got[q][0] for q in range(6)]), abs=1e-4)
    heavy = rep["heaviest_keys"][0]
    assert heavy["key"] == "hot" and heavy["messages"] == keys[b"hot"]
    assert heavy["share"] == pytest.approx(keys[b"hot"] / sum(keys.values()), abs=1e-4)
    total = sum(keys.values())
    for w in rep["what_if"]:
        n = w["partitions"]
        plain, spread = [0] * n, [0.0] * n
        for k, c in keys.items():
            q = confluent_kafka.murmur2(k, n)
            plain[q] += c
            if c > 0.2 * total:
                for i in range(min(4, n)):
                    spread[(q + i) % n] += c / min(4, n)
            else:
                spread[q] += c
        assert w["strategy"] == "murmur2"
        assert w["imbalance"] == pytest.approx(fullest(plain), abs=1e-4), w
        assert w["imbalance_hot_keys_spread"] == pytest.approx(fullest(spread), abs=1e-4), w
    assert [w["partitions"] for w in rep["what_if"]] == [6, 12]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = skew("-b", broker.bootstrap_servers, "-t", topic, "-s", "murmur2")
    assert text.returncode == 0 and "heaviest keys" in text.stdout and "hot keys spread" in text.stdout


@pytest.mark.parametrize("args,says", [
    (["--hot-key-share", "1"], "--hot-key-share"),
    (["--partitions", "0"], "--partitions"),
    (["--partitions", "2000000000"], "--partitions"),
    (["--plot", "out.xyz"], "--plot"),
    (["-s", "round_robin"], "round_robin"),
    (["-s", "murmur3"], "murmur3"),
])
def test_skew_refuses_bad_arguments(args, says):
    r = skew("-b", "127.0.0.1:1", "-t", "t", *args)
    assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_skew_without_a_broker_says_so():
    r = skew("-b", "127.0.0.1:1", "-t", "t", "--timeout", "1")
    assert r.returncode == 2 and "cannot reach 127.0.0.1:1" in r.stderr, r.stderr
