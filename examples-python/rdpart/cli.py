"""The ``rdpart`` command: where does this key go, what moves if the topic
grows, and is this topic placed as expected.

    rdpart place murmur2 6 order-1 order-2
    rdpart growth --from 6 --to 7
    rdpart verify --bootstrap-servers broker:9092 --topic orders --strategy murmur2

Placements come from librdpart itself (through ctypes), so ``place`` answers
for every strategy rdpart has, which doubles as "place like client X".
Exit status: 0 success; 1 ``verify`` found misplaced keys; 2 usage or
connection errors.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import uuid
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, TextIO, Tuple

import rdpart

# Strategies whose keyed messages go to a partition fixed by the key.
KEYED = tuple(s for s in rdpart.STRATEGIES if s not in ("random", "round_robin"))

EXAMPLES = {
    "place": """examples:
  rdpart place murmur2 6 order-1 order-2      # like librdkafka murmur2 and the Java client
  rdpart place kafkajs_legacy 12 --file keys.txt
  printf 'a\\nb\\n' | rdpart place sarama_reference 6
  rdpart place jump 6 --hex 00ff10 --json
  rdpart place murmur2 6 tenant-7:order-1 --key-delimiter :
  rdpart place murmur2 6 k1 --topic-strategy 'orders:jump,events-*:round_robin' --topic orders""",
    "growth": """examples:
  rdpart growth --from 6 --to 7               # every keyed strategy, 100,000 generated keys
  rdpart growth --from 6 --to 12 --strategy murmur2 --strategy jump keys.txt
  rdpart growth --from 100 --to 101 --json""",
    "skew": """examples:
  rdpart skew --bootstrap-servers broker:9092 --topic orders
  rdpart skew -b broker:9092 -t orders --partitions 6,12,24 --json
  rdpart skew -b broker:9092 -t orders -s murmur2 -s jump --hot-key-share 0.1 --plot orders.png""",
    "verify": """examples:
  rdpart verify --bootstrap-servers broker:9092 --topic orders --strategy murmur2
  rdpart verify -b broker:9092 -t orders -s kafkajs --max-messages 100000 --json
  rdpart verify -b broker:9093 -t orders -s fnv1a -X security.protocol=SSL -X ssl.ca.location=ca.pem""",
}


class UsageError(Exception):
    """A bad argument: printed with the subcommand's name, exit status 2."""


# --- numbers ------------------------------------------------------------------

MAX_PARTITIONS = 0x7FFFFFFF
# socket.connection.setup.timeout.ms and librdkafka's timeouts are int
# milliseconds.
MAX_TIMEOUT = MAX_PARTITIONS // 1000


def integer(least: int, most: Optional[int] = None,
            allowed: Optional[str] = None) -> Callable[[str], int]:
    """An argparse type: an integer from ``least`` to ``most``; a bad one is
    a usage error (exit status 2) naming the argument and what is allowed."""
    if allowed is None:
        allowed = f"an integer from {least} to {most}" if most is not None else f"an integer, {least} or more"

    def parse(text: str) -> int:
        try:
            n = int(text)
        except ValueError:
            n = None
        if n is None or n < least or (most is not None and n > most):
            raise argparse.ArgumentTypeError(f"must be {allowed}, not {text!r}")
        return n
    return parse


def seconds(text: str) -> float:
    """An argparse type: a positive finite number of seconds (librdkafka
    takes a negative timeout as infinite)."""
    try:
        t = float(text)
    except ValueError:
        t = math.nan
    if not 0 < t <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, at most {MAX_TIMEOUT}, "
                                         f"not {text!r}")
    return t


partitions = integer(1, MAX_PARTITIONS)
positive = integer(1, allowed="a positive integer")


skew_partitions = integer(1, 100_000)


def partition_counts(text: str) -> List[int]:
    """An argparse type: comma-separated partition counts (at most 100,000:
    the comparison counts each one)."""
    return [skew_partitions(t.strip()) for t in text.split(",") if t.strip()] or [skew_partitions(text)]


