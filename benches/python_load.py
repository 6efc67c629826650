"""confluent-kafka under the side-by-side benchmark's load (benches/side_by_side.py),
as benches/JavaLoad.java and benches/adaptive_bench.c: keyless 200-byte records at
RATE per second for SECONDS, acks=all, idempotence, linger.ms=5; MODE builtin
(librdkafka's own partitioner) or an rdpart strategy through the plugin; extra
producer properties as key=value. Writes one line per record to RECORDS:
"intended sent done partition", in seconds from the producer's creation (record i
is intended at i / RATE; done is -1 when it failed), after "# send_end S flushed S t0 T"; prints "t0 T" first.

    python3 benches/python_load.py BOOTSTRAP TOPIC SECONDS RATE RECORDS MODE [key=value ...]
"""

import functools
import sys
import time

from confluent_kafka import Producer


def main() -> None:
    bootstrap, topic, seconds, rate, records, mode = sys.argv[1:7]
    seconds_f, rate_i = float(seconds), int(rate)
    conf = {"bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 5,
            "queue.buffering.max.messages": 1000000, "log_level": 3}
    for kv in sys.argv[7:]:
        name, value = kv.split("=", 1)
        conf[name] = value
    if mode != "builtin":
        import rdpart
        conf.update(rdpart.config(mode, **({"rack_aware": True} if "client.rack" in conf else {})))
    cap = int(seconds_f * rate_i) + 16
    sent_at = [0.0] * cap
    done = [-1.0] * cap
    part = [-1] * cap
    payload = b"x" * 200
    p = Producer(conf)
    t0 = time.monotonic()
    print(f"t0 {t0:.6f}", flush=True)  # CLOCK_MONOTONIC: the harness acts at times of this run

    def on_delivery(i: int, err: object, msg: object) -> None:
        if err is None:
            done[i] = time.monotonic() - t0
            part[i] = msg.partition()  # type: ignore[attr-defined]

    sent = 0
    while (now := time.monotonic() - t0) < seconds_f:
        target = min(cap, int(now * rate_i))
        while sent < target:
            sent_at[sent] = time.monotonic() - t0
            p.produce(topic, value=payload, on_delivery=functools.partial(on_delivery, sent))
            sent += 1
        p.poll(0.001)
    send_end = time.monotonic() - t0
    p.flush(120)
    flushed = time.monotonic() - t0
    with open(records, "w") as f:
        f.write(f"# send_end {send_end:.6f} flushed {flushed:.6f} t0 {t0:.6f}\n")
        f.writelines(f"{i / rate_i:.6f} {sent_at[i]:.6f} {done[i]:.6f} {part[i]}\n" for i in range(sent))


if __name__ == "__main__":
    main()
