"""Your own partitioner in Python (rdpart.config(partitioner=...)), in
confluent-kafka producers on the mock cluster and on Apache Kafka.

The oracles: the messages read back from the broker, where the function
said (its answer written from the definition here: zlib's crc32), and
confluent-kafka's own murmur2 for routing keys and the strategy. Every
scenario that could deadlock runs in a child process with a timeout, so a
deadlock fails the test instead of hanging the suite.
"""

import collections
import json
import logging
import os
import subprocess
import sys
import textwrap
import threading
import time
import zlib

import confluent_kafka
import pytest
from confluent_kafka import KafkaException, Producer

import rdpart
from conftest import new_topic
from producer import read_back
from stalls import blocked_and_longest_pause

HERE = os.path.dirname(os.path.abspath(__file__))


def answer(value: bytes, key, n: int):
    """The test's function, written from the definition: a third of the
    messages to crc32(value) % n, a third by routing key (the key's first
    two bytes), a third by the strategy (None)."""
    kind = zlib.crc32(value) % 3
    if kind == 0:
        return zlib.crc32(value) % n
    if kind == 1 and key is not None:
        return key[:2]
    return None


def where(value: bytes, key, n: int) -> int:
    """Where a murmur2 producer with that function puts the message:
    confluent-kafka's murmur2 (librdkafka's own) as the oracle."""
    a = answer(value, key, n)
    if isinstance(a, int):
        return a
    route = a if a is not None else key
    return confluent_kafka.murmur2(route if route is not None else b"", n)


def place(topic, key, value, headers, cluster):
    return answer(value, key, cluster.partition_count)


def run_child(code: str, timeout: float = 60, env=None):
    """Runs Python code in a child process (killed after timeout: a hang
    fails the test)."""
    e = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""))
    e.update(env or {})
    try:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                              timeout=timeout, env=e)
    except subprocess.TimeoutExpired as t:
        pytest.fail(f"the child hung (killed after {timeout} s): {t.stdout!r} {t.stderr!r}")


@pytest.mark.parametrize("topics,threads,paced", [(1, 1, False), (8, 4, False), (3, 2, True)],
                         ids=["1-topic-burst", "8-topics-4-threads-burst", "3-topics-2-threads-paced"])
