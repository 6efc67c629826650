"""The ``rdpart`` command: where does this key go, what moves if the topic
grows, and is this topic placed as expected.

    rdpart place murmur2 6 order-1 order-2
    rdpart growth --from 6 --to 7
    rdpart verify --bootstrap-servers broker:9092 --topic orders --strategy murmur2

Placements come from librdpart itself (through ctypes), so ``place`` answers
for every strategy rdpart has, which doubles as "place like client X".
Exit status: 0 success; 1 ``verify`` found misplaced keys; 2 usage or
connection errors.

This module holds the parser, its argument types, the examples the help
shows and ``main()``; each subcommand is a module of this package (place,
growth, skew, verify), what they share is in ``common`` and reading a topic
with confluent-kafka is in ``kafka``.
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import rdpart
from rdpart.cli.common import (
    UsageError, arg_bytes, arg_text, check_strategy, load_partitioner, parse_key, read_keys, show_key, table,
)
from rdpart.cli.growth import cmd_growth
from rdpart.cli.place import cmd_place
from rdpart.cli.skew import cmd_skew, imbalance, skew_report, what_if
from rdpart.cli.verify import cmd_verify

__all__ = [
    "EXAMPLES", "MAX_PARTITIONS", "MAX_TIMEOUT", "Intermixed", "UsageError",
    "arg_bytes", "arg_text", "check_strategy", "cmd_growth", "cmd_place", "cmd_skew", "cmd_verify",
    "imbalance", "integer", "load_partitioner", "main", "parse_key", "parser", "partition_counts", "partitions",
    "positive", "read_keys", "seconds", "share", "show_key", "skew_partitions", "skew_report", "table", "what_if",
]

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


# --- argument types -----------------------------------------------------------

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
            n: Optional[int] = int(text)
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


# --- the parser ---------------------------------------------------------------

class Intermixed(argparse.ArgumentParser):
    """A subcommand's parser that takes options among and after its
    positionals (``rdpart place jump 6 --hex 00ff10 --json``), as
    ``parse_intermixed_args`` does: the subparsers action calls
    ``parse_known_args``."""

    _inner = False

    # One signature for typeshed's overloads: argparse passes a Namespace.
    def parse_known_args(  # type: ignore[override]
            self, args: Optional[Sequence[str]] = None,
            namespace: Optional[argparse.Namespace] = None) -> Tuple[argparse.Namespace, List[str]]:
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

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Union[str, Sequence[Any], None], option_string: Optional[str] = None) -> None:
        sys.stdout.write(f"rdpart {rdpart.__version__}\n")
        parser.exit()


def _strategies_line() -> str:
    """The help's list of strategies: the library's. Help needs no library:
    without one, the line says where the list is missing from."""
    try:
        return "strategies: " + ", ".join(rdpart.STRATEGIES)
    except FileNotFoundError as e:
        return f"strategies: (read from librdpart.so, which is not found: {e})"


def _topic_to_read(p: argparse.ArgumentParser) -> None:
    """-b and -t: the subcommands that consume a topic."""
    p.add_argument("--bootstrap-servers", "-b", required=True, metavar="B")
    p.add_argument("--topic", "-t", required=True, metavar="T")


def _consumer_options(p: argparse.ArgumentParser) -> None:
    """-X and --timeout: the consumer of the subcommands that read a topic."""
    p.add_argument("-X", action="append", metavar="PROP=VALUE",
                   help="a consumer property, e.g. -X security.protocol=SSL (repeatable)")
    p.add_argument("--timeout", type=seconds, default=10.0, metavar="SEC",
                   help="give up when the brokers do not answer for SEC seconds (default 10)")


def parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    ap = argparse.ArgumentParser(
        prog="rdpart", formatter_class=fmt,
        description="Where Kafka keys go under each client's partitioner, what moves when a topic "
                    "grows, and whether a topic is placed as expected.",
        epilog=_strategies_line() + "\n\n" + "\n\n".join(EXAMPLES.values()))
    ap.add_argument("--version", action=_Version, nargs=0, help="show the library's version and exit")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Intermixed)

    p = sub.add_parser("place", help="print the partition of each key", formatter_class=fmt,
                       description="Print the partition STRATEGY gives each key among PARTITIONS. "
                                   "Keys come from the arguments, --file, or stdin (one per line).",
                       epilog=_strategies_line() + "\n\n" + EXAMPLES["place"])
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
    _topic_to_read(k)
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
    _consumer_options(k)
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
    _topic_to_read(v)
    v.add_argument("--strategy", "-s", required=True, metavar="S")
    v.add_argument("--max-messages", type=positive, metavar="K",
                   help="read at most K messages (default: every message up to the end)")
    v.add_argument("--topic-strategy", metavar="PAIRS", help="as rdpart.topic.strategy (selects by --topic)")
    v.add_argument("--key-delimiter", metavar="STR", help="as rdpart.key.delimiter")
    v.add_argument("--partitioner", metavar="MODULE:FUNCTION",
                   help="your own partitioner: check every message where it (and STRATEGY) puts it")
    _consumer_options(v)
    v.add_argument("--examples", type=integer(0), default=10, metavar="N",
                   help="misplaced examples to show (default 10)")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")
    v.add_argument("--json", action="store_true", help="JSON instead of a table")
    v.set_defaults(func=cmd_verify)
    return ap


# --- running ------------------------------------------------------------------

def _say(text: str) -> None:
    """A line on stderr, if stderr is open."""
    try:
        if sys.stderr is not None:
            sys.stderr.write(text)
    except (OSError, ValueError):
        pass


def main(argv: Optional[Sequence[str]] = None) -> int:
    """The command: its exit status (errors are a message on stderr and 2,
    never a traceback)."""
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
