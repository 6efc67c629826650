"""``rdpart place``: the partition a strategy (or your own partitioner)
gives each key."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Iterable, List, Optional, Tuple

import rdpart
from rdpart.cli.common import (
    UsageError, arg_bytes, arg_text, check_strategy, expected, load_partitioner, parse_key, rd, read_keys, show_key,
    table,
)


def cmd_place(a: argparse.Namespace) -> int:
    """``rdpart place``: each key's partition, as a table or JSON."""
    check_strategy(a.strategy)
    strategy = a.strategy
    a.topic, a.topic_strategy = arg_text(a.topic, "--topic"), arg_text(a.topic_strategy, "--topic-strategy")
    if a.topic_strategy is not None:
        if a.topic is None:
            raise UsageError("--topic-strategy needs --topic: the topic whose strategy applies")
        strategy = rd(rdpart.topic_strategy, a.topic, a.strategy, a.topic_strategy)
    elif a.topic is not None:
        raise UsageError("--topic only selects a --topic-strategy pair")
    if a.keys and a.file:
        raise UsageError("give keys as arguments or with --file, not both")
    if a.keys:
        keys: Iterable[bytes] = [parse_key(k, a.hex) for k in a.keys]
    elif a.file or (sys.stdin is not None and not sys.stdin.isatty()):
        keys = read_keys(a.file, a.hex)
    else:
        raise UsageError("no keys: give them as arguments, with --file, or on stdin")
    if a.key_delimiter is not None:
        a.key_delimiter = arg_bytes(a.key_delimiter)
        rd(rdpart.partition, strategy, b"", 1, key_delimiter=a.key_delimiter)  # validate once
    rows: List[Tuple[bytes, Optional[int]]]
    if a.partitioner is not None:
        function = load_partitioner(a.partitioner)
        rows = [(k, expected(function, strategy, a.topic or "", k, None, a.partitions, a.key_delimiter))
                for k in keys]
    else:
        rows = [(k, rdpart.partition(strategy, k, a.partitions, key_delimiter=a.key_delimiter)) for k in keys]
    if a.json:
        json.dump({"strategy": strategy, "partitions": a.partitions,
                   "placements": [{"key": show_key(k, a.hex), "partition": p} for k, p in rows]},
                  sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        if strategy != a.strategy:
            sys.stdout.write(f"topic {a.topic}: strategy {strategy}\n")
        table(["key", "partition"], [(show_key(k, a.hex), p) for k, p in rows], sys.stdout, [False, True])
    return 0
