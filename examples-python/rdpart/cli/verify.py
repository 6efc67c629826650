"""``rdpart verify``: whether a topic's keyed messages are where a strategy
(or your own partitioner) puts them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import rdpart
from rdpart.cli import kafka
from rdpart.cli.common import (
    UsageError, arg_bytes, arg_text, check_strategy, expected, load_partitioner, rd, show_key, table,
)

if TYPE_CHECKING:
    from rdpart.partitioner import PartitionerFunction


def cmd_verify(a: argparse.Namespace) -> int:
    """``rdpart verify``: every argument checked before connecting, then the
    topic read and checked; 1 when any key is misplaced."""
    strategy = check_strategy(a.strategy)
    function = load_partitioner(a.partitioner) if a.partitioner is not None else None
    if strategy in ("random", "round_robin") and function is None:
        raise UsageError(f"{strategy} ignores keys: there is no placement to verify")
    kafka.require("verify")
    a.bootstrap_servers = arg_text(a.bootstrap_servers, "--bootstrap-servers")
    a.topic, a.topic_strategy = arg_text(a.topic, "--topic"), arg_text(a.topic_strategy, "--topic-strategy")
    if a.topic_strategy is not None:
        strategy = rd(rdpart.topic_strategy, a.topic, strategy, a.topic_strategy)
        if strategy in ("random", "round_robin") and function is None:
            raise UsageError(f"--topic-strategy gives {a.topic} {strategy}, which ignores keys")
    if a.key_delimiter is not None:
        a.key_delimiter = arg_bytes(a.key_delimiter)
        rd(rdpart.partition, strategy, b"", 1, key_delimiter=a.key_delimiter)
    consumer = kafka.make_consumer(a)
    try:
        return verify(a, strategy, consumer, function)
    finally:
        consumer.close()


def verify(a: argparse.Namespace, strategy: str, consumer: Any,
           function: Optional[PartitionerFunction] = None) -> int:
    """Reads the topic, checks each message against ``strategy`` (or
    ``function``) and reports; 1 when any is misplaced."""
    stats: Dict[int, Dict[str, int]] = {}
    examples: List[Dict[str, object]] = []
    parts = [0]

    def start(n: int) -> None:
        parts[0] = n
        stats.update({p: {"messages": 0, "placed": 0, "misplaced": 0, "keyless": 0} for p in range(n)})

    def each(m: Any) -> None:
        p, key = m.partition(), m.key()
        st = stats[p]
        st["messages"] += 1
        want: Optional[int]
        if function is not None:
            want = expected(function, strategy, a.topic, key, m.value(), parts[0], a.key_delimiter, m.headers())
            if want is None:  # placed by chance: a keyless message of the strategy
                st["keyless"] += 1
                return
        elif key is None:
            st["keyless"] += 1
            return
        else:
            want = rdpart.partition(strategy, key, parts[0], key_delimiter=a.key_delimiter)
        if want == p:
            st["placed"] += 1
        else:
            st["misplaced"] += 1
            if len(examples) < a.examples:
                examples.append({"key": show_key(key, False), "partition": p, "expected": want,
                                 "offset": m.offset()})

    n, read, elapsed = kafka.read_topic(a, consumer, start, each)
    misplaced = sum(s["misplaced"] for s in stats.values())
    placed = sum(s["placed"] for s in stats.values())
    keyless = sum(s["keyless"] for s in stats.values())
    if a.json:
        json.dump({"topic": a.topic, "strategy": strategy, "partitions": n, "messages": read,
                   "placed": placed, "misplaced": misplaced, "keyless": keyless,
                   "per_partition": {str(p): s for p, s in stats.items()}, "examples": examples,
                   "seconds": round(elapsed, 3)}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        out = sys.stdout
        out.write(f"topic {a.topic}: {n} partitions, {read} messages read in {elapsed:.2f} s, "
                  f"keys checked against {strategy}\n")
        rows: List[Tuple[object, ...]] = [(p, s["messages"], s["placed"], s["misplaced"], s["keyless"])
                                          for p, s in stats.items()]
        rows.append(("all", read, placed, misplaced, keyless))
        table(["partition", "messages", "placed", "misplaced", "keyless"], rows, out, [True] * 5)
        if examples:
            out.write("\nmisplaced, for example:\n")
            table(["key", "partition", "offset", f"{strategy} says"],
                  [(e["key"], e["partition"], e["offset"], e["expected"]) for e in examples], out,
                  [False, True, True, True])
        what, who = ("messages", f"{a.partitioner} and {strategy} put") if function else ("keyed messages",
                                                                                          f"{strategy} puts")
        if misplaced:
            out.write(f"\n{misplaced} of {placed + misplaced} {what} are not where {who} them\n")
        else:
            out.write(f"\nall {placed} {what} are where {who} them\n")
    return 1 if misplaced else 0
