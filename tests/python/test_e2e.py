"""End to end on real brokers (the mock cluster and Apache Kafka), from Python and
from C: nothing lost, nothing twice, each key in the one partition an
independent oracle predicts, in order; failover; several producers at once;
partition growth."""

import collections
import os
import subprocess
import threading
import time

import pytest
from confluent_kafka import Producer

import rdpart
from conftest import new_topic
from oracle import KEYED
from producer import check, produce, read_back

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The C example as built (Debian's librdkafka 2.0.2), on both.
C_PRODUCERS = {"mock": os.path.join(ROOT, "examples-c", "producer"),
               "kafka": os.path.join(ROOT, "examples-c", "producer")}
MESSAGES = int(os.environ.get("RDPART_E2E_MESSAGES", "100000"))
KEYS = 1000
N = 6


def verify(records, total, strategy, n=N):
    """Exact count, no duplicates, keys in one partition and in order (the
    example's own check), and each key where the oracle puts it."""
    assert len(records) == total, f"read {len(records)} of {total}"
    oracle = KEYED[strategy]
    r = check(records, total, by_key=oracle is not None)
    assert r == {"lost": 0, "duplicated": 0, "out_of_order": 0, "split_keys": 0}, r
    if oracle:
        for partition, key, _ in records:
            if key is not None:
                assert partition == oracle(key, n), f"{key!r} in {partition}, oracle says {oracle(key, n)}"


@pytest.mark.parametrize("strategy", rdpart.STRATEGIES)
def test_python_producer_delivers_everything_in_place(broker, strategy):
    topic = new_topic(broker)
    delivered, keyed, keyless = produce(broker.bootstrap_servers, topic, strategy, MESSAGES, KEYS)
    assert len(delivered) == MESSAGES
    verify(read_back(broker.bootstrap_servers, topic, N, MESSAGES, timeout=180), MESSAGES, strategy)


@pytest.mark.parametrize("strategy", rdpart.STRATEGIES)
@pytest.mark.parametrize("how", ["callback", "plugin"])
def test_c_producer_delivers_everything_in_place(broker, strategy, how):
    topic = new_topic(broker)
    cmd = [C_PRODUCERS[broker.name], strategy, "--brokers", broker.bootstrap_servers, "--topic", topic,
           "--partitions", str(N), "--messages", str(MESSAGES), "--keys", str(KEYS), "--quiet"]
    if how == "plugin":
        cmd.append("--plugin")
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(ROOT, "target", "release"))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 lost, 0 duplicated, per-key order kept" in r.stdout
    # And read back independently, against the Python oracles.
    verify(read_back(broker.bootstrap_servers, topic, N, MESSAGES, timeout=180), MESSAGES, strategy)


