"""Your own partitioner in Python, run where librdkafka holds no lock.

``rdpart.config("murmur2", partitioner=place)`` gives a confluent-kafka
producer a partitioner written in Python::

    def place(topic, key, value, headers, cluster):
        return 3       # a partition id, 0 <= id < cluster.partition_count
        # or bytes: a routing key, placed by the strategy as if it were the key
        # or None: placed by the strategy

librdkafka calls a partitioner under its own locks, sometimes on its own
thread: Python there deadlocks (the GIL against those locks). rdpart runs
the function instead in the ``on_send`` interceptor, in the thread that
called ``produce()``, before librdkafka takes any lock, and hands the answer
to its partitioner callback. docs/custom_partitioner.md has the design.

This module is the Python side: librdpart calls its bridge through
CPython's C API (``rdpart.partitioner.python``, the bridge's address; C
programs use the C hook ``rdpart.partitioner.cb`` instead), and the bridge
checks the function's answer.
"""

from __future__ import annotations

import sys
import traceback
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

__all__ = ["Cluster", "Placement", "PartitionerFunction", "properties"]

#: What the function may return: a partition, a routing key, or None.
Placement = Union[int, bytes, str, None]
#: ``place(topic, key, value, headers, cluster)``.
PartitionerFunction = Callable[
    [str, Optional[bytes], Optional[bytes], Optional[List[Tuple[str, Optional[bytes]]]], "Cluster"],
    Placement,
]

# rdpart.h: RDPART_PLACE_STRATEGY.
_STRATEGY = -1


class Cluster:
    """What the function knows of the topic: ``partition_count`` and
    ``available``, a tuple of the partition ids that have a leader now."""

    __slots__ = ("partition_count", "available")

    def __init__(self, partition_count: int, available: Tuple[int, ...]) -> None:
        self.partition_count = partition_count
        self.available = available

    def __repr__(self) -> str:
        return f"Cluster(partition_count={self.partition_count}, available={self.available})"


# Every bridge handed to librdkafka lives as long as the process: a
# producer made from a config dict may outlive every reference the
# application keeps, and a dict may make several producers.
_alive: List[object] = []


def _check_interpreter() -> None:
    """Raises where rdpart cannot run Python safely: a free-threaded build,
    or a subinterpreter (librdpart takes the GIL with PyGILState_Ensure, which
    always enters the main interpreter)."""
    from . import RdpartError

    gil = getattr(sys, "_is_gil_enabled", None)
    if gil is not None and not gil():
        raise RdpartError("rdpart: partitioner= needs CPython with the GIL; this interpreter runs "
                          "free-threaded (untested with rdpart): run with PYTHON_GIL=1")
    for name in ("_interpreters", "_xxsubinterpreters"):
        try:
            mod: Any = __import__(name)
        except ImportError:
            continue
        current, main = mod.get_current(), mod.get_main()
        cid = current[0] if isinstance(current, tuple) else current
        mid = main[0] if isinstance(main, tuple) else main
        if cid != mid:
            raise RdpartError("rdpart: partitioner= works only in the main interpreter, not in a "
                              "subinterpreter")
        return


class _Bridge:
    """What librdpart calls (through CPython's C API, in ``on_send``, with
    the GIL): the function, with its answer checked. Answers an int (a
    partition, or -1: the strategy), bytes (a routing key) or a str (why the
    message fails: logged on the producer's log)."""

    def __init__(self, function: Callable[..., Placement], close: Optional[Callable[[], Any]]) -> None:
        self.function = function
        self.close_function = close

    def __call__(self, topic: str, key: Optional[bytes], value: Optional[bytes],
                 headers: Optional[List[Tuple[str, Optional[bytes]]]], count: int,
                 available: Tuple[int, ...]) -> Union[int, bytes, str]:
        try:
            r: object = self.function(topic, key, value, headers, Cluster(count, available))
            if r is None:
                return _STRATEGY
            if type(r) is int:  # not bool
                if 0 <= r <= 0x7FFFFFFF:
                    return r
                return (f"the partitioner returned {r}, not a partition id (0..{count - 1}): "
                        "the message is not placed")
            if type(r) is bytes:
                return r
            if isinstance(r, str):
                return r.encode()
            if isinstance(r, (bytearray, memoryview)):
                return bytes(r)
            return (f"the partitioner returned {r!r:.80} (a {type(r).__name__}): expected a partition id "
                    "(int), a routing key (bytes or str) or None: the message is not placed")
        except BaseException as e:  # noqa: BLE001 (nothing may cross into C)
            try:
                text = "".join(traceback.format_exception(type(e), e, e.__traceback__)).rstrip()
                return "the partitioner raised (the message is not placed): " + text
            except BaseException:  # noqa: BLE001
                return "the partitioner raised (the message is not placed)"

    def close(self) -> None:
        """Called by librdpart once when each producer is destroyed."""
        try:
            if sys.is_finalizing():
                return
            if self.close_function is not None:
                self.close_function()
        except BaseException:  # noqa: BLE001 (nothing may cross into C)
            try:
                traceback.print_exc()
            except BaseException:  # noqa: BLE001
                pass