def share(text: str) -> float:
    """An argparse type: 0 (off) or a share between 0 and 1."""
    try:
        v = float(text)
    except ValueError:
        v = math.nan
    if not (v == 0 or 0 < v < 1):
        raise argparse.ArgumentTypeError(f"must be 0 (off) or a share between 0 and 1, not {text!r}")
    return v


# --- output -----------------------------------------------------------------

def table(header: Sequence[str], rows: Iterable[Sequence[object]], out: TextIO,
          right: Sequence[bool] = ()) -> None:
    """An aligned plain-text table; numeric columns (``right``) right-aligned."""
    cells = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    just = [right[i] if i < len(right) else False for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if j else c.ljust(w) for c, w, j in zip(cells, widths, just)).rstrip()

    out.write(line(header) + "\n")
    for r in cells:
        out.write(line(r) + "\n")


def show_key(key: Optional[bytes], hex_: bool) -> str:
    if key is None:
        return "(null)"
    if hex_:
        return key.hex()
    if not key:
        return '""'
    try:
        text = key.decode()
        if text.isprintable():
            return text
    except UnicodeDecodeError:
        pass
    return "0x" + key.hex()


def check_strategy(name: str, keyed_only: bool = False) -> str:
    """``name`` if rdpart has it, else a UsageError listing the valid ones."""
    valid = KEYED if keyed_only else rdpart.STRATEGIES
    if name not in valid:
        extra = " (random and round_robin ignore keys)" if keyed_only and name in rdpart.STRATEGIES else ""
        raise UsageError(f"unknown strategy {name!r}{extra}; valid: {', '.join(valid)}")
    return name


# --- keys ---------------------------------------------------------------------

def arg_bytes(text: str) -> bytes:
    """A command-line argument as the bytes typed (Python decodes argv with
    surrogateescape), UTF-8 or not."""
    return os.fsencode(text)


def arg_text(text: Optional[str], option: str) -> Optional[str]:
    """A command-line argument that goes on as text (a topic, a broker
    address, a property): the bytes typed, which must be UTF-8."""
    if text is None:
        return None
    raw = arg_bytes(text)
    try:
        return raw.decode()
    except UnicodeDecodeError:
        raise UsageError(f"{option}: {raw.decode(errors='backslashreplace')} is not UTF-8 text") from None


def parse_key(text: str, hex_: bool) -> bytes:
    if not hex_:
        return arg_bytes(text)
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        raise UsageError(f"--hex: {text!r} is not hexadecimal") from None


def read_keys(source: Optional[str], hex_: bool) -> Iterator[bytes]:
    """Keys, one per line, from a file or '-' (stdin), as bytes; line ends
    dropped."""
    if source in (None, "-"):
        if sys.stdin is None:
            raise UsageError("cannot read keys: stdin is closed (give keys as arguments or with --file)")
        lines: Iterable[bytes] = sys.stdin.buffer
    else:
        try:
            lines = open(source, "rb")  # noqa: SIM115 (closed below)
        except OSError as e:
            raise UsageError(f"cannot read keys: {e}") from None
    try:
        try:
            for line in lines:
                line = line.rstrip(b"\r\n")
                yield parse_key(line.decode("ascii", "replace"), True) if hex_ else line
        except OSError as e:
            raise UsageError(f"cannot read keys from {source or 'stdin'}: {e.strerror or e}") from None
    finally:
        if lines is not sys.stdin.buffer:
            lines.close()  # type: ignore[attr-defined]


# --- place --------------------------------------------------------------------

