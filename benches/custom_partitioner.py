#!/usr/bin/env python3
"""The cost of your own partitioner in Python (rdpart.config(partitioner=...)):
produce() time per message on the mock cluster, with and without a
trivial function, against rdpart without one and librdkafka's built-in.

    python3 benches/custom_partitioner.py [MESSAGES] [RUNS]
    RDPART_BASE_LIB=/path/to/old/librdpart.so python3 benches/custom_partitioner.py ...

Keyed messages of 100 B, 6 partitions; the produce() loop is timed (the
flush after it is not), alternating cases run by run; prints a markdown
table of medians and each case's extra cost per message against rdpart
without a function.
"""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples-python"))

from confluent_kafka import Producer  # noqa: E402

import rdpart  # noqa: E402
from rdpart.mock import MockCluster  # noqa: E402

N = 6
VALUE = b"v" * 100


def to_partition(topic, key, value, headers, cluster):
    return 3


def to_strategy(topic, key, value, headers, cluster):
    return None


def java_style(topic, key, value, headers, cluster):
    """Random over the available partitions, the Java client's example."""
    import random
    return random.choice(cluster.available or range(cluster.partition_count))


CASES = [
    ("built-in partitioner=murmur2_random", lambda: {"partitioner": "murmur2_random"}),
    ("rdpart murmur2, no function", lambda: rdpart.config("murmur2")),
    ("rdpart + function returning a partition", lambda: rdpart.config("murmur2", partitioner=to_partition)),
    ("rdpart + function returning None (the strategy)", lambda: rdpart.config("murmur2", partitioner=to_strategy)),
    ("rdpart + random.choice(cluster.available)", lambda: rdpart.config("murmur2", partitioner=java_style)),
]


# RDPART_BASE_LIB: an older librdpart.so, to check that rdpart without a
# function costs what it did (the same run, alternating).
BASE = os.environ.get("RDPART_BASE_LIB")
if BASE:
    CASES.insert(2, ("rdpart murmur2, no function, RDPART_BASE_LIB",
                     lambda: {"plugin.library.paths": BASE, "rdpart.strategy": "murmur2"}))


def run(brokers, topic, conf, messages):
    p = Producer({"bootstrap.servers": brokers, "linger.ms": 5, "queue.buffering.max.messages": 2_000_000,
                  **conf})
    p.produce(topic, VALUE, b"warm")  # the topic's metadata, once
    p.flush(10)
    keys = [b"key-%d" % i for i in range(10_000)]
    produce = p.produce
    t0 = time.perf_counter()
    for i in range(messages):
        produce(topic, VALUE, keys[i % 10_000])
    secs = time.perf_counter() - t0
    assert p.flush(120) == 0
    return secs / messages * 1e9


def main():
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    ns = {name: [] for name, _ in CASES}
    with MockCluster(3) as mc:
        mc.create_topic("bench", N)
        for _ in range(runs):
            for name, conf in CASES:
                ns[name].append(run(mc.bootstrap_servers, "bench", conf(), messages))
    base = statistics.median(ns["rdpart murmur2, no function"])
    builtin = statistics.median(ns["built-in partitioner=murmur2_random"])
    print(f"| case ({messages} keyed messages of 100 B, median of {runs}) | ns per produce() | "
          "extra vs rdpart alone | spread |")
    print("|---|---:|---:|---:|")
    for name, _ in CASES:
        m = statistics.median(ns[name])
        extra = "" if name.startswith("built-in") else f"{m - base:+,.0f} ns"
        if name == "rdpart murmur2, no function":
            extra = f"{base / builtin:.3f}x the built-in"
        elif name.endswith("RDPART_BASE_LIB"):
            extra = f"{m - base:+,.0f} ns ({base / m:.3f}x: this build against the base)"
        print(f"| {name} | {m:,.0f} | {extra} | {min(ns[name]):,.0f}-{max(ns[name]):,.0f} |")


if __name__ == "__main__":
    main()
