"""The plugin as users meet it: producing at once after creating the
producer, a plugin list with a missing second plugin, and kcat (Debian's
package, with Debian's librdkafka) against a mock cluster."""

import collections
import os
import shutil
import subprocess
import sys

import pytest
import confluent_kafka
from confluent_kafka import Consumer, Producer, TopicPartition

import rdpart
from test_plugin import chi_square, chi_square_bound

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def produce_at_once(bootstrap, topic, strategy, messages):
    """A producer made and used at once, as applications do: no metadata
    request, no pause. Returns the partition of each message."""
    p = Producer({"bootstrap.servers": bootstrap, **rdpart.config(strategy)})
    got = []
    for i in range(messages):
        p.produce(topic, value=b"%d" % i, on_delivery=lambda e, m: got.append(None if e else m.partition()))
        p.poll(0)
    assert p.flush(30) == 0
    assert None not in got and len(got) == messages
    return collections.Counter(got)


def test_round_robin_is_even_from_the_first_message(mock):
    mock.create_topic("burst-rr", 6)
    counts = produce_at_once(mock.bootstrap_servers, "burst-rr", "round_robin", 600)
    assert all(90 <= counts[p] <= 110 for p in range(6)), counts


def test_random_is_uniform_from_the_first_message(mock):
    mock.create_topic("burst-random", 4)
    counts = produce_at_once(mock.bootstrap_servers, "burst-random", "random", 20000)
    assert chi_square([counts[p] for p in range(4)]) < chi_square_bound(3), counts


def test_sticky_spreads_from_the_first_message(mock):
    mock.create_topic("burst-sticky", 6)
    p = Producer({"bootstrap.servers": mock.bootstrap_servers,
                  **rdpart.config("sticky", sticky_messages=100, sticky_linger_ms=0)})
    got = []
    for i in range(6000):
        p.produce("burst-sticky", value=b"x", on_delivery=lambda e, m: got.append(m.partition()))
    assert p.flush(30) == 0
    counts = collections.Counter(got)
    # 60 runs of 100 over 6 partitions: every partition gets at least one
    # run (some partition without one: about 1e-4 by chance). The bound
    # was 3 runs, which chance alone misses about once in 100 (seen once).
    assert len(counts) == 6 and min(counts.values()) >= 100, counts


def run_python(code):
    """Run `code` in a fresh interpreter (a crash must not take pytest down)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_a_missing_second_plugin_raises_instead_of_crashing():
    r = run_python(
        "import rdpart\n"
        "from confluent_kafka import Producer, KafkaException\n"
        "try:\n"
        "    Producer({'bootstrap.servers': '127.0.0.1:1', 'rdpart.strategy': 'jump',\n"
        "              'plugin.library.paths': rdpart.library_path() + ';monitoring-interceptor'})\n"
        "except KafkaException as e:\n"
        "    print('raised:', e)\n"
        "p = Producer({'bootstrap.servers': '127.0.0.1:1', **rdpart.config('jump')})\n"
        "print('ok')\n")
    assert r.returncode == 0, (r.returncode, r.stderr[-2000:])
    assert "raised:" in r.stdout and "monitoring-interceptor" in r.stdout
    assert r.stdout.strip().endswith("ok")


def test_no_4142_warning_with_librdkafka_2_13_or_later():
    r = run_python(
        "import rdpart\n"
        "from confluent_kafka import Producer\n"
        "Producer({'bootstrap.servers': '127.0.0.1:1', **rdpart.config('jump')})\n")
    assert r.returncode == 0, r.stderr
    assert "4142" not in r.stderr


def test_kcat_with_the_plugin_places_or_says_why(broker):
    """kcat makes its topic with a topic conf of its own, so librdkafka's
    partitioner places its messages: rdpart must say so, naming the topic
    (on the mock cluster and on Kafka)."""
    assert shutil.which("kcat"), "kcat is not installed (.ci/setup.sh --test installs it)"
    broker.create_topic("kcat-topic", 6)
    lines = "".join("line-%d\n" % i for i in range(600))
    r = subprocess.run(["kcat", "-P", "-b", broker.bootstrap_servers, "-t", "kcat-topic",
                        "-X", "plugin.library.paths=" + rdpart.library_path(),
                        "-X", "rdpart.strategy=round_robin"],
                       input=lines, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    c = Consumer({"bootstrap.servers": broker.bootstrap_servers, "group.id": "kcat-check"})
    counts = [c.get_watermark_offsets(TopicPartition("kcat-topic", p), timeout=10)[1] for p in range(6)]
    c.close()
    assert sum(counts) == 600
    told = r.stderr.count('rdpart: topic "kcat-topic" was created with a topic configuration of its own')
    assert told == 1, (counts, r.stderr)


@pytest.mark.parametrize("tconf", ["own", "null"])
def test_cpp_producer_on_kafka(kafka_broker, tconf):
    """The C++ host (tests/c/cpp_topic.cpp, built by tests/c/run.sh) on
    Apache Kafka: a topic made with its own conf is reported once; one made
    with a NULL conf is placed by rdpart (murmur2), read back."""
    exe = os.path.join(ROOT, "target", "c-tests", "cpp_topic")
    assert os.path.exists(exe), f"{exe} missing: tests/c/run.sh builds it (make test runs it first)"
    topic = f"cpp-{tconf}-{os.getpid()}"
    kafka_broker.create_topic(topic, 6)
    r = subprocess.run([exe, rdpart.library_path(), kafka_broker.bootstrap_servers, topic, tconf],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    if tconf == "null":
        from producer import read_back
        records = read_back(kafka_broker.bootstrap_servers, topic, 6, 200, timeout=60)
        assert len(records) == 200
        assert all(p == confluent_kafka.murmur2(k, 6) for p, k, _ in records), "murmur2 placement"