def cmd_place(a: argparse.Namespace) -> int:
    check_strategy(a.strategy)
    strategy = a.strategy
    a.topic, a.topic_strategy = arg_text(a.topic, "--topic"), arg_text(a.topic_strategy, "--topic-strategy")
    if a.topic_strategy is not None:
        if a.topic is None:
            raise UsageError("--topic-strategy needs --topic: the topic whose strategy applies")
        strategy = _rd(rdpart.topic_strategy, a.topic, a.strategy, a.topic_strategy)
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
        _rd(rdpart.partition, strategy, b"", 1, key_delimiter=a.key_delimiter)  # validate once
    if a.partitioner is not None:
        function = load_partitioner(a.partitioner)
        rows = [(k, _expected(function, strategy, a.topic or "", k, None, a.partitions, a.key_delimiter))
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


def load_partitioner(spec: str) -> Any:
    """--partitioner MODULE:FUNCTION, or a usage error saying what is wrong."""
    from .partitioner import load

    try:
        return load(spec)
    except ValueError as e:
        raise UsageError(f"--partitioner: {e}") from None


def _expected(function: Any, strategy: str, topic: str, key: Optional[bytes], value: Optional[bytes],
              n: int, delimiter: Optional[bytes], headers: Any = None) -> Optional[int]:
    """Where the plugin with --partitioner puts a message; the function's
    failures become a usage error naming the key."""
    from .partitioner import expected

    try:
        return expected(function, strategy, topic, key, value, headers, n, key_delimiter=delimiter)
    except Exception as e:  # noqa: BLE001 (the user's function may raise anything)
        raise UsageError(f"--partitioner, for key {show_key(key, False)}: {type(e).__name__}: {e}") from None


def _rd(f: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    try:
        return f(*args, **kw)
    except rdpart.RdpartError as e:
        raise UsageError(str(e)) from None


# --- growth -------------------------------------------------------------------

def growth(strategies: Sequence[str], keys: Sequence[bytes], n: int, m: int) -> List[Dict[str, object]]:
    """For each strategy, how many of ``keys`` change partition from n to m
    partitions, and whether they go to the new partitions or the old ones."""
    out = []
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
    strategies = [check_strategy(s, keyed_only=True) for s in (a.strategy or KEYED)]
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
        top: Any = r["top_moves"]
        moves = ", ".join(f"{t['from']}->{t['to']} {t['keys']}" for t in top)
        rows.append((r["strategy"], r["moved"], f"{r['moved_share']:.2%}", r["to_new_partitions"],
                     r["to_old_partitions"], moves))
    table(["strategy", "moved", "share", "to new", "to old", "largest moves (from->to keys)"], rows,
          sys.stdout, [False, True, True, True, True, False])
    return 0


# --- verify -------------------------------------------------------------------

def cmd_verify(a: argparse.Namespace) -> int:
    strategy = check_strategy(a.strategy)
    function = load_partitioner(a.partitioner) if a.partitioner is not None else None
    if strategy in ("random", "round_robin") and function is None:
        raise UsageError(f"{strategy} ignores keys: there is no placement to verify")
    try:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
    except ImportError:
        raise UsageError("verify needs confluent-kafka: pip install 'rdpart[verify]'") from None
    a.bootstrap_servers = arg_text(a.bootstrap_servers, "--bootstrap-servers")
    a.topic, a.topic_strategy = arg_text(a.topic, "--topic"), arg_text(a.topic_strategy, "--topic-strategy")
    if a.topic_strategy is not None:
        strategy = _rd(rdpart.topic_strategy, a.topic, strategy, a.topic_strategy)
        if strategy in ("random", "round_robin") and function is None:
            raise UsageError(f"--topic-strategy gives {a.topic} {strategy}, which ignores keys")
    if a.key_delimiter is not None:
        a.key_delimiter = arg_bytes(a.key_delimiter)
        _rd(rdpart.partition, strategy, b"", 1, key_delimiter=a.key_delimiter)
    consumer = _consumer(a, Consumer, KafkaException)
    try:
        return _verify(a, strategy, consumer, TopicPartition, KafkaError, KafkaException, OFFSET_BEGINNING,
                       function)
    finally:
        consumer.close()


def _consumer(a: argparse.Namespace, Consumer: Any, KafkaException: Any) -> Any:
    """A consumer that commits nothing, from -b, --timeout and -X."""
    conf = {"bootstrap.servers": a.bootstrap_servers, "group.id": f"rdpart-{a.command}-{uuid.uuid4()}",
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


def _progress(total: int, enabled: bool) -> Any:
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
    dims = {"dynamic_ncols": True} if size.columns and size.lines else {"ncols": 80, "nrows": 24}
    return tqdm(total=total, unit="msg", unit_scale=True, file=sys.stderr, desc="reading", leave=False, **dims)


def _read(a: argparse.Namespace, consumer: Any, TopicPartition: Any, KafkaError: Any, KafkaException: Any,
          OFFSET_BEGINNING: int,
          start: Callable[[int], None], each: Callable[[object], None]) -> Tuple[int, int, float]:
    """Reads a.topic from the beginning to its end (or --max-messages):
    start(partition count), then each(message). Returns the partition count,
    the messages read and the seconds it took. The progress bar, the
    timeouts and their errors are verify's and skew's alike."""
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
    bar = _progress(int(min(total, limit)), not a.no_progress)
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


def _verify(a: argparse.Namespace, strategy: str, consumer: Any, TopicPartition: Any, KafkaError: Any,
            KafkaException: Any, OFFSET_BEGINNING: int,
            function: Any = None) -> int:
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
        if function is not None:
            want = _expected(function, strategy, a.topic, key, m.value(), parts[0], a.key_delimiter,
                             m.headers())
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

    n, read, elapsed = _read(a, consumer, TopicPartition, KafkaError, KafkaException, OFFSET_BEGINNING,
                             start, each)
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


def cmd_skew(a: argparse.Namespace) -> int:
    strategies = [check_strategy(x, keyed_only=True) for x in (a.strategy or KEYED)]
    try:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition
    except ImportError:
        raise UsageError("skew needs confluent-kafka: pip install 'rdpart[verify]'") from None
    if a.plot is not None:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            raise UsageError("--plot needs matplotlib: pip install 'rdpart[plot]'") from None
        kinds = plt.gcf().canvas.get_supported_filetypes()
        ext = os.path.splitext(a.plot)[1].lstrip(".").lower()
        if ext not in kinds:
            raise UsageError(f"--plot {a.plot}: the file name must end in one of "
                             f"{', '.join('.' + k for k in sorted(kinds))}")
        where = os.path.dirname(os.path.abspath(a.plot))
        if not os.access(where, os.W_OK):
            raise UsageError(f"--plot {a.plot}: cannot write in {where}")
    a.bootstrap_servers = arg_text(a.bootstrap_servers, "--bootstrap-servers")
    a.topic = arg_text(a.topic, "--topic")
    if a.key_delimiter is not None:
        a.key_delimiter = arg_bytes(a.key_delimiter)
        _rd(rdpart.partition, strategies[0], b"", 1, key_delimiter=a.key_delimiter)
    consumer = _consumer(a, Consumer, KafkaException)
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
        n, read, elapsed = _read(a, consumer, TopicPartition, KafkaError, KafkaException, OFFSET_BEGINNING,
                                 start, each)
    finally:
        consumer.close()
    report = skew_report(a, n, read, messages, sizes, keys, keyless[0], strategies)
    report["seconds"] = round(elapsed, 3)
    if a.json:
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        _skew_table(report, sys.stdout)
    if a.plot is not None:
        try:
            _skew_plot(report, a.plot)
        except (OSError, ValueError) as e:
            raise UsageError(f"--plot {a.plot}: {e}") from None
    return 0


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
                keys: Dict[bytes, int], keyless: int, strategies: Sequence[str]) -> Dict[str, object]:
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


def _skew_table(r: Dict[str, Any], out: TextIO) -> None:
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


def _skew_plot(r: Dict[str, Any], path: str) -> None:
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


# --- arguments ----------------------------------------------------------------

class Intermixed(argparse.ArgumentParser):
    """A subcommand's parser that takes options among and after its
    positionals (``rdpart place jump 6 --hex 00ff10 --json``), as
    ``parse_intermixed_args`` does: the subparsers action calls
    ``parse_known_args``."""

    _inner = False

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:  # type: ignore[override]
        if self._inner:  # parse_known_intermixed_args calling back (before Python 3.13)
            return super().parse_known_args(args, namespace)
        self._inner = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inner = False


class _Version(argparse.Action):
    """--version: the loaded library's version, read only when asked (so
    --help works without librdpart.so)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        sys.stdout.write(f"rdpart {rdpart.__version__}\n")
        parser.exit()


def parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(
        prog="rdpart", formatter_class=fmt,
        description="Where Kafka keys go under each client's partitioner, what moves when a topic "
                    "grows, and whether a topic is placed as expected.",
        epilog="strategies: " + ", ".join(rdpart.STRATEGIES) + "\n\n" + "\n\n".join(EXAMPLES.values()))
    ap.add_argument("--version", action=_Version, nargs=0, help="show the library's version and exit")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Intermixed)

    p = sub.add_parser("place", help="print the partition of each key", formatter_class=fmt,
                       description="Print the partition STRATEGY gives each key among PARTITIONS. "
                                   "Keys come from the arguments, --file, or stdin (one per line).",
                       epilog="strategies: " + ", ".join(rdpart.STRATEGIES) + "\n\n" + EXAMPLES["place"])
    p.add_argument("strategy", metavar="STRATEGY")
    p.add_argument("partitions", metavar="PARTITIONS", type=partitions)
    p.add_argument("keys", metavar="KEY", nargs="*")
    p.add_argument("--file", "-f", metavar="FILE", help="keys, one per line ('-': stdin)")
    p.add_argument("--hex", action="store_true", help="keys are hexadecimal bytes (and printed so)")
    p.add_argument("--topic-strategy", metavar="PAIRS",
                   help="as rdpart.topic.strategy: PATTERN:STRATEGY pairs; needs --topic")
    p.add_argument("--topic", metavar="TOPIC", help="the topic whose --topic-strategy pair applies")
    p.add_argument("--key-delimiter", metavar="STR", help="as rdpart.key.delimiter: hash only what precedes STR")
    p.add_argument("--partitioner", metavar="MODULE:FUNCTION",
                   help="your own partitioner, as rdpart.config(partitioner=...) runs it (no value, no headers)")
    p.add_argument("--json", action="store_true", help="JSON instead of a table")
    p.set_defaults(func=cmd_place)

    g = sub.add_parser("growth", help="how many keys move when a topic grows", formatter_class=fmt,
                       description="For a key sample (KEYS-FILE, one per line, or generated keys), the share "
                                   "of keys that change partition from --from to --to partitions, per "
                                   "strategy, and whether they go to the new partitions or between old ones.",
                       epilog=EXAMPLES["growth"])
    g.add_argument("--from", dest="from_", metavar="N", type=partitions, required=True)
    g.add_argument("--to", metavar="M", type=partitions, required=True)
    g.add_argument("--strategy", "-s", action="append", metavar="S",
                   help="a strategy (repeatable; default: every keyed one)")
    g.add_argument("keys_file", metavar="KEYS-FILE", nargs="?", help="keys, one per line ('-': stdin)")
    g.add_argument("--keys", type=positive, default=100_000, metavar="K",
                   help="without KEYS-FILE: generate K keys key-0 ... (default 100000)")
    g.add_argument("--hex", action="store_true", help="KEYS-FILE lines are hexadecimal bytes")
    g.add_argument("--json", action="store_true", help="JSON instead of a table")
    g.set_defaults(func=cmd_growth)

    k = sub.add_parser("skew", help="a topic's partition and key skew, and what other strategies would make of it",
                       formatter_class=fmt,
                       description="Consume TOPIC from the beginning (no group commit) and report per partition "
                                   "messages and bytes, the fullest partition against the mean, the heaviest keys "
                                   "and their shares, and what each keyed strategy (and each partition count "
                                   "given) would have made of the same keys, with and without hot keys spread as "
                                   "rdpart.hot.key.share spreads them. A progress bar on stderr when it is a "
                                   "terminal (needs tqdm); --plot draws it (needs matplotlib).",
                       epilog=EXAMPLES["skew"])
    k.add_argument("--bootstrap-servers", "-b", required=True, metavar="B")
    k.add_argument("--topic", "-t", required=True, metavar="T")
    k.add_argument("--strategy", "-s", action="append", metavar="S",
                   help="a keyed strategy to compare (repeatable; default: every keyed strategy)")
    k.add_argument("--partitions", type=partition_counts, metavar="N,M,...",
                   help="partition counts to compare besides the topic's own")
    k.add_argument("--top", type=integer(0), default=10, metavar="K", help="heaviest keys to show (default 10)")
    k.add_argument("--hot-key-share", type=share, default=0.2, metavar="S",
                   help="as rdpart.hot.key.share, for the comparison (default 0.2)")
    k.add_argument("--hot-key-partitions", type=integer(1, 65536), default=4, metavar="K",
                   help="as rdpart.hot.key.partitions, for the comparison (default 4)")
    k.add_argument("--key-delimiter", metavar="STR", help="as rdpart.key.delimiter")
    k.add_argument("--max-messages", type=positive, metavar="K",
                   help="read at most K messages (default: every message up to the end)")
    k.add_argument("-X", action="append", metavar="PROP=VALUE",
                   help="a consumer property, e.g. -X security.protocol=SSL (repeatable)")
    k.add_argument("--timeout", type=seconds, default=10.0, metavar="SEC",
                   help="give up when the brokers do not answer for SEC seconds (default 10)")
    k.add_argument("--no-progress", action="store_true", help="no progress bar")
    k.add_argument("--json", action="store_true", help="JSON instead of a table")
    k.add_argument("--plot", metavar="FILE.png", help="draw the report (needs matplotlib)")
    k.set_defaults(func=cmd_skew)

    v = sub.add_parser("verify", help="check a topic's keyed messages against a strategy", formatter_class=fmt,
                       description="Consume TOPIC from the beginning (no group commit) and report, per "
                                   "partition, how many keyed messages are where STRATEGY puts them at the "
                                   "topic's current partition count, with examples of those that are not. "
                                   "Exit status 1 when any key is misplaced. A progress bar on stderr "
                                   "when it is a terminal (needs tqdm).",
                       epilog=EXAMPLES["verify"])
    v.add_argument("--bootstrap-servers", "-b", required=True, metavar="B")
    v.add_argument("--topic", "-t", required=True, metavar="T")
    v.add_argument("--strategy", "-s", required=True, metavar="S")
    v.add_argument("--max-messages", type=positive, metavar="K",
                   help="read at most K messages (default: every message up to the end)")
    v.add_argument("--topic-strategy", metavar="PAIRS", help="as rdpart.topic.strategy (selects by --topic)")
    v.add_argument("--key-delimiter", metavar="STR", help="as rdpart.key.delimiter")
    v.add_argument("--partitioner", metavar="MODULE:FUNCTION",
                   help="your own partitioner: check every message where it (and STRATEGY) puts it")
    v.add_argument("-X", action="append", metavar="PROP=VALUE",
                   help="a consumer property, e.g. -X security.protocol=SSL (repeatable)")
    v.add_argument("--timeout", type=seconds, default=10.0, metavar="SEC",
                   help="give up when the brokers do not answer for SEC seconds (default 10)")
    v.add_argument("--examples", type=integer(0), default=10, metavar="N",
                   help="misplaced examples to show (default 10)")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")
    v.add_argument("--json", action="store_true", help="JSON instead of a table")
    v.set_defaults(func=cmd_verify)
    return ap


def _say(text: str) -> None:
    """A line on stderr, if stderr is open."""
    try:
        if sys.stderr is not None:
            sys.stderr.write(text)
    except (OSError, ValueError):
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    if sys.stdout is None:  # started with stdout closed (>&-)
        _say("rdpart: stdout is closed: nowhere to write the result\n")
        return 2
    try:
        ap = parser()
        a = ap.parse_args(argv)
    except FileNotFoundError as e:  # librdpart.so missing (--version)
        _say(f"rdpart: {e}\n")
        return 2
    try:
        return a.func(a)
    except UsageError as e:
        _say(f"rdpart {a.command}: {e}\n")
        return 2
    except FileNotFoundError as e:  # librdpart.so missing
        _say(f"rdpart: {e}\n")
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130
    except OSError as e:  # stdout or a file that fails under us
        _say(f"rdpart {a.command}: {e.strerror or e}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
