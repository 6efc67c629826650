#!/usr/bin/env python3
"""rdpart example: a confluent-kafka producer that partitions with rdpart.

    python3 producer.py STRATEGY [--brokers HOST:PORT] [--topic T]
                       [--partitions N] [--messages N] [--keys N]

Without --brokers it starts librdkafka's embedded mock cluster. It produces
keyed and keyless messages, prints how many each partition got, then reads
the topic back and prints "0 lost, 0 duplicated, per-key order kept" only
when that is true (exit status 0; 1 otherwise).
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from typing import Dict, List, Optional, Tuple

from confluent_kafka import Consumer, Producer, TopicPartition

import rdpart
from rdpart.mock import MockCluster

BY_KEY = set(rdpart.STRATEGIES) - {"random", "round_robin"}


def produce(brokers: str, topic: str, strategy: str, messages: int, keys: int,
            extra: Optional[Dict[str, str]] = None) -> Tuple[List[Tuple[Optional[bytes], int]], int, int]:
    """Produce; returns [(key, partition)] from delivery reports, keyed, keyless."""
    conf = {"bootstrap.servers": brokers, "enable.idempotence": True, "linger.ms": 5,
            **rdpart.config(strategy), **(extra or {})}
    p = Producer(conf)  # and produce at once, as users do
    delivered: List[Tuple[Optional[bytes], int]] = []
    errors: List[str] = []

    def on_delivery(err, msg) -> None:
        if err:
            errors.append(str(err))
        else:
            delivered.append((msg.key(), msg.partition()))

    seq = collections.Counter()
    keyed = keyless = 0
    for i in range(messages):
        k = i % (2 * keys)
        if k < keys:
            key: Optional[bytes] = b"key-%d" % k
            value = b"k%d:%d:%d" % (k, seq[k], i)
            seq[k] += 1
            keyed += 1
        else:
            key, value = None, b"n:%d" % i
            keyless += 1
        while True:
            try:
                p.produce(topic, value=value, key=key, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.01)
        p.poll(0)
    p.flush(60)
    if errors:
        raise RuntimeError(f"{len(errors)} delivery errors, first: {errors[0]}")
    return delivered, keyed, keyless


def read_back(brokers: str, topic: str, partitions: int, total: int, timeout: float = 30.0):
    """Every message of the topic: [(partition, key, value)] in partition order."""
    c = Consumer({"bootstrap.servers": brokers, "group.id": "rdpart-example-check",
                  "enable.auto.commit": False})
    c.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    out = []
    deadline = time.monotonic() + timeout
    while len(out) < total and time.monotonic() < deadline:
        for m in c.consume(1000, 0.2):
            if not m.error():
                out.append((m.partition(), m.key(), m.value()))
    c.close()
    return out


def check(records, total: int, by_key: bool) -> Dict[str, int]:
    """Count what was lost, duplicated, out of order, or split across partitions."""
    seen = collections.Counter()
    next_seq: Dict[bytes, int] = {}
    key_partition: Dict[bytes, int] = {}
    out_of_order = split = 0
    for partition, key, value in records:
        fields = value.split(b":")
        seen[int(fields[-1])] += 1
        if key is not None and by_key:
            if key_partition.setdefault(key, partition) != partition:
                split += 1
            s = int(fields[1])
            if s != next_seq.get(key, 0):
                out_of_order += 1
            next_seq[key] = max(next_seq.get(key, 0), s + 1)
    return {"lost": sum(1 for i in range(total) if not seen[i]),
            "duplicated": sum(c - 1 for c in seen.values() if c > 1),
            "out_of_order": out_of_order, "split_keys": split}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("strategy", nargs="?", default="sticky", help=", ".join(rdpart.STRATEGIES))
    ap.add_argument("--brokers", help="bootstrap servers (default: start a mock cluster)")
    ap.add_argument("--topic", default="rdpart-example")
    ap.add_argument("--partitions", type=int, default=6)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--keys", type=int, default=1000)
    args = ap.parse_args(argv)
    try:
        rdpart.config(args.strategy)
    except rdpart.RdpartError as e:
        print(e, file=sys.stderr)
        return 2

    mock = None
    brokers = args.brokers
    if not brokers:
        mock = MockCluster(3)
        mock.create_topic(args.topic, args.partitions)
        brokers = mock.bootstrap_servers
    try:
        delivered, keyed, keyless = produce(brokers, args.topic, args.strategy, args.messages, args.keys)
        print(f"strategy {args.strategy}: {keyed} keyed + {keyless} keyless messages "
              f"to {args.partitions} partitions of {args.topic}")
        for label, want_key in (("keyed", True), ("keyless", False)):
            counts = collections.Counter(p for k, p in delivered if (k is not None) == want_key)
            print(f"  {label:<8}" + "".join(f" {counts[p]:6d}" for p in range(args.partitions)))
        records = read_back(brokers, args.topic, args.partitions, args.messages)
        r = check(records, args.messages, args.strategy in BY_KEY)
    finally:
        if mock:
            mock.close()
    if not any(r.values()):
        print("0 lost, 0 duplicated, per-key order kept")
        return 0
    print("CHECK FAILED: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in r.items()))
    return 1


if __name__ == "__main__":
    sys.exit(main())