def properties(partitioner: Any, fallback: Optional[str] = None,
               wait_ms: Optional[int] = None) -> Dict[str, str]:
    """The ``rdpart.partitioner.*`` properties for ``partitioner``: a function
    ``place(topic, key, value, headers, cluster)``, or an object with a
    ``partition(topic, key, value, headers, cluster)`` method (and maybe
    ``close()``, called once when each producer is destroyed)."""
    from . import RdpartError

    _check_interpreter()
    method = getattr(partitioner, "partition", None)
    if callable(method) and not isinstance(partitioner, type):
        function, close = method, getattr(partitioner, "close", None)
        if close is not None and not callable(close):
            close = None
    elif callable(partitioner):
        function, close = partitioner, None
    else:
        raise RdpartError("partitioner= takes a function place(topic, key, value, headers, cluster) "
                          "or an object with a partition(topic, key, value, headers, cluster) method, "
                          f"not {type(partitioner).__name__}")
    props: Dict[str, str] = {}
    if fallback is not None:
        if fallback not in ("fail", "strategy"):
            raise RdpartError(f'Invalid value "{fallback}" for configuration property '
                              '"rdpart.partitioner.fallback": expected fail or strategy')
        props["rdpart.partitioner.fallback"] = fallback
    if wait_ms is not None:
        if type(wait_ms) is not int or not 0 <= wait_ms <= 900000:
            raise RdpartError(f'Invalid value "{wait_ms}" for configuration property '
                              '"rdpart.partitioner.wait.ms": expected 0..900000')
        props["rdpart.partitioner.wait.ms"] = str(wait_ms)
    bridge = _Bridge(function, close)
    _alive.append(bridge)
    props["rdpart.partitioner.python"] = hex(id(bridge))  # CPython: its address
    return props


def load(spec: str) -> Any:
    """The partitioner named ``module:attribute`` (``module.sub:obj.attr``),
    imported as Python would (the current directory first). Raises
    ValueError with what is wrong."""
    import importlib

    module, sep, attr = spec.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"{spec!r}: expected MODULE:FUNCTION, as in mypart:place")
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        obj: Any = importlib.import_module(module)
    except Exception as e:  # noqa: BLE001 (the user's module may raise anything)
        raise ValueError(f"cannot import {module!r}: {type(e).__name__}: {e}") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ValueError(f"{module!r} has no {attr!r}") from None
    if not callable(obj) and not callable(getattr(obj, "partition", None)):
        raise ValueError(f"{spec} is neither a function nor an object with a partition() method")
    return obj


def expected(partitioner: Any, strategy: str, topic: str, key: Optional[bytes], value: Optional[bytes],
             headers: Optional[List[Tuple[str, Optional[bytes]]]], partition_count: int,
             key_delimiter: Optional[bytes] = None) -> Optional[int]:
    """Where a producer configured with ``strategy`` and ``partitioner``
    puts this message among ``partition_count`` partitions (all available),
    computed here in Python with the same rules as the plugin; None when
    the strategy places it by chance (a keyless message of random, sticky,
    ...). Raises ValueError when the function's answer fails the message,
    and lets the function's own exceptions through."""
    from . import partition

    method = getattr(partitioner, "partition", None)
    function = method if callable(method) and not isinstance(partitioner, type) else partitioner
    r = function(topic, key, value, headers, Cluster(partition_count, tuple(range(partition_count))))
    if type(r) is int:
        if not 0 <= r < partition_count:
            raise ValueError(f"the partitioner returned {r}: not a partition id (0..{partition_count - 1})")
        return r
    if r is None:
        route = key
    elif isinstance(r, (bytes, bytearray, memoryview, str)):
        route = r.encode() if isinstance(r, str) else bytes(r)
    else:
        raise ValueError(f"the partitioner returned {r!r:.80} (a {type(r).__name__}): expected a "
                         "partition id (int), a routing key (bytes or str) or None")
    if route is None or strategy in ("random", "round_robin"):
        return None  # placed by chance
    return partition(strategy, route, partition_count, key_delimiter=key_delimiter)
