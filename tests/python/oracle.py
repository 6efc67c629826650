"""Placement oracles that do not use rdpart: confluent-kafka's helpers (which
call librdkafka's own partitioners) and a pure-Python jump hash written from
the definition in docs/strategies.md, so that page provably suffices to
reproduce it."""

import zlib
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


# --- Other clients' placements, written in Python from each client's source
# (never from rdpart's code). ---

U32 = 0xFFFFFFFF


def int32(x: int) -> int:
    """Go's int32(uint32) and JavaScript's ToInt32 of an integral value."""
    x &= U32
    return x - (1 << 32) if x & 0x80000000 else x


def fnv1a32(data: bytes) -> int:
    """Go's hash/fnv New32a."""
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & U32
    return h


def go_rem(a: int, b: int) -> int:
    """Go's %, which truncates toward zero."""
    r = abs(a) % abs(b)
    return -r if a < 0 else r


def sarama_reference(key: bytes, n: int) -> int:
    # sarama hashPartitioner, referenceAbs: (int32(h.Sum32()) & 0x7fffffff) % numPartitions
    return go_rem(int32(fnv1a32(key)) & 0x7FFFFFFF, n)


def sarama_crc(key: bytes, n: int) -> int:
    # sarama hashPartitioner, hashUnsigned, crc32.NewIEEE(): int32(h.Sum32() % uint32(numPartitions))
    return (zlib.crc32(key) & U32) % n


def kafka_go_hash(key: bytes, n: int) -> int:
    # kafka-go Hash: partition := int32(Sum32()) % int32(len); if < 0 { partition = -partition }
    p = go_rem(int32(fnv1a32(key)), n)
    return -p if p < 0 else p


def kafkajs_legacy_murmur2(data: bytes) -> int:
    """KafkaJS's legacy murmur2 (src/producer/partitioners/legacy/murmur2.js)
    in JavaScript's number semantics: ``*`` on doubles (Python floats are the
    same IEEE doubles), bitwise operators on ToInt32/ToUint32, a block loop
    ``for (i = 0; i < length / 4; i++)`` that reads past the end as
    undefined (``undefined & 0xff`` is 0), and the switch's fall-through."""
    m, length = float(0x5BD1E995), len(data)

    def u32(x: float) -> int:
        return int(x) & U32

    def byte(i: int) -> int:
        return data[i] if i < length else 0

    h: float = float(int32(0x9747B28C) ^ length)
    i = 0
    while i < length / 4:
        i4 = i * 4
        k: float = float(byte(i4) + (byte(i4 + 1) << 8) + (byte(i4 + 2) << 16) + int32(byte(i4 + 3) << 24))
        k = k * m
        k = float(int32(u32(k)) ^ (u32(k) >> 24))
        k = k * m
        h = h * m
        h = float(int32(u32(h)) ^ int32(u32(k)))
        i += 1
    rest, base = length % 4, length & ~3
    if rest == 3:
        h = float(int32(u32(h)) ^ (data[base + 2] << 16))
    if rest >= 2:
        h = float(int32(u32(h)) ^ (data[base + 1] << 8))
    if rest >= 1:
        h = float(int32(u32(h)) ^ data[base])
        h = h * m
    h = float(int32(u32(h)) ^ (u32(h) >> 13))
    h = h * m
    h = float(int32(u32(h)) ^ (u32(h) >> 15))
    return int32(int(h))


def kafkajs_legacy(key: bytes, n: int) -> int:
    # toPositive(murmur2(key)) % numPartitions, toPositive = x & 0x7fffffff
    return (kafkajs_legacy_murmur2(key) & 0x7FFFFFFF) % n


KEYED.update({
    "kafkajs": confluent_kafka.murmur2,
    "kafkajs_legacy": kafkajs_legacy,
    "sarama_reference": sarama_reference,
    "sarama_crc": sarama_crc,
    "kafka_go_hash": kafka_go_hash,
    "adaptive": confluent_kafka.murmur2,
})
