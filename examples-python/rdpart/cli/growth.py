"""``rdpart growth``: how many keys change partition when a topic grows (or
shrinks), per strategy, and where they go."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Dict, List, Sequence, Tuple, TypedDict

import rdpart
from rdpart.cli.common import UsageError, check_strategy, keyed, read_keys, table

# One of a strategy's largest flows of keys between two partitions.
Move = TypedDict("Move", {"from": int, "to": int, "keys": int})


class Growth(TypedDict):
    """What growing (or shrinking) the topic moves under one strategy."""

    strategy: str
    keys: int
    moved: int
    moved_share: float
    to_new_partitions: int
    to_old_partitions: int
    top_moves: List[Move]


def growth(strategies: Sequence[str], keys: Sequence[bytes], n: int, m: int) -> List[Growth]:
    """For each strategy, how many of ``keys`` change partition from n to m
    partitions, and whether they go to the new partitions or the old ones."""
    out: List[Growth] = []
    for s in strategies:
        moved = to_new = 0
        flows: Dict[Tuple[int, int], int] = {}
        for k in keys:
            a, b = rdpart.partition(s, k, n), rdpart.partition(s, k, m)
            if a != b:
                moved += 1
                to_new += b >= n
                flows[a, b] = flows.get((a, b), 0) + 1
        top = sorted(flows.items(), key=lambda kv: -kv[1])[:3]
        out.append({"strategy": s, "keys": len(keys), "moved": moved,
                    "moved_share": moved / len(keys) if keys else 0.0,
                    "to_new_partitions": to_new, "to_old_partitions": moved - to_new,
                    "top_moves": [{"from": f, "to": t, "keys": c} for (f, t), c in top]})
    return out


def cmd_growth(a: argparse.Namespace) -> int:
    """``rdpart growth``: what moves under each strategy, as a table or JSON."""
    strategies = [check_strategy(s, keyed_only=True) for s in (a.strategy or keyed())]
    if a.keys_file:
        keys = list(read_keys(a.keys_file, a.hex))
        if not keys:
            raise UsageError(f"no keys in {a.keys_file}")
    else:
        keys = [b"key-%d" % i for i in range(a.keys)]
    res = growth(strategies, keys, a.from_, a.to)
    # The least any placement can move: keys must fill the new partitions
    # (growing) or leave the removed ones (shrinking).
    least = abs(a.to - a.from_) / max(a.to, a.from_)
    if a.json:
        json.dump({"from": a.from_, "to": a.to, "keys": len(keys), "least_possible_share": least,
                   "strategies": res}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    sys.stdout.write(f"{len(keys)} keys, {a.from_} -> {a.to} partitions "
                     f"(the least any placement can move: {least:.2%})\n")
    rows = []
    for r in res:
        moves = ", ".join(f"{t['from']}->{t['to']} {t['keys']}" for t in r["top_moves"])
        rows.append((r["strategy"], r["moved"], f"{r['moved_share']:.2%}", r["to_new_partitions"],
                     r["to_old_partitions"], moves))
    table(["strategy", "moved", "share", "to new", "to old", "largest moves (from->to keys)"], rows,
          sys.stdout, [False, True, True, True, True, False])
    return 0
