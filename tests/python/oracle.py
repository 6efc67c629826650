"""Placement oracles that do not use rdpart: confluent-kafka's helpers (which
call librdkafka's own partitioners) and a pure-Python jump hash written from
the README's definition, so the README provably suffices to reproduce it."""

from typing import Callable, Dict, Optional

import confluent_kafka

M64 = (1 << 64) - 1


def murmur64a(data: bytes, seed: int = 0x9747B28C) -> int:
    m, r = 0xC6A4A7935BD1E995, 47
    h = (seed ^ (len(data) * m)) & M64
    nblocks = len(data) // 8
    for i in range(nblocks):
        k = int.from_bytes(data[8 * i:8 * i + 8], "little")
        k = (k * m) & M64
        k ^= k >> r
        k = (k * m) & M64
        h ^= k
        h = (h * m) & M64
    tail = data[8 * nblocks:]
    if tail:
        h ^= int.from_bytes(tail, "little")
        h = (h * m) & M64
    h ^= h >> r
    h = (h * m) & M64
    h ^= h >> r
    return h


def jump(key: int, n: int) -> int:
    b, j = -1, 0
    while j < n:
        b = j
        key = (key * 2862933555777941757 + 1) & M64
        j = int((b + 1) * (float(1 << 31) / float((key >> 33) + 1)))
    return b


#: strategy -> f(key bytes, n) for keyed messages (None: no per-key promise)
KEYED: Dict[str, Optional[Callable[[bytes, int], int]]] = {
    "murmur2": confluent_kafka.murmur2,
    "murmur2_random": confluent_kafka.murmur2,
    "sticky": confluent_kafka.murmur2,
    "consistent": confluent_kafka.consistent,
    "consistent_random": confluent_kafka.consistent,
    "fnv1a": confluent_kafka.fnv1a,
    "fnv1a_random": confluent_kafka.fnv1a,
    "jump": lambda key, n: jump(murmur64a(key), n),
    "random": None,
    "round_robin": None,
}
