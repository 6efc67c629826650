#!/usr/bin/env python3
"""End-to-end producer throughput from Python (confluent-kafka, mock cluster):
the rdpart plugin against librdkafka's built-in partitioners, and
rdpart.partition() through ctypes against the alternatives for partition=.

    python3 benches/e2e.py [MESSAGES] [RUNS]

Prints markdown tables; every figure is a median over RUNS alternating runs.
"""

import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples-python"))

import confluent_kafka  # noqa: E402
from confluent_kafka import Producer  # noqa: E402

import rdpart  # noqa: E402
from rdpart.mock import MockCluster  # noqa: E402

try:
    from kafka.partitioner.default import murmur2 as kp_murmur2  # kafka-python, pure Python
except ImportError:  # pragma: no cover
    kp_murmur2 = None

N = 6
VALUE = b"v" * 100


def run(brokers, topic, conf, messages, keyed, partition_fn=None):
    p = Producer({"bootstrap.servers": brokers, "linger.ms": 5,
                  "queue.buffering.max.messages": 1_000_000, **conf})
    p.list_topics(topic, timeout=10)
    keys = [b"k%d" % i for i in range(10_000)] if keyed else None
    produce = p.produce
    t0 = time.perf_counter()
    for i in range(messages):
        key = keys[i % 10_000] if keyed else None
        kw = {"partition": partition_fn(key)} if partition_fn else {}
        while True:
            try:
                produce(topic, VALUE, key, **kw)
                break
            except BufferError:
                p.poll(0.001)
    left = p.flush(120)
    secs = time.perf_counter() - t0
    assert left == 0
    return messages / secs


def main():
    messages = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    with MockCluster(3) as mc:
        mc.create_topic("bench", N)
        bs = mc.bootstrap_servers
        cases = {
            "keyed: built-in partitioner=murmur2_random": ({"partitioner": "murmur2_random"}, True, None),
            "keyed: rdpart plugin murmur2_random": (rdpart.config("murmur2_random"), True, None),
            "keyless: built-in default + librdkafka sticky": ({}, False, None),
            "keyless: rdpart plugin sticky": (rdpart.config("sticky"), False, None),
            # librdkafka's step switches on time only: the same rule in rdpart.
            "keyless: rdpart plugin sticky, 10 ms runs only": (
                rdpart.config("sticky", sticky_messages=2147483647), False, None),
            "keyed: partition=rdpart.partition('murmur2')": ({}, True, lambda k: rdpart.partition("murmur2", k, N)),
            "keyed: partition=confluent_kafka.murmur2": ({}, True, lambda k: confluent_kafka.murmur2(k, N)),
        }
        if kp_murmur2:
            cases["keyed: partition=kafka-python murmur2"] = (
                {}, True, lambda k: (kp_murmur2(k) & 0x7FFFFFFF) % N)
        results = {name: [] for name in cases}
        for _ in range(runs):
            for name, (conf, keyed, fn) in cases.items():
                results[name].append(run(bs, "bench", conf, messages, keyed, fn))
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"## 4. Python end to end: {messages} messages of 100 B, mock cluster, median of {runs}\n")
    print("| case | messages/s | ratio |")
    print("|---|---:|---:|")
    pairs = [
        ("keyed: rdpart plugin murmur2_random", "keyed: built-in partitioner=murmur2_random"),
        ("keyless: rdpart plugin sticky", "keyless: built-in default + librdkafka sticky"),
        ("keyless: rdpart plugin sticky, 10 ms runs only", "keyless: built-in default + librdkafka sticky"),
    ]
    shown = set()
    for ours, peer in pairs:
        if peer not in shown:
            print(f"| {peer} | {med[peer]:,.0f} | |")
            shown.add(peer)
        print(f"| {ours} | {med[ours]:,.0f} | {med[ours] / med[peer]:.3f}x |")
    base = "keyed: partition=confluent_kafka.murmur2"
    for name in [n for n in cases if "partition=" in n]:
        print(f"| {name} | {med[name]:,.0f} | {med[name] / med[base]:.3f}x vs confluent helper |")

    # The placement computation alone, per call.
    keys = [b"user-%d" % i for i in range(100_000)]
    fns = {"rdpart.partition (ctypes)": lambda k: rdpart.partition("murmur2", k, N),
           "confluent_kafka.murmur2 (C)": lambda k: confluent_kafka.murmur2(k, N)}
    if kp_murmur2:
        fns["kafka-python murmur2 (pure Python)"] = lambda k: (kp_murmur2(k) & 0x7FFFFFFF) % N
    print("\n| placement alone, murmur2 | ns per call |")
    print("|---|---:|")
    for name, fn in fns.items():
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            for k in keys:
                fn(k)
            samples.append((time.perf_counter() - t0) / len(keys) * 1e9)
        print(f"| {name} | {statistics.median(samples):,.0f} |")


if __name__ == "__main__":
    main()
