"""rdpart for Python: custom partitioning for confluent-kafka producers.

rdpart is a librdkafka plugin: librdkafka loads it into the producer and it
places every message itself, in C speed, with no Python in the hot path::

    from confluent_kafka import Producer
    import rdpart

    p = Producer({"bootstrap.servers": "...", **rdpart.config(strategy="jump")})

``partition()`` computes a placement through the same library, for tests,
tools, and producers that pass ``partition=`` themselves.
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

__all__ = [
    "STRATEGIES",
    "ENV_LIBRARY",
    "RdpartError",
    "library_path",
    "config",
    "partition",
    "topic_strategy",
    "stats",
]

#: The strategy names, as ``rdpart.strategy`` takes them: the library's
#: own list (``rdpart_strategy_name()``), read when first asked for.
STRATEGIES: Tuple[str, ...]

_strategies: Optional[Tuple[str, ...]] = None


def __getattr__(name: str) -> Any:
    # __version__ and STRATEGIES are the loaded library's (rdpart_version(),
    # from Cargo.toml; rdpart_strategy_name(), from its one declaration):
    # the package keeps no version or list of its own to drift.
    global _strategies
    if name == "__version__":
        lib = _library()
        lib.rdpart_version.restype = ctypes.c_char_p
        return lib.rdpart_version().decode()
    if name == "STRATEGIES":
        if _strategies is None:
            lib = _library()
            lib.rdpart_strategy_name.restype = ctypes.c_char_p
            lib.rdpart_strategy_name.argtypes = [ctypes.c_size_t]
            names: List[str] = []
            while True:
                n = lib.rdpart_strategy_name(len(names))
                if n is None:
                    break
                names.append(n.decode())
            _strategies = tuple(names)
        return _strategies
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Environment variable naming librdpart.so explicitly.
ENV_LIBRARY = "RDPART_LIBRARY"

_LIB_NAME = "librdpart.so"
_CONF_OK, _CONF_INVALID, _CONF_UNKNOWN = 0, -1, -2


class RdpartError(ValueError):
    """A bad rdpart property or value; the message names the allowed values."""


def _candidates() -> List[Path]:
    here = Path(__file__).resolve().parent
    # The wheel carries the library inside the package, named by the build
    # backend (librdpart.abi3.so or librdpart.cpython-*.so).
    found = sorted(here.glob("librdpart*.so"))
    target = os.environ.get("CARGO_TARGET_DIR")
    roots = [Path(target)] if target else []
    roots.append(here.parent.parent / "target")
    for root in roots:
        found += [root / "release" / _LIB_NAME, root / "debug" / _LIB_NAME]
    return found


def library_path() -> str:
    """The path of librdpart.so.

    Looked for in this order: the ``RDPART_LIBRARY`` environment variable
    (which must then exist), inside this package (where the wheel puts it),
    and the cargo build tree of a source checkout (``$CARGO_TARGET_DIR`` or
    ``target/`` of the repository; release before debug).
    """
    env = os.environ.get(ENV_LIBRARY)
    if env:
        if not Path(env).is_file():
            raise FileNotFoundError(f"{ENV_LIBRARY}={env}: no such file")
        return str(Path(env).resolve())
    for c in _candidates():
        if c.is_file():
            return str(c.resolve())
    raise FileNotFoundError(
        "librdpart.so not found: install the rdpart wheel (it carries the library), "
        f"build it with `cargo build --release`, or set {ENV_LIBRARY}. Looked in: "
        + ", ".join(str(c) for c in _candidates())
    )


_lib: Optional[ctypes.CDLL] = None
_lock = threading.Lock()
_partitioners: Dict[object, int] = {}
_partition: Any = None  # lib.rdpart_partition, once loaded (a ctypes function)


def _library() -> ctypes.CDLL:
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(library_path())
        lib.rdpart_conf_new.restype = ctypes.c_void_p
        lib.rdpart_conf_new.argtypes = []
        lib.rdpart_conf_destroy.argtypes = [ctypes.c_void_p]
        lib.rdpart_conf_set.restype = ctypes.c_int
        lib.rdpart_conf_set.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t,
        ]
        lib.rdpart_new.restype = ctypes.c_void_p
        lib.rdpart_new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
        lib.rdpart_conf_topic_strategy.restype = ctypes.c_char_p
        lib.rdpart_conf_topic_strategy.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        lib.rdpart_partition.restype = ctypes.c_int32
        lib.rdpart_partition.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int32,
            ctypes.c_void_p, ctypes.c_void_p,
        ]
        _lib = lib
    return _lib


def stats() -> dict:
    """What rdpart knows of this process's producers (the plugin's): for
    each producer and topic, messages and bytes produced and in flight, per
    partition what was delivered and failed, adaptive's view (in flight,
    latency, left out), and the keys hot now. Cheap enough to call every
    second. The same as ``rdpart_stats()`` in C::

        {"producers": [{"name": "rdkafka#producer-1", "topics": [
            {"topic": "orders", "strategy": "murmur2", "sent": 1000, ...,
             "partitions": [{"partition": 0, "delivered": 170, ...}],
             "hot_keys": [{"key": "tenant-7", "share": 0.398, "partitions": [0, 1, 2, 3]}]}]}]}
    """
    import json

    lib = _library()
    lib.rdpart_stats.restype = ctypes.c_size_t
    lib.rdpart_stats.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    size = 4096
    while True:
        buf = ctypes.create_string_buffer(size)
        n = lib.rdpart_stats(buf, size)
        if n == 0:
            raise RuntimeError("rdpart_stats() failed (an internal error in librdpart)")
        if n < size:
            return json.loads(buf.value.decode())
        size = n + 4096


def _option_name(name: str) -> str:
    # sticky_linger_ms -> sticky.linger.ms
    return name.replace("_", ".")


def _value(name: str, value: Union[bytes, str, int]) -> bytes:
    """A property's value as the C string rdpart_conf_set takes: bytes as
    they are, anything else as its str in UTF-8. A NUL byte would end the
    string there (a key.delimiter "a\\0b" would be "a"): refused."""
    raw = bytes(value) if isinstance(value, (bytes, bytearray, memoryview)) else str(value).encode()
    if b"\0" in raw:
        shown = raw.decode(errors="backslashreplace").replace("\0", "\\0")
        raise RdpartError(f'Invalid value "{shown}" for configuration property "{name}": '
                          "NUL bytes are not allowed (the C API takes C strings)")
    return raw


def _conf(properties: Mapping[str, Union[bytes, str]]) -> int:
    """A native rdpart_conf_t with ``properties`` set; raises RdpartError."""
    lib = _library()
    raw = {name: _value(name, value) for name, value in properties.items()}
    conf = lib.rdpart_conf_new()
    err = ctypes.create_string_buffer(512)
    for name, value in raw.items():
        res = lib.rdpart_conf_set(conf, name.encode(), value, err, len(err))
        if res != _CONF_OK:
            lib.rdpart_conf_destroy(conf)
            raise RdpartError(err.value.decode(errors="replace"))
    return conf


def config(strategy: str = "sticky", partitioner: Any = None,
           **options: Union[bytes, str, int]) -> Dict[str, str]:
    """Producer properties that load rdpart with ``strategy``.

    ``partitioner``: your own function ``place(topic, key, value, headers,
    cluster)`` (or an object with such a ``partition`` method and maybe
    ``close()``), called for every message without an explicit partition,
    in the thread that called ``produce()``, never while librdkafka holds a
    lock. It returns a partition id, a routing key (bytes or str, placed by
    ``strategy``) or None (placed by ``strategy``). With it,
    ``partitioner_fallback="strategy"`` places by ``strategy`` the messages
    it could not see (otherwise they fail), and ``partitioner_wait_ms``
    bounds how long a topic's first message waits for its partition count
    (default 5000). See :mod:`rdpart.partitioner`.

    ``options`` are rdpart properties with ``_`` for ``.``:
    ``sticky_messages=100`` is ``rdpart.sticky.messages``. Values are
    checked now: a bad one raises :class:`RdpartError` naming the property
    and the allowed values. A bytes value (``key_delimiter=b":"``) must be
    UTF-8: confluent-kafka takes properties as str.

    >>> config("jump")  # doctest: +ELLIPSIS
    {'plugin.library.paths': '.../librdpart.so', 'rdpart.strategy': 'jump'}
    """
    props = {"rdpart.strategy": strategy}
    fallback = options.pop("partitioner_fallback", None)
    wait_ms = options.pop("partitioner_wait_ms", None)
    if partitioner is None and (fallback is not None or wait_ms is not None):
        raise RdpartError("partitioner_fallback and partitioner_wait_ms need partitioner=")
    for k, v in options.items():
        name = "rdpart." + _option_name(k)
        if isinstance(v, (bytes, bytearray, memoryview)):
            raw = bytes(v)
            try:
                v = raw.decode()
            except UnicodeDecodeError:
                raise RdpartError(f'Invalid value {raw!r} for configuration property "{name}": '
                                  "confluent-kafka takes properties as UTF-8 text") from None
        if isinstance(v, bool):
            v = "true" if v else "false"
        props[name] = str(v)
    _library().rdpart_conf_destroy(_conf(props))
    if partitioner is not None:
        from .partitioner import properties

        props.update(properties(partitioner, fallback=fallback,  # type: ignore[arg-type]
                                wait_ms=wait_ms))  # type: ignore[arg-type]
    return {"plugin.library.paths": library_path(), **props}


def _partitioner(strategy: str, key_delimiter: Optional[bytes] = None) -> int:
    global _partition
    cache = strategy if key_delimiter is None else (strategy, key_delimiter)
    with _lock:
        part = _partitioners.get(cache)
        if part is None:
            lib = _library()
            props: Dict[str, Union[bytes, str]] = {"strategy": strategy}
            if key_delimiter is not None:
                props["key.delimiter"] = key_delimiter
            conf = _conf(props)
            err = ctypes.create_string_buffer(512)
            part = lib.rdpart_new(conf, err, len(err))
            lib.rdpart_conf_destroy(conf)
            if not part:
                raise RdpartError(err.value.decode(errors="replace"))
            _partitioners[cache] = part
            _partition = lib.rdpart_partition
        return part


def topic_strategy(topic: str, strategy: str = "sticky", topic_strategies: Optional[str] = None) -> str:
    """The strategy a producer configured with ``rdpart.strategy=strategy``
    and ``rdpart.topic.strategy=topic_strategies`` uses for ``topic``: the
    first matching ``PATTERN:STRATEGY`` pair, else ``strategy``. Raises
    :class:`RdpartError` for a bad strategy or pair.

    >>> topic_strategy("events-eu", "murmur2", "orders:jump,events-*:round_robin")
    'round_robin'
    """
    props = {"strategy": strategy}
    if topic_strategies is not None:
        props["topic.strategy"] = topic_strategies
    lib = _library()
    conf = _conf(props)
    try:
        return lib.rdpart_conf_topic_strategy(conf, topic.encode()).decode()
    finally:
        lib.rdpart_conf_destroy(conf)


def partition(strategy: str, key: Union[bytes, str, None], partition_count: int,
              key_delimiter: Union[bytes, str, None] = None) -> int:
    """The partition rdpart's ``strategy`` gives ``key`` among ``partition_count``.

    ``key`` is bytes, a str (UTF-8, as confluent-kafka encodes it) or None
    (no key). ``key_delimiter`` is ``rdpart.key.delimiter``: hash only the
    key's bytes before it; bytes (taken exactly) or a str (UTF-8), 1 to 8
    bytes and no NUL (:class:`RdpartError` otherwise). For random,
    round_robin and the keyless rules of other strategies the answer is one
    draw of that strategy (state is per strategy in this process).
    """
    if key_delimiter is None:
        part = _partitioners.get(strategy)
        if part is None:
            part = _partitioner(strategy)
    else:
        if isinstance(key_delimiter, str):
            key_delimiter = key_delimiter.encode()
        elif isinstance(key_delimiter, (bytearray, memoryview)):
            key_delimiter = bytes(key_delimiter)
        elif type(key_delimiter) is not bytes:
            raise TypeError(f"key_delimiter must be bytes, str or None, not {type(key_delimiter).__name__}")
        part = _partitioner(strategy, key_delimiter)
    if type(key) is not bytes:
        if isinstance(key, str):
            key = key.encode()
        elif isinstance(key, (bytearray, memoryview)):
            key = bytes(key)
        elif key is not None:
            raise TypeError(f"key must be bytes, str or None, not {type(key).__name__}")
    if type(partition_count) is not int:
        raise TypeError("partition_count must be an int")
    if not 1 <= partition_count <= 0x7FFFFFFF:
        raise ValueError(f"partition_count must be from 1 to 2147483647, not {partition_count}")
    return _partition(None, key, len(key) if key is not None else 0, partition_count, part, None)