@pytest.mark.parametrize("strategy", ["sticky", "jump", "round_robin"])
def test_c_producer_threads_keep_counts_and_order(broker, strategy):
    topic = new_topic(broker)
    r = subprocess.run([C_PRODUCERS[broker.name], strategy, "--brokers", broker.bootstrap_servers, "--topic", topic,
                        "--partitions", str(N), "--messages", str(MESSAGES), "--keys", str(KEYS),
                        "--threads", "4", "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    verify(read_back(broker.bootstrap_servers, topic, N, MESSAGES, timeout=180), MESSAGES, strategy)


def test_several_python_producers_at_once(broker):
    """Four producers with four strategies in one process, concurrently, each
    with its own keys: exact counts, per-key order, each in its oracle place."""
    topic = new_topic(broker)
    strategies = ["jump", "sticky", "fnv1a_random", "consistent"]
    per = MESSAGES // len(strategies)
    errors = []

    def run(idx, strategy):
        p = Producer({"bootstrap.servers": broker.bootstrap_servers, "enable.idempotence": True,
                      **rdpart.config(strategy)})
        seq = collections.Counter()
        for i in range(per):
            g = idx * per + i  # a global message index
            if i % 2:
                key = b"p%d-key-%d" % (idx, i % KEYS)
                value = b"k:%d:%d" % (seq[key], g)
                seq[key] += 1
            else:
                key, value = None, b"n:%d" % g
            while True:
                try:
                    p.produce(topic, key=key, value=value,
                              on_delivery=lambda e, m: e and errors.append(e))
                    break
                except BufferError:
                    p.poll(0.01)
            p.poll(0)
        p.flush(120)

    threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate(strategies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    total = per * len(strategies)
    records = read_back(broker.bootstrap_servers, topic, N, total, timeout=180)
    # Counts, duplicates, per-key partition and order over everything...
    assert check(records, total, by_key=True) == {"lost": 0, "duplicated": 0, "out_of_order": 0, "split_keys": 0}
    # ... and each producer's keys where its own strategy puts them.
    for idx, strategy in enumerate(strategies):
        mine = [r for r in records if r[1] is not None and r[1].startswith(b"p%d-" % idx)]
        assert len(mine) == per // 2
        assert all(p == KEYED[strategy](k, N) for p, k, _ in mine), strategy


@pytest.mark.parametrize("strategy", ["random", "round_robin", "sticky", "murmur2_random",
                                      "consistent_random", "fnv1a_random", "jump", "adaptive"])
def test_failover_keyless_avoid_a_leaderless_partition(mock_broker, strategy):
    """Take partition 2's leader away mid-run, keep producing, bring it back:
    keyless messages avoid it while it is down, keyed ones for it are
    delivered once it returns, nothing is lost."""
    mc = mock_broker.cluster
    topic = new_topic(mock_broker)
    down = 2
    p = Producer({"bootstrap.servers": mock_broker.bootstrap_servers, "enable.idempotence": True,
                  **rdpart.config(strategy, sticky_messages=50)})
    placed = {}  # message index -> partition, from delivery reports
    errors = []

    def on_delivery(err, msg):
        if err:
            errors.append(err)
        else:
            placed[int(msg.value().split(b":")[-1])] = msg.partition()

    oracle = KEYED[strategy]
    keys_for_down = [b"key-%d" % k for k in range(2000) if oracle and oracle(b"key-%d" % k, N) == down][:50]
    idx = 0
    phases = {}

    def burst(phase, keyless, keyed=()):
        nonlocal idx
        start = idx
        for _ in range(keyless):
            p.produce(topic, value=b"n:%d" % idx, on_delivery=on_delivery)
            idx += 1
        for key in keyed:
            p.produce(topic, key=key, value=b"k:%d" % idx, on_delivery=on_delivery)
            idx += 1
        p.poll(0)
        phases[phase] = range(start, idx)

    def wait_leader(want_down):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            leader = p.list_topics(topic, timeout=5).topics[topic].partitions[down].leader
            if (leader == -1) == want_down:
                p.poll(0.2)  # librdkafka applies it on its own thread
                return
            time.sleep(0.1)
        raise AssertionError("the producer never saw the leader change")

    burst("before", 3000)
    p.flush(30)
    mc.set_leader(topic, down, -1)
    wait_leader(True)
    burst("down", 3000, keys_for_down)
    time.sleep(0.5)
    p.poll(0)
    mc.set_leader(topic, down, 1)
    wait_leader(False)
    burst("after", 3000)
    assert p.flush(60) == 0
    assert not errors
    assert len(placed) == idx, "every message delivered"
    keyless_down = [i for i in phases["down"] if i < phases["down"].start + 3000]
    on_down = sum(placed[i] == down for i in keyless_down)
    assert on_down == 0, f"{on_down} keyless messages placed on the leaderless partition"
    keyed_down = [i for i in phases["down"] if i >= phases["down"].start + 3000]
    assert all(placed[i] == down for i in keyed_down), "keyed messages kept their partition"
    assert any(placed[i] == down for i in phases["after"] if i < phases["after"].start + 3000), \
        "the partition is used again once its leader is back"
    records = read_back(mock_broker.bootstrap_servers, topic, N, idx, timeout=60)
    assert len(records) == idx


@pytest.mark.parametrize("strategy", ["random", "round_robin", "sticky", "murmur2_random",
                                      "consistent_random", "fnv1a_random", "jump", "adaptive"])
@pytest.mark.parametrize("how", ["callback", "plugin"])
def test_c_failover_keyless_avoid_a_leaderless_partition(strategy, how):
    """The same from C (the example's --failover, on its own mock cluster)."""
    cmd = [C_PRODUCERS["mock"], strategy, "--failover", "2", "--messages", "30000", "--quiet"]
    if how == "plugin":
        cmd.append("--plugin")
    env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(ROOT, "target", "release"))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert ": 0 keyless placed on it" in r.stdout, r.stdout
    assert "0 lost, 0 duplicated, per-key order kept" in r.stdout


GROWTH_KEYS = 5000
HASHED = [s for s in rdpart.STRATEGIES if KEYED[s] is not None]


def _moved(before, after):
    moved = [k for k in before if before[k] != after[k]]
    return len(moved) / len(before), moved


def test_partition_growth_moves_few_keys_with_jump(broker, record_property):
    """Grow a topic from 6 to 7 partitions and measure, from what the broker
    returns, the fraction of keys whose partition changed. On Apache Kafka
    the topic itself grows (CreatePartitions); the mock cluster lacks it, so
    there the 7-partition topic is a second topic: a producer places by key
    and count only, so it sees exactly what it would after growth."""
    rows, how = [], None
    keys = [b"user-%d" % i for i in range(GROWTH_KEYS)]

    def produce_keys(strategy, topic, tag, n):
        p = Producer({"bootstrap.servers": broker.bootstrap_servers, **rdpart.config(strategy)})
        # A grown topic: this producer places by the count it has been told,
        # which a broker that has not applied the growth yet may not give.
        deadline = time.monotonic() + 30
        while len(p.list_topics(topic, timeout=10).topics[topic].partitions) != n:
            assert time.monotonic() < deadline, f"the producer never saw {n} partitions"
            time.sleep(0.2)
        for k in keys:
            p.produce(topic, key=k, value=tag)
            p.poll(0)
        assert p.flush(60) == 0

    for strategy in HASHED:
        before_topic = new_topic(broker, N)
        produce_keys(strategy, before_topic, b"before", N)
        after_topic = before_topic
        if broker.name == "kafka":
            broker.grow(before_topic, N + 1)
            how = "CreatePartitions"
        else:  # the mock cluster has no CreatePartitions: a second topic
            after_topic = new_topic(broker, N + 1)
            how = "a second topic of 7 partitions"
        produce_keys(strategy, after_topic, b"after", N + 1)
        records = read_back(broker.bootstrap_servers, before_topic, N + (after_topic == before_topic),
                            GROWTH_KEYS * (1 + (after_topic == before_topic)), timeout=120)
        if after_topic != before_topic:
            records += read_back(broker.bootstrap_servers, after_topic, N + 1, GROWTH_KEYS, timeout=120)
        before = {k: p for p, k, v in records if v == b"before"}
        after = {k: p for p, k, v in records if v == b"after"}
        assert len(before) == len(after) == GROWTH_KEYS
        moved = [k for k in keys if before[k] != after[k]]
        frac = len(moved) / GROWTH_KEYS
        rows.append((strategy, frac))
        if strategy == "jump":
            assert abs(frac - 1 / (N + 1)) < 0.03, frac
            assert all(after[k] == N for k in moved), "jump moves keys only to the new partition"
        else:
            assert abs(frac - N / (N + 1)) < 0.05, (strategy, frac)
    table = "\n".join(f"| {s} | {f:.3f} |" for s, f in rows)
    print(f"\nkeys moved, {N} -> {N + 1} partitions, {GROWTH_KEYS} keys, {broker.name} ({how}):\n{table}")
    record_property("growth", table)


def test_topic_strategy_and_key_delimiter_through_the_plugin(broker):
    """One confluent-kafka producer, three topics, each placed by the
    strategy its rdpart.topic.strategy pair names (the default for the
    third), hashing only the tenant of `tenant:order` keys: read back, each
    keyed message is where the oracle puts its tenant, in order; keyless
    messages of the round_robin topic (keys ignored) are spread evenly."""
    from confluent_kafka import Producer

    suffix = new_topic(broker)  # unique per run; the three topics share it
    topics = {"orders-" + suffix: "jump", "events-" + suffix: "round_robin", "audit." + suffix: "fnv1a"}
    for t in topics:
        broker.create_topic(t, N)
    p = Producer({"bootstrap.servers": broker.bootstrap_servers, "enable.idempotence": True, "linger.ms": 5,
                  **rdpart.config("fnv1a", topic_strategy="orders-*:jump,events-*:round_robin",
                                  key_delimiter=":")})
    per_topic, tenants = 6000, 50
    errors = []
    seq = collections.Counter()
    for i in range(per_topic):
        for t in topics:
            tenant = i % tenants
            if t.startswith("events-") and i % 2:
                key = None
                value = b"n:%d" % i
            else:
                # Sequence per (topic, tenant): all of a tenant's orders share
                # one partition, so their order is kept across orders.
                key = b"tenant%d:order%d" % (tenant, i)
                value = b"t%d:%d:%d" % (tenant, seq[t, tenant], i)
                seq[t, tenant] += 1
            p.produce(t, value=value, key=key, on_delivery=lambda e, m: e and errors.append(e))
        p.poll(0)
    assert p.flush(60) == 0 and not errors, errors[:3]
    for t, strategy in topics.items():
        records = read_back(broker.bootstrap_servers, t, N, per_topic, timeout=120)
        assert len(records) == per_topic, (t, len(records))
        seen = collections.Counter(int(v.split(b":")[-1]) for _, _, v in records)
        assert len(seen) == per_topic and max(seen.values()) == 1, t
        if strategy == "round_robin":
            # Keys are ignored: every message takes the next partition.
            counts = collections.Counter(pa for pa, _, _ in records)
            assert max(counts.values()) - min(counts.values()) <= 2 * N, counts
            continue
        last = {}
        for partition, key, value in records:
            tenant = key.split(b":")[0]
            assert partition == KEYED[strategy](tenant, N), (t, key, partition)
            s = int(value.split(b":")[1])
            assert last.get(tenant, -1) < s, (t, key, "out of order")
            last[tenant] = s
        # Whole tenants per partition: the partitions the oracle uses.
        used = {KEYED[strategy](b"tenant%d" % x, N) for x in range(tenants)}
        assert {pa for pa, _, _ in records} == used, t
