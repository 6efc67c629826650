"""What every subcommand shares: the usage error, strategy checks, keys as
the bytes typed, the plain-text table, and the user's --partitioner."""

from __future__ import annotations

import os
import sys
from typing import (
    TYPE_CHECKING, Any, BinaryIO, Callable, Iterable, Iterator, List, Optional, Sequence, TextIO, Tuple, TypeVar,
)

import rdpart

if TYPE_CHECKING:
    from rdpart.partitioner import PartitionerFunction

T = TypeVar("T")

#: A message's headers, as confluent-kafka gives them.
Headers = Optional[List[Tuple[str, Optional[bytes]]]]

def keyed() -> Tuple[str, ...]:
    """Strategies whose keyed messages go to a partition fixed by the key
    (the library's list, read when first needed)."""
    return tuple(s for s in rdpart.STRATEGIES if s not in ("random", "round_robin"))


class UsageError(Exception):
    """A bad argument: printed with the subcommand's name, exit status 2."""


def check_strategy(name: str, keyed_only: bool = False) -> str:
    """``name`` if rdpart has it, else a UsageError listing the valid ones."""
    valid = keyed() if keyed_only else rdpart.STRATEGIES
    if name not in valid:
        extra = " (random and round_robin ignore keys)" if keyed_only and name in rdpart.STRATEGIES else ""
        raise UsageError(f"unknown strategy {name!r}{extra}; valid: {', '.join(valid)}")
    return name


def rd(f: Callable[..., T], *args: Any, **kw: Any) -> T:
    """``f(*args, **kw)``, an rdpart function: its RdpartError (a bad
    property, strategy or delimiter) becomes a usage error."""
    try:
        return f(*args, **kw)
    except rdpart.RdpartError as e:
        raise UsageError(str(e)) from None


# --- output -------------------------------------------------------------------

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
    """A key as printed: hexadecimal with ``hex_``, else the text when it is
    printable UTF-8, else 0x and its hexadecimal bytes."""
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
    """A key argument: the bytes typed, or with ``hex_`` the bytes its
    hexadecimal digits spell."""
    if not hex_:
        return arg_bytes(text)
    try:
        return bytes.fromhex(text.strip())
    except ValueError:
        raise UsageError(f"--hex: {text!r} is not hexadecimal") from None


def read_keys(source: Optional[str], hex_: bool) -> Iterator[bytes]:
    """Keys, one per line, from a file or '-' (stdin), as bytes; line ends
    dropped."""
    opened: Optional[BinaryIO] = None
    if source is None or source == "-":
        if sys.stdin is None:
            raise UsageError("cannot read keys: stdin is closed (give keys as arguments or with --file)")
        lines: Iterable[bytes] = sys.stdin.buffer
    else:
        try:
            opened = open(source, "rb")  # noqa: SIM115 (closed below)
        except OSError as e:
            raise UsageError(f"cannot read keys: {e}") from None
        lines = opened
    try:
        try:
            for line in lines:
                line = line.rstrip(b"\r\n")
                yield parse_key(line.decode("ascii", "replace"), True) if hex_ else line
        except OSError as e:
            raise UsageError(f"cannot read keys from {source or 'stdin'}: {e.strerror or e}") from None
    finally:
        if opened is not None:
            opened.close()


# --- your own partitioner -----------------------------------------------------

def load_partitioner(spec: str) -> PartitionerFunction:
    """--partitioner MODULE:FUNCTION, or a usage error saying what is wrong."""
    from rdpart.partitioner import load

    try:
        function: PartitionerFunction = load(spec)
    except ValueError as e:
        raise UsageError(f"--partitioner: {e}") from None
    return function


def expected(function: PartitionerFunction, strategy: str, topic: str, key: Optional[bytes],
             value: Optional[bytes], n: int, delimiter: Optional[bytes], headers: Headers = None) -> Optional[int]:
    """Where the plugin with --partitioner puts a message; the function's
    failures become a usage error naming the key."""
    from rdpart.partitioner import expected as placed

    try:
        return placed(function, strategy, topic, key, value, headers, n, key_delimiter=delimiter)
    except Exception as e:  # noqa: BLE001 (the user's function may raise anything)
        raise UsageError(f"--partitioner, for key {show_key(key, False)}: {type(e).__name__}: {e}") from None
