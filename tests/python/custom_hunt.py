"""A deadlock hunt for rdpart.partitioner.cb, run in a child process by
test_custom_partitioner.py (which kills it on a timeout, so a deadlock
fails the test instead of hanging it).

Producer threads produce at once after the producer is created, to topics
that exist and to new ones (whose first message waits for metadata), with
``sys.setswitchinterval(1e-6)`` and a function that gives up the GIL, while
other threads call produce_batch, purge, list_topics(topic), flush and
poll, and librdkafka refreshes metadata every 10 ms. Every delivered
message must be where the function said (crc32 of the value modulo the
partition count); every failure must have a reason. Prints one JSON line.

    python custom_hunt.py SECONDS THREADS
"""

import collections
import json
import sys
import threading
import time
import zlib

from confluent_kafka import KafkaException, Producer

import rdpart
from rdpart.mock import MockCluster


def main() -> None:
    seconds, threads = float(sys.argv[1]), int(sys.argv[2])
    sys.setswitchinterval(1e-6)
    mc = MockCluster(3)
    fixed = {f"hunt-{i}": 3 + i for i in range(3)}  # 3, 4, 5 partitions
    for t, n in fixed.items():
        mc.create_topic(t, n)
    calls = [0]
    wrong_thread = [0]
    producing = threading.local()

    def place(topic, key, value, headers, cluster):
        calls[0] += 1
        if not getattr(producing, "on", False):
            wrong_thread[0] += 1
        if calls[0] % 7 == 0:
            time.sleep(0)  # gives up the GIL
        return zlib.crc32(value) % cluster.partition_count

    p = Producer({"bootstrap.servers": mc.bootstrap_servers, "linger.ms": 5,
                  "topic.metadata.refresh.interval.ms": 10, "queue.buffering.max.messages": 200000,
                  **rdpart.config("murmur2", partitioner=place)})
    lock = threading.Lock()
    delivered = [0]
    misplaced = []
    failed: collections.Counter = collections.Counter()
    raised: collections.Counter = collections.Counter()
    counts = dict(fixed)

    def on_delivery(err, msg):
        with lock:
            if err is not None:
                failed[err.name()] += 1
                return
            n = counts.get(msg.topic(), 4)  # the mock auto-creates 4 partitions
            if msg.partition() != zlib.crc32(msg.value()) % n:
                misplaced.append((msg.topic(), msg.partition()))
            delivered[0] += 1

    stop = time.monotonic() + seconds
    produced = [0]

    def producer(t: int) -> None:
        i = 0
        while time.monotonic() < stop:
            i += 1
            topic = f"hunt-{i % 3}" if i % 400 else f"new-{t}-{i}"
            producing.on = True
            try:
                p.produce(topic, key=None if i % 3 == 0 else b"k%d" % i, value=b"%d-%d" % (t, i),
                          headers=[("i", b"%d" % i)], on_delivery=on_delivery)
                with lock:
                    produced[0] += 1
            except BufferError:
                p.poll(0.01)
            except KafkaException as e:
                with lock:
                    raised[e.args[0].name()] += 1
            finally:
                producing.on = False

    def batcher() -> None:
        while time.monotonic() < stop:
            msgs = [{"value": b"b%d" % j} for j in range(10)]
            p.produce_batch("hunt-0", msgs)
            with lock:
                for m in msgs:
                    if "_error" in m:
                        failed["batch:" + m["_error"].name()] += 1
            time.sleep(0.05)

    def other() -> None:
        j = 0
        while time.monotonic() < stop:
            j += 1
            if j % 20 == 0:
                p.purge(in_queue=True, in_flight=False)
            elif j % 5 == 0:
                p.list_topics("hunt-1", timeout=2)
            else:
                p.flush(0.02)
            p.poll(0.01)

    ths = [threading.Thread(target=producer, args=(t,)) for t in range(threads)]
    ths += [threading.Thread(target=batcher), threading.Thread(target=other)]
    started = time.monotonic()
    for th in ths:
        th.start()
    for th in ths:
        th.join()
    left = p.flush(30)
    elapsed = time.monotonic() - started
    st = rdpart.stats()
    print(json.dumps({"produced": produced[0], "delivered": delivered[0], "misplaced": len(misplaced),
                      "misplaced_examples": misplaced[:5], "failed": dict(failed), "raised": dict(raised),
                      "calls": calls[0], "wrong_thread": wrong_thread[0], "left": left,
                      "seconds": round(elapsed, 2), "stats": st}))
    del p
    mc.close()


if __name__ == "__main__":
    main()