def test_messages_land_where_the_function_says(mock, topics, threads, paced):
    names = [f"custom-{threads}-{paced}-{i}-{time.monotonic_ns()}" for i in range(topics)]
    sizes = {t: 3 + 2 * i for i, t in enumerate(names)}
    for t, n in sizes.items():
        mock.create_topic(t, n)
    per_thread = 300 if paced else 3000
    p = Producer({"bootstrap.servers": mock.bootstrap_servers, "linger.ms": 5,
                  **rdpart.config("murmur2", partitioner=place)})
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)

    def produce(t: int) -> None:  # at once after the producer is created
        for i in range(per_thread):
            topic = names[i % topics]
            key = None if i % 5 == 0 else b"key-%d-%d" % (t, i % 97)
            while True:
                try:
                    p.produce(topic, key=key, value=b"%d:%d" % (t, i), on_delivery=on_delivery)
                    break
                except BufferError:
                    p.poll(0.01)
            if paced:
                time.sleep(0.002)

    ths = [threading.Thread(target=produce, args=(t,)) for t in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    assert p.flush(30) == 0
    assert errors == []
    total = 0
    for topic in names:
        n = sizes[topic]
        want = sum(1 for i in range(per_thread) if names[i % topics] == topic) * threads
        got = read_back(mock.bootstrap_servers, topic, n, want)
        assert len(got) == want, topic
        wrong = [(part, key, value) for part, key, value in got if part != where(value, key, n)]
        assert wrong == [], f"{len(wrong)} of {want} messages of {topic} not where the function said"
        total += want
    assert total == per_thread * threads


def test_the_function_sees_the_message_on_the_producing_thread_once(mock, topic):
    seen = []

    def record(topic_, key, value, headers, cluster):
        seen.append((topic_, key, value, headers, cluster.partition_count, cluster.available,
                     threading.get_ident()))
        return None

    p = Producer({"bootstrap.servers": mock.bootstrap_servers, **rdpart.config("sticky", partitioner=record)})
    me = threading.get_ident()
    p.produce(topic, key=b"k", value=b"v", headers=[("a", b"1"), ("b", None)])
    p.produce(topic, value=b"keyless")
    p.produce(topic, key=b"", value=None)
    p.produce(topic, key=b"explicit", value=b"x", partition=2)  # an explicit partition: not asked
    assert p.flush(30) == 0
    assert [s[:4] for s in seen] == [(topic, b"k", b"v", [("a", b"1"), ("b", None)]),
                                    (topic, None, b"keyless", None), (topic, b"", None, None)]
    # Available: the partitions librdkafka knows a leader of. Leaders are
    # applied a moment after metadata arrives, so right after the producer
    # starts some may not be known yet (FACTS.md); once delivered, all are.
    assert all(s[4] == 6 and set(s[5]) <= set(range(6)) and s[5] == tuple(sorted(s[5])) and s[6] == me
               for s in seen), seen
    p.produce(topic, value=b"later")
    assert p.flush(30) == 0
    assert seen[-1][5] == (0, 1, 2, 3, 4, 5), seen[-1]


class Listener(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.mark.parametrize("bad,why", [
    (ValueError("no partition for you"), "function"),
    (-1, "function"), (99, "out_of_range"), (1.5, "function"), (True, "function"), (object(), "function"),
])
def test_a_bad_answer_fails_that_message_only(mock, topic, bad, why):
    def fn(topic_, key, value, headers, cluster):
        if value != b"bad":
            return 1
        if isinstance(bad, Exception):
            raise bad
        return bad

    log = Listener()
    logger = logging.getLogger(f"rdpart-custom-{why}-{id(bad)}")
    logger.addHandler(log)
    logger.setLevel(logging.DEBUG)
    p = Producer({"bootstrap.servers": mock.bootstrap_servers, **rdpart.config("murmur2", partitioner=fn)},
                 logger=logger)
    delivered = []
    p.produce(topic, value=b"good", on_delivery=lambda e, m: delivered.append((e, m.partition())))
    with pytest.raises(KafkaException) as e:
        p.produce(topic, value=b"bad", on_delivery=lambda e, m: delivered.append((e, m.partition())))
    assert e.value.args[0].code() == confluent_kafka.KafkaError._UNKNOWN_PARTITION
    p.produce(topic, value=b"good", on_delivery=lambda e, m: delivered.append((e, m.partition())))
    assert p.flush(30) == 0
    assert delivered == [(None, 1), (None, 1)]  # the bad one is never delivered anywhere
    deadline = time.monotonic() + 5
    while not any("rdpart" in line for line in log.lines) and time.monotonic() < deadline:
        p.produce(topic, value=b"good")  # carries rdpart's queued line (docs/logging.md)
        p.poll(0.1)
    lines = [line for line in log.lines if "rdpart" in line]
    assert lines, log.lines
    if isinstance(bad, Exception):
        assert "ValueError: no partition for you" in lines[0] and "Traceback" in lines[0], lines
    else:
        assert "returned" in lines[0], lines
    st = [t for pr in rdpart.stats()["producers"] for t in pr["topics"] if t["topic"] == topic][-1]
    assert st["partitioner"]["failed"][why] == 1, st["partitioner"]


def test_produce_batch_fails_with_a_reason_and_never_runs_the_function(mock, topic):
    calls = []
    log = Listener()
    logger = logging.getLogger("rdpart-custom-batch")
    logger.addHandler(log)
    p = Producer({"bootstrap.servers": mock.bootstrap_servers,
                  **rdpart.config("murmur2", partitioner=lambda *a: calls.append(a))}, logger=logger)
    p.produce(topic, value=b"first")  # metadata known: the batch is partitioned in the call
    p.flush(30)
    n = len(calls)
    msgs = [{"value": b"v%d" % i, "key": b"k"} for i in range(20)]
    assert p.produce_batch(topic, msgs) == 0
    assert all(m["_error"].code() == confluent_kafka.KafkaError._UNKNOWN_PARTITION for m in msgs)
    assert len(calls) == n
    deadline = time.monotonic() + 5
    while not any("produce_batch" in line for line in log.lines) and time.monotonic() < deadline:
        p.produce(topic, value=b"carrier")
        p.poll(0.1)
    assert any("produce_batch()" in line and "one by one" in line for line in log.lines), log.lines


@pytest.mark.parametrize("fallback", ["strategy", "fail"])
def test_messages_the_function_could_not_see(mock, fallback):
    """wait_ms=0: the first burst is produced before the partition count is
    known, so librdkafka places it later on its own thread: by the strategy
    with the fallback, else each fails with its reason; never placed
    silently elsewhere."""
    topic = f"custom-unseen-{fallback}-{time.monotonic_ns()}"
    mock.create_topic(topic, 6)
    p = Producer({"bootstrap.servers": mock.bootstrap_servers,
                  **rdpart.config("murmur2", partitioner=lambda t, k, v, h, c: 5, partitioner_wait_ms=0,
                                  partitioner_fallback=fallback)})
    results = []
    # Keys murmur2 does not put on 5: a message at 5 was placed by the function.
    keys = [k for k in (b"k%d" % i for i in range(200)) if confluent_kafka.murmur2(k, 6) != 5][:50]
    for k in keys:
        p.produce(topic, key=k, value=b"early",
                  on_delivery=lambda e, m: results.append((e.name() if e else None, m.partition(), m.key())))
    assert p.flush(30) == 0
    time.sleep(0.2)
    for i in range(10):  # metadata known now: the function places these
        p.produce(topic, key=b"late%d" % i, value=b"late",
                  on_delivery=lambda e, m: results.append((e.name() if e else None, m.partition(), m.key())))
    assert p.flush(30) == 0
    st = [t for pr in rdpart.stats()["producers"] for t in pr["topics"] if t["topic"] == topic][-1]["partitioner"]
    early, late = results[:-10], results[-10:]
    assert all(r == (None, 5, r[2]) for r in late), late
    assert len(early) == 50
    # The first messages cannot be seen (no count yet, no wait); once
    # librdkafka has placed them, the count is known and the function
    # places the rest of the burst (how many depends on the machine's pace).
    by_function = [r for r in early if r[:2] == (None, 5)]
    unseen = [r for r in early if r[:2] != (None, 5)]
    assert unseen and early[0] in unseen, early
    if fallback == "strategy":
        assert all(e is None and p_ == confluent_kafka.murmur2(k, 6) for e, p_, k in unseen), unseen
        assert st["fallback"] == len(unseen) and st["partition"] == len(by_function) + 10, st
    else:
        assert all(e == "_UNKNOWN_PARTITION" for e, _, _ in unseen), unseen
        assert st["failed"]["no_partition_count"] + st["failed"]["unplaced"] == len(unseen), st
        assert st["partition"] == len(by_function) + 10, st


def test_an_object_with_partition_and_close(mock, topic):
    closed = []

    class Spread:
        """The Java client's classic example: random over the available partitions."""

        def __init__(self):
            import random
            self.random = random.Random(7)

        def partition(self, topic, key, value, headers, cluster):
            return self.random.choice(cluster.available or range(cluster.partition_count))

        def close(self):
            closed.append(threading.get_ident())

    conf = {"bootstrap.servers": mock.bootstrap_servers, **rdpart.config("murmur2", partitioner=Spread())}
    parts = collections.Counter()
    for _ in range(2):  # one config, two producers: close() once each
        p = Producer(conf)
        for i in range(600):
            p.produce(topic, value=b"%d" % i, on_delivery=lambda e, m: parts.update([m.partition()]))
        assert p.flush(30) == 0
        assert closed == [threading.get_ident()] * (_)
        del p
    import gc
    gc.collect()
    assert len(closed) == 2
    assert sorted(parts) == list(range(6)) and sum(parts.values()) == 1200, parts


def test_producing_from_inside_the_function(mock, topic):
    box = {}
    got = []

    def fn(topic_, key, value, headers, cluster):
        if topic_ == topic:
            box["p"].produce(topic, value=b"inner:" + value, partition=0,  # re-entered, explicit
                             on_delivery=lambda e, m: got.append((e, m.partition(), m.value())))
            return 3
        return None

    p = Producer({"bootstrap.servers": mock.bootstrap_servers, **rdpart.config("murmur2", partitioner=fn)})
    box["p"] = p
    for i in range(20):
        p.produce(topic, value=b"%d" % i, on_delivery=lambda e, m: got.append((e, m.partition(), m.value())))
    assert p.flush(30) == 0
    assert sorted(pv for e, pv, v in got if e is None and not v.startswith(b"inner")) == [3] * 20
    assert sorted(pv for e, pv, v in got if e is None and v.startswith(b"inner")) == [0] * 20


def test_a_first_message_waits_with_the_gil_released(mock):
    """The first message of a topic waits for its partition count (the
    broker answers after 400 ms): produce() blocks meanwhile, the process's
    other Python threads do not."""
    topic = f"custom-slow-{time.monotonic_ns()}"
    mock.create_topic(topic, 6)
    p = Producer({"bootstrap.servers": mock.bootstrap_servers, **rdpart.config("murmur2", partitioner=place)})
    p.list_topics(timeout=10)  # connected; only the topic is new
    blocked, pause = blocked_and_longest_pause(mock, 400, lambda: p.produce(topic, key=b"k", value=b"first"))
    assert p.flush(30) == 0
    assert blocked > 0.3, f"produce() returned after {blocked:.3f} s: it did not wait for the count"
    assert pause < 0.2, f"another thread stalled {pause:.3f} s while produce() waited {blocked:.3f} s"


def test_interpreters_rdpart_cannot_serve_are_refused():
    r = run_child("""
        import _xxsubinterpreters as si
        i = si.create()
        try:
            si.run_string(i, "import rdpart; rdpart.config(partitioner=lambda *a: 0)")
        except Exception as e:
            print("refused:", e)
    """)
    assert "refused:" in r.stdout and "subinterpreter" in r.stdout, (r.stdout, r.stderr)


@pytest.mark.parametrize("case", ["in_flight", "waiting_thread", "destroyed_while_waiting"])
def test_interpreter_exit_and_destruction_never_crash_or_hang(case):
    r = run_child(f"""
        import threading, time, sys
        from confluent_kafka import Producer
        import rdpart
        from rdpart.mock import MockCluster
        mc = MockCluster(3)
        mc.create_topic("t", 4)
        closed = []
        class P:
            def partition(self, topic, key, value, headers, cluster):
                return 1
            def close(self):
                closed.append(1)
        p = Producer({{"bootstrap.servers": mc.bootstrap_servers, "linger.ms": 1000,
                      **rdpart.config("murmur2", partitioner=P())}})
        case = "{case}"
        if case == "in_flight":
            for i in range(1000):
                p.produce("t", value=b"x")
            print("exiting with messages in flight", flush=True)
        elif case == "waiting_thread":
            for b in (1, 2, 3):
                mc.set_rtt(b, 3000)
            th = threading.Thread(target=lambda: p.produce("t2", value=b"x"), daemon=True)
            th.start()
            time.sleep(0.3)
            print("exiting while a first message waits", flush=True)
        else:
            for b in (1, 2, 3):
                mc.set_rtt(b, 1000)
            th = threading.Thread(target=lambda: p.produce("t3", value=b"x"))
            th.start()
            time.sleep(0.2)
            del p  # the waiting thread still holds it
            th.join()
            import gc; gc.collect()
            print("closed", len(closed), flush=True)
    """, timeout=60)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr[-2000:])
    assert "exiting" in r.stdout or "closed 1" in r.stdout, r.stdout


def test_deadlock_hunt():
    """4 producing threads, switch interval 1 us, a function that gives up
    the GIL, metadata refreshed every 10 ms, new topics, produce_batch,
    purge, list_topics(topic), flush and poll on other threads."""
    try:
        r = subprocess.run([sys.executable, os.path.join(HERE, "custom_hunt.py"), "8", "4"],
                           capture_output=True, text=True, timeout=150)
    except subprocess.TimeoutExpired:
        pytest.fail("deadlock: the hunt did not finish in 150 s")
    assert r.returncode == 0, r.stderr[-3000:]
    d = json.loads(r.stdout.strip().splitlines()[-1])
    print({k: v for k, v in d.items() if k != "stats"})
    assert d["misplaced"] == 0, d["misplaced_examples"]
    assert d["wrong_thread"] == 0
    assert d["calls"] == d["produced"], "the function ran other than once per message"
    assert d["produced"] > 20000 and d["left"] == 0
    assert d["delivered"] + sum(v for k, v in d["failed"].items() if not k.startswith("batch:")) == d["produced"]
    assert set(d["failed"]) <= {"_PURGE_QUEUE", "batch:_UNKNOWN_PARTITION", "_UNKNOWN_PARTITION"}, d["failed"]
    # Every _UNKNOWN_PARTITION delivery failure has its reason counted: a
    # message librdkafka placed on its own thread, without an answer.
    unseen = sum(t["partitioner"]["failed"]["unplaced"] + t["partitioner"]["failed"]["no_partition_count"]
                 for pr in d["stats"]["producers"] for t in pr["topics"] if "partitioner" in t)
    assert unseen >= d["failed"].get("_UNKNOWN_PARTITION", 0), (unseen, d["failed"])
    assert d["raised"] == {}, d["raised"]


def test_on_kafka_partitions_added_and_a_broker_down_past_the_metadata_lifetime(kafka_broker):
    """Apache Kafka: a 4-partition topic grows to 8 while a producer runs,
    and a broker is down longer than metadata.max.age.ms. Every message read
    back is where the function said given the partition count it was shown;
    every other message failed with its reason."""
    kafka = kafka_broker
    topic = new_topic(kafka, 4)
    said = {}
    lock = threading.Lock()

    def fn(topic_, key, value, headers, cluster):
        p = zlib.crc32(value) % cluster.partition_count
        with lock:
            said[value] = (p, cluster.partition_count)
        return p

    p = Producer({"bootstrap.servers": kafka.bootstrap_servers, "linger.ms": 5, "enable.idempotence": True,
                  "metadata.max.age.ms": 1500, "topic.metadata.refresh.interval.ms": 300,
                  "message.timeout.ms": 30000, **rdpart.config("murmur2", partitioner=fn)})
    failed = collections.Counter()

    def on_delivery(err, msg):
        if err is not None:
            failed[err.name()] += 1

    i = 0
    t0 = time.monotonic()
    grown = killed = restarted = False
    while time.monotonic() - t0 < 14:
        el = time.monotonic() - t0
        if el > 3 and not grown:
            kafka.grow(topic, 8)
            grown = True
        if el > 5 and not killed:
            kafka.kill(3)
            killed = True
        if el > 9 and not restarted:
            kafka.start(3)
            restarted = True
        p.produce(topic, value=b"%d" % i, on_delivery=on_delivery)
        i += 1
        p.poll(0)
        time.sleep(0.002)
    assert p.flush(60) == 0
    kafka.wait_ready()
    kafka.wait_in_sync(topic)
    got = read_back(kafka.bootstrap_servers, topic, 8, i - sum(failed.values()), timeout=60)
    wrong = [(part, v) for part, _, v in got if part != said[v][0]]
    assert wrong == [], f"{len(wrong)} of {len(got)} messages not where the function said: {wrong[:5]}"
    assert len(got) + sum(failed.values()) == i, (len(got), dict(failed), i)
    assert set(failed) <= {"_MSG_TIMED_OUT", "_UNKNOWN_PARTITION"}, failed
    assert max(c for _, c in said.values()) == 8, "the function never saw the new partitions"
    st = [t for pr in rdpart.stats()["producers"] for t in pr["topics"] if t["topic"] == topic][-1]
    print(f"{i} messages, {len(got)} read back where the function said, failed: {dict(failed)}",
          st["partitioner"])
