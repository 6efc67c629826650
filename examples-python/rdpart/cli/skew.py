"""``rdpart skew``: a topic's partition and key skew, and what each keyed
strategy and partition count would make of the same keys, with and without
hot keys spread; optionally drawn with matplotlib."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, Optional, Sequence, TextIO, Tuple

import rdpart
from rdpart.cli import kafka
from rdpart.cli.common import UsageError, arg_bytes, arg_text, check_strategy, keyed, rd, show_key, table

#: The report, as --json prints it.
Report = Dict[str, Any]


def cmd_skew(a: argparse.Namespace) -> int:
    """``rdpart skew``: every argument (and --plot's file) checked before
    connecting, then the topic read and reported."""
    strategies = [check_strategy(x, keyed_only=True) for x in (a.strategy or keyed())]
    kafka.require("skew")
    if a.plot is not None:
        check_plot(a.plot)
    a.bootstrap_servers = arg_text(a.bootstrap_servers, "--bootstrap-servers")
    a.topic = arg_text(a.topic, "--topic")
    if a.key_delimiter is not None:
        a.key_delimiter = arg_bytes(a.key_delimiter)
        rd(rdpart.partition, strategies[0], b"", 1, key_delimiter=a.key_delimiter)
    consumer = kafka.make_consumer(a)
    messages: Dict[int, int] = {}
    sizes: Dict[int, int] = {}
    keys: Dict[bytes, int] = {}
    keyless = [0]

    def start(n: int) -> None:
        messages.update({p: 0 for p in range(n)})
        sizes.update({p: 0 for p in range(n)})

    def each(m: Any) -> None:
        p, key, value = m.partition(), m.key(), m.value()
        messages[p] += 1
        sizes[p] += len(key or b"") + len(value or b"")
        if key is None:
            keyless[0] += 1
        else:
            keys[key] = keys.get(key, 0) + 1

    try:
        n, read, elapsed = kafka.read_topic(a, consumer, start, each)
    finally:
        consumer.close()
    report = skew_report(a, n, read, messages, sizes, keys, keyless[0], strategies)
    report["seconds"] = round(elapsed, 3)
    if a.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        skew_table(report, sys.stdout)
    if a.plot is not None:
        try:
            skew_plot(report, a.plot)
        except (OSError, ValueError) as e:
            raise UsageError(f"--plot {a.plot}: {e}") from None
    return 0


def check_plot(path: str) -> None:
    """Before reading: matplotlib is there, it draws this file type, and the
    directory is writable; else a usage error."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("--plot needs matplotlib: pip install 'rdpart[plot]'") from None
    kinds = plt.gcf().canvas.get_supported_filetypes()
    ext = os.path.splitext(path)[1].lstrip(".").lower()
    if ext not in kinds:
        raise UsageError(f"--plot {path}: the file name must end in one of "
                         f"{', '.join('.' + k for k in sorted(kinds))}")
    where = os.path.dirname(os.path.abspath(path))
    if not os.access(where, os.W_OK):
        raise UsageError(f"--plot {path}: cannot write in {where}")


def imbalance(counts: Sequence[float]) -> float:
    """The fullest partition's messages against the mean (0 for none)."""
    total = sum(counts)
    return max(counts) / (total / len(counts)) if total else 0.0


def what_if(keys: Dict[bytes, int], strategy: str, n: int, delimiter: Optional[bytes],
            share: float, spread: int) -> Tuple[float, float]:
    """The keyed messages' fullest/mean if `strategy` placed `keys` on `n`
    partitions: as is, and with keys above `share` of them spread evenly
    over `spread` partitions from their own (hot.key.share's rule)."""
    plain, spread_out = [0] * n, [0.0] * n
    total = sum(keys.values())
    k = max(1, min(spread, n))
    for key, c in keys.items():
        p = rdpart.partition(strategy, key, n, key_delimiter=delimiter)
        plain[p] += c
        if share > 0 and c > share * total:
            for i in range(k):
                spread_out[(p + i) % n] += c / k
        else:
            spread_out[p] += c
    return imbalance(plain), imbalance(spread_out)


def skew_report(a: argparse.Namespace, n: int, read: int, messages: Dict[int, int], sizes: Dict[int, int],
                keys: Dict[bytes, int], keyless: int, strategies: Sequence[str]) -> Report:
    """The report of what was read: per partition, the heaviest keys, and
    each strategy's and partition count's what-if."""
    keyed = read - keyless
    heavy = sorted(keys.items(), key=lambda kc: -kc[1])[:a.top]
    counts = sorted(set([n] + list(a.partitions or [])))
    whatif = []
    for s in strategies:
        for m in counts:
            as_is, spread = what_if(keys, s, m, a.key_delimiter, a.hot_key_share, a.hot_key_partitions)
            whatif.append({"strategy": s, "partitions": m, "imbalance": round(as_is, 4),
                           "imbalance_hot_keys_spread": round(spread, 4)})
    return {
        "topic": a.topic, "partitions": n, "messages": read, "keyed": keyed, "keyless": keyless,
        "distinct_keys": len(keys),
        "per_partition": [{"partition": p, "messages": messages[p], "bytes": sizes[p]} for p in range(n)],
        "imbalance": round(imbalance([messages[p] for p in range(n)]), 4),
        "imbalance_bytes": round(imbalance([sizes[p] for p in range(n)]), 4),
        "heaviest_keys": [{"key": show_key(k, False), "messages": c,
                           "share": round(c / keyed, 4) if keyed else 0.0} for k, c in heavy],
        "hot_key_share": a.hot_key_share, "hot_key_partitions": a.hot_key_partitions,
        "what_if": whatif,
    }


def skew_table(r: Report, out: TextIO) -> None:
    """The report as plain-text tables."""
    out.write(f"topic {r['topic']}: {r['partitions']} partitions, {r['messages']} messages "
              f"({r['keyed']} keyed, {r['distinct_keys']} distinct keys), read in {r['seconds']:.2f} s\n")
    total = max(1, r["messages"])
    rows = [(q["partition"], q["messages"], q["bytes"], f"{100 * q['messages'] / total:.1f}%")
            for q in r["per_partition"]]
    table(["partition", "messages", "bytes", "share"], rows, out, [True] * 4)
    out.write(f"\nfullest partition / mean: {r['imbalance']:.2f} (messages), {r['imbalance_bytes']:.2f} (bytes)\n")
    if r["heaviest_keys"]:
        out.write("\nheaviest keys (share of keyed messages):\n")
        table(["key", "messages", "share"],
              [(k["key"], k["messages"], f"{100 * k['share']:.1f}%") for k in r["heaviest_keys"]], out,
              [False, True, True])
    out.write(f"\nwhat each strategy would make of these keys (fullest / mean of the keyed messages; "
              f"spread: keys above {r['hot_key_share']:g} over {r['hot_key_partitions']} partitions, "
              f"as rdpart.hot.key.share does):\n")
    table(["strategy", "partitions", "as placed", "hot keys spread"],
          [(w["strategy"], w["partitions"], f"{w['imbalance']:.2f}", f"{w['imbalance_hot_keys_spread']:.2f}")
           for w in r["what_if"]], out, [False, True, True, True])


def skew_plot(r: Report, path: str) -> None:
    """The report drawn to ``path``: messages per partition, and each
    what-if's fullest / mean with and without hot keys spread."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    parts = [q["partition"] for q in r["per_partition"]]
    left.bar(parts, [q["messages"] for q in r["per_partition"]], color="#4477aa")
    left.axhline(r["messages"] / max(1, r["partitions"]), color="#aa3377", linestyle="--", label="mean")
    left.set_xlabel("partition")
    left.set_ylabel("messages")
    left.set_title(f"{r['topic']}: fullest / mean {r['imbalance']:.2f}")
    left.legend()
    labels = [f"{w['strategy']}\n{w['partitions']}" for w in r["what_if"]]
    x = range(len(labels))
    right.bar([i - 0.2 for i in x], [w["imbalance"] for w in r["what_if"]], 0.4, label="as placed",
              color="#4477aa")
    right.bar([i + 0.2 for i in x], [w["imbalance_hot_keys_spread"] for w in r["what_if"]], 0.4,
              label=f"hot keys spread (> {r['hot_key_share']:g})", color="#228833")
    right.set_xticks(list(x))
    right.set_xticklabels(labels, fontsize=7, rotation=90)
    right.set_ylabel("fullest / mean")
    right.set_title("what each strategy and partition count would make of these keys")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
