"""Reading a topic with confluent-kafka, for ``verify`` and ``skew``: the
consumer (from -b, --timeout and -X), the topic's metadata and offsets, the
reading loop with its timeouts and errors, and the progress bar.

confluent-kafka (and tqdm) are optional, so they are imported where used,
and its objects (the consumer, messages) are typed ``Any``: its type stubs
differ between its versions, and a type check must not need it."""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from typing import Any, Callable, Dict, Tuple

from rdpart.cli.common import UsageError, arg_text

#: What ``read_topic()`` calls: with the partition count before reading,
#: then with each message read.
Start = Callable[[int], None]
Each = Callable[[Any], None]


def require(command: str) -> None:
    """confluent-kafka, or a usage error saying how to install it."""
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        raise UsageError(f"{command} needs confluent-kafka: pip install 'rdpart[verify]'") from None


def make_consumer(a: argparse.Namespace) -> Any:
    """A consumer that commits nothing, from -b, --timeout and -X; -X is
    PROP=VALUE, as text, and never a callback (a string cannot be one)."""
    from confluent_kafka import Consumer, KafkaException

    conf: Dict[str, Any] = {
        "bootstrap.servers": a.bootstrap_servers, "group.id": f"rdpart-{a.command}-{uuid.uuid4()}",
        "enable.auto.commit": False, "enable.auto.offset.store": False,
        "auto.offset.reset": "earliest", "enable.partition.eof": True, "log_level": 0,
        "socket.connection.setup.timeout.ms": max(1000, int(a.timeout * 1000))}
    for prop in a.X or []:
        name, eq, value = (arg_text(prop, "-X") or "").partition("=")
        if not eq:
            raise UsageError(f"-X {prop}: expected name=value")
        if name.strip().endswith("_cb") or name.strip() in ("logger", "on_delivery"):
            raise UsageError(f"-X {name}: a callback cannot be set from the command line")
        conf[name] = value
    try:
        return Consumer(conf)
    except KafkaException as e:
        raise UsageError(f"consumer configuration: {e.args[0].str()}") from None
    except (TypeError, ValueError) as e:
        raise UsageError(f"consumer configuration: {e}") from None


def progress(total: int, enabled: bool) -> Any:
    """A tqdm bar on stderr, or None: when stderr is not a terminal, or
    tqdm is not installed (said once)."""
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        sys.stderr.write("rdpart: install tqdm (pip install 'rdpart[verify]') for a progress bar\n")
        return None
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except OSError:
        size = os.terminal_size((0, 0))
    # A terminal that reports no size (a bare pty: tqdm would draw nothing)
    # still gets a bar.
    dims: Dict[str, Any] = {"dynamic_ncols": True} if size.columns and size.lines else {"ncols": 80, "nrows": 24}
    return tqdm(total=total, unit="msg", unit_scale=True, file=sys.stderr, desc="reading", leave=False, **dims)


def read_topic(a: argparse.Namespace, consumer: Any, start: Start, each: Each) -> Tuple[int, int, float]:
    """Reads a.topic from the beginning to its end (or --max-messages):
    start(partition count), then each(message). Returns the partition count,
    the messages read and the seconds it took. The progress bar, the
    timeouts and their errors are verify's and skew's alike."""
    from confluent_kafka import OFFSET_BEGINNING, KafkaError, KafkaException, TopicPartition

    deadline = time.monotonic() + a.timeout
    try:
        md = consumer.list_topics(a.topic, timeout=a.timeout)
    except KafkaException as e:
        raise UsageError(f"cannot reach {a.bootstrap_servers} within {a.timeout:g} s: {e.args[0].str()}") from None
    t = md.topics.get(a.topic)
    if t is None or t.error is not None or not t.partitions:
        why = t.error.str() if t is not None and t.error is not None else "no such topic"
        raise UsageError(f"topic {a.topic} on {a.bootstrap_servers}: {why}")
    n = len(t.partitions)
    ends: Dict[int, Tuple[int, int]] = {}
    for p in sorted(t.partitions):
        try:
            ends[p] = consumer.get_watermark_offsets(TopicPartition(a.topic, p),
                                                     timeout=max(0.1, deadline - time.monotonic()))
        except KafkaException as e:
            raise UsageError(f"cannot read the offsets of {a.topic} [{p}] within {a.timeout:g} s: "
                             f"{e.args[0].str()}") from None
    start(n)
    todo = set(ends)
    total = sum(hi - lo for lo, hi in ends.values())
    limit = a.max_messages if a.max_messages is not None else float("inf")
    per = {p: 0 for p in ends}
    consumer.assign([TopicPartition(a.topic, p, OFFSET_BEGINNING) for p in todo])
    bar = progress(int(min(total, limit)), not a.no_progress)
    read, started, idle_since = 0, time.monotonic(), time.monotonic()
    try:
        while todo and read < limit:
            msgs = consumer.consume(int(min(1000, limit - read)), 0.5)
            before = read
            for m in msgs:
                err = m.error()
                if err:
                    # The partition's end, past gaps and control records:
                    # done with it. (Only the fetch says where the end is:
                    # some brokers' end offsets, as ListOffsets reports
                    # them, are wrong, so those only size the progress bar.)
                    if err.code() == KafkaError._PARTITION_EOF:
                        todo.discard(m.partition())
                        idle_since = time.monotonic()
                    elif err.fatal() or (err.code() > 0 and not err.retriable()):
                        raise UsageError(f"reading {a.topic} [{m.partition()}]: {err.str()}")
                    # Other errors (brokers down) wait, up to --timeout.
                    continue
                idle_since = time.monotonic()
                per[m.partition()] += 1
                read += 1
                each(m)
            if time.monotonic() - idle_since > a.timeout:
                raise UsageError(f"no messages for {a.timeout:g} s with {read} of {limit} read: "
                                 f"is {a.bootstrap_servers} reachable?")
            if bar is not None:
                bar.set_postfix_str(" ".join(
                    f"{p}:{min(100, 100 * c // max(1, ends[p][1] - ends[p][0]))}%"
                    for p, c in per.items() if ends[p][1] > ends[p][0])[:60], refresh=False)
                bar.update(read - before)
    finally:
        if bar is not None:
            bar.close()
    return n, read, time.monotonic() - started
