"""The key set the compatibility tests place: random bytes and UTF-8
strings of lengths 0 to 300, every byte value in every tail position,
published murmur2 vectors, and keys whose FNV-1a hash is at the int32 edges;
COUNTS are the partition counts most cases use (test_compat.py and
test_go_clients.py)."""

import random

COUNTS = [1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 16, 31, 64, 100, 255, 256, 1000, 4096, 9973, 10007]
# FNV-1a of these is 0x80000000, 0x7fffffff, 0xffffffff and 0 (found by a
# meet-in-the-middle search; test_compat.py checks it): where abs, & 0x7fffffff and
# Go's truncating % part ways.
FNV_EDGES = [bytes.fromhex(h) for h in ("025796df4d", "00856cd3ca", "02f9c81340", "02b51d8ebb")]
JAVA_VECTORS = [b"21", b"foobar", b"a-little-bit-long-string", b"a-little-bit-longer-string",
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", b"abc"]


def keys():
    """(bytes, JS string or None) pairs: the bytes rdpart gets, and the
    string KafkaJS gets for string keys (it encodes them as UTF-8)."""
    rng = random.Random(794)
    out = [(b"", None), (b"", "")]
    for length in range(0, 301):
        out.append((rng.randbytes(length), None))
    for _ in range(1500):
        out.append((rng.randbytes(rng.choice([rng.randrange(0, 17), rng.randrange(0, 301)])), None))
    alphabet = "abcxyzABC0189-_:./ éü€中文🙂"
    for _ in range(1000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 120)))
        out.append((s.encode(), s))
    for b in range(256):
        for length in range(1, 10):
            out.append((bytes([b]) * length, None))
    out += [(k, k.decode()) for k in JAVA_VECTORS]
    out += [(k, None) for k in FNV_EDGES]
    return out
