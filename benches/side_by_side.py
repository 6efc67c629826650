"""rdpart against librdkafka's built-in partitioner and the Java producer 4.4,
side by side on Apache Kafka (3 nodes in KRaft mode, racks r1..r3, started
here as the tests start it), with one broker made slow by a delaying proxy.

    python3 benches/side_by_side.py [--quick] [--plot side_by_side.png]

Broker 2 is advertised at a toxiproxy (Shopify's TCP proxy, built from the
Go module proxy into target/go/bin), so every client's traffic to it goes
through the proxy; "slow" adds a latency toxic to what it sends back.
Each run gets a fresh 6-partition topic (replication 3, min.insync.replicas
2) and the same keyless load: 200-byte records at a fixed rate, acks=all,
idempotence on, linger.ms=5. Clients: librdkafka's built-in and rdpart
adaptive from C (benches/adaptive_bench.c, the system's librdkafka) and from
confluent-kafka (its bundled librdkafka); the Java producer 4.4.0
(benches/JavaLoad.java, KIP-794's adaptive partitioning) with
partitioner.availability.timeout.ms 0 (its default) and 500 (rdpart's
adaptive.timeout.ms). Latency is per record, from produce to its delivery
report. Lost: produced and not delivered; duplicated: what the brokers
appended (high watermarks) minus what was delivered.

Scenarios: slow (broker 2 answers late for the whole run); none (no slow
broker: throughput and spread); rack (client.rack=r2 with rdpart.rack.aware
and partitioner.rack.aware: the share of keyless bytes on partitions led
from another rack).

Prints markdown (BENCHMARKS.md takes it as is) and a bar chart of p99.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))  # brokers.py: the tests' Kafka cluster

from brokers import KafkaCluster, free_port  # noqa: E402

N, SLOW_BROKER = 6, 2
TOXIPROXY = "github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0"
GOBIN = os.path.join(ROOT, "target", "go", "bin")
BENCH = os.path.join(ROOT, "target", "adaptive_bench")
LIB = os.path.join(ROOT, "target", "release")


def build():
    if not os.path.exists(os.path.join(GOBIN, "server")):
        subprocess.run(["go", "install", TOXIPROXY], check=True, env=dict(os.environ, GOBIN=GOBIN))
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I" + os.path.join(ROOT, "include"),
                    os.path.join(ROOT, "benches", "adaptive_bench.c"), "-o", BENCH]
                   + subprocess.run(["pkg-config", "--cflags", "--libs", "rdkafka"], capture_output=True,
                                    text=True, check=True).stdout.split(), check=True)


class Toxiproxy:
    def __init__(self):
        self.api = free_port()
        self.proc = subprocess.Popen([os.path.join(GOBIN, "server"), "-host", "127.0.0.1", "-port", str(self.api)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                self.call("GET", "/version")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def call(self, method, path, body=None):
        req = urllib.request.Request(f"http://127.0.0.1:{self.api}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def proxy(self, listen, upstream):
        self.call("POST", "/proxies", {"name": "broker2", "listen": f"127.0.0.1:{listen}",
                                       "upstream": f"127.0.0.1:{upstream}", "enabled": True})

    def slow(self, ms):
        self.call("POST", "/proxies/broker2/toxics",
                  {"name": "slow", "type": "latency", "stream": "downstream", "attributes": {"latency": ms}})

    def fast(self):
        try:
            self.call("DELETE", "/proxies/broker2/toxics/slow")
        except OSError:
            pass

    def close(self):
        self.proc.kill()
        self.proc.wait()


def appended(bootstrap, topic):
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "side-by-side", "log_level": 2})
    total = sum(c.get_watermark_offsets(TopicPartition(topic, q), timeout=10)[1] for q in range(N))
    c.close()
    return total


def summarize(client, sent, records, failed, appended_, elapsed, lead):
    """records: (produce time s, partition, latency ms)."""
    lat = sorted(l for _, _, l in records)
    late = sorted(l for at, _, l in records if at > 1.0)
    pct = lambda v, q: v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")
    parts = collections.Counter(p for _, p, _ in records)
    late_parts = [p for at, p, _ in records if at > 1.0]
    return {"client": client, "sent": sent, "delivered": len(records), "failed": failed, "appended": appended_,
            "throughput": len(records) / elapsed, "p50": pct(lat, .5), "p99": pct(lat, .99),
            "p99_after_1s": pct(late, .99),
            "slow_share": sum(lead[p] == SLOW_BROKER for p in late_parts) / max(1, len(late_parts)),
            "cross_rack": sum(lead[p] != SLOW_BROKER for _, p, _ in records) / max(1, len(records)),
            "partitions": [parts[q] for q in range(N)]}


def run_c(k, topic, mode, seconds, rate, lead, extra=()):
    slow = ",".join(str(p) for p in range(N) if lead[p] == SLOW_BROKER)
    env = dict(os.environ, LD_LIBRARY_PATH=LIB, BENCH_BOOTSTRAP=k.bootstrap_servers, BENCH_TOPIC=topic,
               BENCH_SLOW=slow, BENCH_CONF=";".join(extra))
    r = subprocess.run([BENCH, mode, "ext", str(seconds), str(rate)], capture_output=True, text=True,
                       timeout=600, env=env)
    if r.returncode:
        raise RuntimeError(r.stderr[-2000:])
    d = json.loads(r.stdout)
    late = d["partitions_after_1s"]
    return {"client": f"C, {'librdkafka built-in' if mode == 'builtin' else 'rdpart ' + mode}",
            "sent": d["sent"], "delivered": d["delivered"], "failed": d["failed"], "appended": d["appended"],
            "throughput": d["throughput"], "p50": d["p50_ms"], "p99": d["p99_ms"], "p99_after_1s": d["p99_after_1s_ms"],
            "slow_share": sum(late[p] for p in range(N) if lead[p] == SLOW_BROKER) / max(1, sum(late)),
            "cross_rack": sum(d["partitions"][p] for p in range(N) if lead[p] != SLOW_BROKER) / max(1, d["delivered"]),
            "partitions": d["partitions"]}


def run_python(k, topic, mode, seconds, rate, lead, extra=None):
    import rdpart
    from confluent_kafka import Producer
    conf = {"bootstrap.servers": k.bootstrap_servers, "enable.idempotence": True, "acks": "all",
            "linger.ms": 5, "queue.buffering.max.messages": 1000000, "log_level": 2, **(extra or {})}
    if mode != "builtin":
        conf.update(rdpart.config(mode, **({"rack_aware": True} if "client.rack" in conf else {})))
    p = Producer(conf)  # produce at once
    got, failed = [], [0]
    payload = b"x" * 200

    def on_delivery(err, msg, at):
        if err:
            failed[0] += 1
        else:
            got.append((at, msg.partition(), msg.latency() * 1000))

    t0 = time.monotonic()
    sent = 0
    while (now := time.monotonic() - t0) < seconds:
        while sent < now * rate:
            at = time.monotonic() - t0
            p.produce(topic, value=payload, on_delivery=lambda e, m, at=at: on_delivery(e, m, at))
            sent += 1
        p.poll(0.001)
    p.flush(120)
    elapsed = time.monotonic() - t0
    name = "Python, " + ("librdkafka built-in" if mode == "builtin" else "rdpart " + mode)
    return summarize(name, sent, got, failed[0], appended(k.bootstrap_servers, topic), elapsed, lead)


def run_java(k, topic, seconds, rate, lead, props=()):
    src = os.path.join(ROOT, "benches", "JavaLoad.java")
    r = subprocess.run(["java", "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", k.classpath, src,
                        k.bootstrap_servers, topic, str(seconds), str(rate), *props],
                       capture_output=True, text=True, timeout=600)
    if r.returncode:
        raise RuntimeError(r.stdout[-1000:] + r.stderr[-2000:])
    d = json.loads(r.stdout.strip().splitlines()[-1])
    shown = " ".join(p for p in props if not p.startswith("client.rack"))
    return summarize(f"Java 4.4.0{', ' + shown if shown else ''}", d["sent"], [tuple(x) for x in d["records"]],
                     d["failed"], appended(k.bootstrap_servers, topic), d["seconds"], lead)


def table(rows):
    print("| client | messages | lost | duplicated | msg/s | p50 ms | p99 ms | p99 ms after 1 s "
          "| on the slow broker after 1 s | per partition |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        print(f"| {r['client']} | {r['sent']} | {r['sent'] - r['delivered']} | {r['appended'] - r['delivered']} "
              f"| {r['throughput']:.0f} | {r['p50']:.1f} | {r['p99']:.1f} | {r['p99_after_1s']:.1f} "
              f"| {100 * r['slow_share']:.2f}% | {' '.join(map(str, r['partitions']))} |")
    print()


def plot(path, rows):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9, 4.5))
    names = [r["client"] for r in rows]
    y = range(len(rows))
    ax.barh([i + 0.2 for i in y], [r["p99"] for r in rows], height=0.4, label="p99, whole run")
    ax.barh([i - 0.2 for i in y], [r["p99_after_1s"] for r in rows], height=0.4, label="p99 after the first second")
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlabel("delivery latency, ms")
    ax.set_title("Kafka 4.4, one broker slow (proxy): keyless records, acks=all")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--plot", default=os.path.join(ROOT, "docs", "side_by_side.png"))
    ap.add_argument("--delay-ms", type=int, default=500)
    a = ap.parse_args()
    seconds, rate = (6, 2000) if a.quick else (10, 3000)
    build()
    toxi = Toxiproxy()
    proxy_port = free_port()
    k = KafkaCluster(advertise={SLOW_BROKER: proxy_port},
                     before_start=lambda c: toxi.proxy(proxy_port, c.ports[SLOW_BROKER][0]))
    ids = iter(range(1000))
    try:
        def fresh():
            topic = f"side-{next(ids)}"
            k.create_topic(topic, N)
            return topic, k.leaders(topic)

        clients = [
            ("C, librdkafka built-in", lambda t, lead, s: run_c(k, t, "builtin", s, rate, lead)),
            ("C, rdpart adaptive", lambda t, lead, s: run_c(k, t, "adaptive", s, rate, lead)),
            ("Python, built-in", lambda t, lead, s: run_python(k, t, "builtin", s, rate, lead)),
            ("Python, rdpart adaptive", lambda t, lead, s: run_python(k, t, "adaptive", s, rate, lead)),
            ("Java timeout 0", lambda t, lead, s: run_java(k, t, s, rate, lead)),
            ("Java timeout 500", lambda t, lead, s: run_java(
                k, t, s, rate, lead, ["partitioner.availability.timeout.ms=500"])),
        ]
        results = {}
        for scenario in ["slow", "none"]:
            if scenario == "slow":
                toxi.slow(a.delay_ms)
            else:
                toxi.fast()
            rows = []
            for _, run in clients:
                topic, lead = fresh()
                rows.append(run(topic, lead, seconds))
            results[scenario] = rows
        toxi.fast()
        rack = []
        for run in [lambda t, lead: run_python(k, t, "adaptive", seconds, rate, lead, {"client.rack": "r2"}),
                    lambda t, lead: run_java(k, t, seconds, rate, lead,
                                             ["client.rack=r2", "partitioner.rack.aware=true"]),
                    lambda t, lead: run_python(k, t, "builtin", seconds, rate, lead, {"client.rack": "r2"}),
                    lambda t, lead: run_java(k, t, seconds, rate, lead, ["client.rack=r2"])]:
            topic, lead = fresh()
            rack.append(run(topic, lead))
    finally:
        k.close()
        toxi.close()

    print(f"## 10. Side by side on Apache Kafka: one slow broker, the Java producer 4.4 "
          f"({seconds} s at {rate} msg/s)\n")
    print("`python3 benches/side_by_side.py` (in `make bench`). 3 Kafka 4.4 nodes (KRaft), a fresh 6-partition "
          "topic per run (replication 3, min.insync.replicas 2), keyless 200-byte records, acks=all, idempotence, "
          f"linger.ms=5. Broker 2 sits behind toxiproxy; *slow*: it answers {a.delay_ms} ms late.\n")
    for scenario, rows in results.items():
        print(f"### {'Broker 2 slow' if scenario == 'slow' else 'No slow broker'}\n")
        table(rows)
    slow = {r["client"]: r for r in results["slow"]}
    none = {r["client"]: r for r in results["none"]}

    def get(d, prefix):
        return next(r for name, r in d.items() if name.startswith(prefix))
    for host in ["C", "Python"]:
        b, r = get(slow, f"{host}, librdkafka"), get(slow, f"{host}, rdpart")
        print(f"- {host}, broker 2 slow: rdpart adaptive p99 {r['p99']:.0f} ms = {r['p99'] / b['p99']:.3f}x the "
              f"built-in's ({b['p99']:.0f} ms); after the first second {r['p99_after_1s']:.0f} ms = "
              f"{r['p99_after_1s'] / b['p99_after_1s']:.3f}x.")
    for j in [get(slow, "Java 4.4.0"), get(slow, "Java 4.4.0, partitioner")]:
        r = get(slow, "C, rdpart")
        print(f"- {j['client']}: p99 {j['p99']:.0f} ms, after the first second {j['p99_after_1s']:.0f} ms; "
              f"rdpart adaptive from C against it: {r['p99'] / j['p99']:.3f}x, "
              f"{r['p99_after_1s'] / j['p99_after_1s']:.3f}x after the first second.")
    for host in ["C", "Python"]:
        b, r = get(none, f"{host}, librdkafka"), get(none, f"{host}, rdpart")
        print(f"- {host}, no slow broker: rdpart adaptive {r['throughput']:.0f} msg/s = "
              f"{r['throughput'] / b['throughput']:.3f}x the built-in's; spread {min(r['partitions'])} to "
              f"{max(r['partitions'])} per partition.")
    print("\n### Rack awareness: client.rack=r2\n")
    print("| client | records | cross-rack share |")
    print("|---|---:|---:|")
    for r in rack:
        print(f"| {r['client']} | {r['delivered']} | {100 * r['cross_rack']:.1f}% |")
    print()
    if a.plot:
        plot(a.plot, results["slow"])
        print(f"![p99 with one slow broker]({os.path.relpath(a.plot, ROOT)})\n")


if __name__ == "__main__":
    main()
