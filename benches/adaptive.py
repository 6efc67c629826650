"""adaptive against librdkafka's default partitioner and rdpart sticky, with
one slow broker, on the mock cluster (3 brokers; 6 partitions, partition p
led by broker 1 + p % 3, so broker 2 leads partitions 1 and 4).

    python3 benches/adaptive.py [--quick] [--plot adaptive.png]

Keyless 200-byte messages at a fixed offered rate (acks=all, idempotence
on), from C (benches/adaptive_bench.c) and from Python (confluent-kafka
with the plugin); every message's delivery latency is recorded
(rd_kafka_message_latency). Scenarios:

- slow: broker 2 answers after 1000 ms for the whole run;
- recover: the same for the first half, then fast again;
- none: no slow broker (spread over the partitions);
- max: no slow broker, produce as fast as possible (throughput);
- run bytes: adaptive's throughput for several adaptive.run.bytes.

Prints markdown (BENCHMARKS.md takes it as is) and draws the latency over
time of the slow and recover scenarios into a PNG.
"""

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "examples-python"))
LIB = os.path.join(ROOT, "target", "release")
BENCH = os.path.join(ROOT, "target", "adaptive_bench")
MODES = ["builtin", "sticky", "adaptive"]
N, SLOW_BROKER = 6, 2
SLOW = {p for p in range(N) if 1 + p % 3 == SLOW_BROKER}


def c_run(mode, scenario, seconds, rate, run_bytes=None):
    cmd = [BENCH, mode, scenario, str(seconds), str(rate)] + ([str(run_bytes)] if run_bytes else [])
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                       env=dict(os.environ, LD_LIBRARY_PATH=LIB))
    if r.returncode:
        raise RuntimeError(f"{cmd}: {r.stderr[-2000:]}")
    return json.loads(r.stdout)


def py_run(mode, scenario, seconds, rate):
    """The same as adaptive_bench.c, from confluent-kafka."""
    import rdpart
    import rdpart.mock
    from confluent_kafka import Consumer, Producer, TopicPartition

    with rdpart.mock.MockCluster(3) as mc:
        mc.create_topic("t", N)
        for p in range(N):
            mc.set_leader("t", p, 1 + p % 3)
        if scenario in ("slow", "recover"):
            mc.set_rtt(SLOW_BROKER, 1000)
        conf = {"bootstrap.servers": mc.bootstrap_servers, "enable.idempotence": True, "acks": "all",
                "linger.ms": 5, "queue.buffering.max.messages": 1000000}
        if mode != "builtin":
            conf.update(rdpart.config(mode))
        p = Producer(conf)
        got, failed = [], [0]
        payload = b"x" * 200

        def on_delivery(err, msg, at):
            if err:
                failed[0] += 1
            else:
                got.append((at, msg.partition(), msg.latency()))

        t0 = time.monotonic()
        sent, healed = 0, False
        while (now := time.monotonic() - t0) < seconds:
            if scenario == "recover" and not healed and now > seconds / 2:
                mc.set_rtt(SLOW_BROKER, 0)
                healed = True
            while sent < now * rate:
                at = time.monotonic() - t0
                p.produce("t", value=payload, on_delivery=lambda e, m, at=at: on_delivery(e, m, at))
                sent += 1
            p.poll(0.001)
        p.flush(120)
        elapsed = time.monotonic() - t0
        c = Consumer({"bootstrap.servers": mc.bootstrap_servers, "group.id": "x"})
        appended = sum(c.get_watermark_offsets(TopicPartition("t", q), timeout=10)[1] for q in range(N))
        c.close()
    return summarize("Python", mode, scenario, sent, got, failed[0], appended, elapsed)


def summarize(host, mode, scenario, sent, got, failed, appended, elapsed):
    lat = sorted(l * 1000 for _, _, l in got)
    late_lat = sorted(l * 1000 for at, _, l in got if at > 1.0)
    pct = lambda v, q: v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")
    parts = collections.Counter(pa for _, pa, _ in got)
    late = collections.Counter(pa for at, pa, _ in got if at > 1.0)
    buckets = collections.defaultdict(list)
    for at, pa, l in got:
        buckets[int(at * 2) / 2].append((pa, l * 1000))
    return {"host": host, "mode": mode, "scenario": scenario, "sent": sent, "delivered": len(got), "failed": failed,
            "appended": appended, "seconds": elapsed, "throughput": len(got) / elapsed,
            "p50_ms": pct(lat, .5), "p99_ms": pct(lat, .99), "max_ms": lat[-1] if lat else float("nan"),
            "p99_after_1s_ms": pct(late_lat, .99),
            "partitions": [parts[q] for q in range(N)], "partitions_after_1s": [late[q] for q in range(N)],
            "buckets": [[b, len(v), sum(pa in SLOW for pa, _ in v), pct(sorted(x for _, x in v), .99),
                         max(x for _, x in v)] for b, v in sorted(buckets.items())]}


def slow_share_after_1s(r):
    late = r["partitions_after_1s"]
    return sum(late[q] for q in SLOW) / max(1, sum(late))


def table(rows):
    print("| host | partitioner | messages | lost | duplicated | msg/s | p50 ms | p99 ms | max ms "
          "| p99 ms after 1 s | on the slow broker after 1 s | per partition |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        lost = r["sent"] - r["delivered"]
        dup = r["appended"] - r["delivered"]
        print(f"| {r['host']} | {r['mode']} | {r['sent']} | {lost} | {dup} | {r['throughput']:.0f} "
              f"| {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['p99_after_1s_ms']:.1f} "
              f"| {100 * slow_share_after_1s(r):.2f}% | {' '.join(map(str, r['partitions']))} |")
    print()


def plot(path, slow_rows, recover_rows, secs):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no plot: matplotlib is not installed; pip install matplotlib to draw {path})\n")
        return
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    styles = {"builtin": ("tab:red", "librdkafka default (sticky step)"), "sticky": ("tab:orange", "rdpart sticky"),
              "adaptive": ("tab:blue", "rdpart adaptive")}
    for ax, rows, title in [(axes[0], slow_rows, "broker 2 slow (1 s round trip) throughout"),
                            (axes[1], recover_rows, "broker 2 slow, fast again at half time")]:
        for r in rows:
            color, label = styles[r["mode"]]
            xs = [b[0] + 0.25 for b in r["buckets"]]
            ax.plot(xs, [max(b[3], 1) for b in r["buckets"]], color=color, label=f"{label}, p99")
        ax.set_yscale("log")
        ax.set_xlabel("produce time (s)")
        ax.set_title(f"{title} ({rows[0]['host']})", fontsize=10)
        ax.grid(True, which="both", alpha=0.3)
        if rows and rows[0]["scenario"] == "recover":
            ax.axvline(secs / 2, color="gray", linestyle=":", label="broker 2 fast again")
        ax.legend(fontsize=8, loc="center right")
    axes[0].set_ylabel("delivery latency, p99 per 0.5 s (ms)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"![latency over time]({os.path.basename(path)})\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs")
    ap.add_argument("--plot", default=os.path.join(ROOT, "adaptive.png"))
    a = ap.parse_args()
    secs, rate, py_rate, runs = (6, 4000, 2000, 3) if a.quick else (20, 5000, 3000, 5)
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I" + os.path.join(ROOT, "include"),
                    os.path.join(ROOT, "benches", "adaptive_bench.c"), "-o", BENCH]
                   + subprocess.check_output(["pkg-config", "--cflags", "--libs", "rdkafka"], text=True).split(),
                   check=True)

    print(f"## 5. adaptive: one slow broker (mock cluster, {secs} s at {rate} msg/s from C, "
          f"{py_rate} msg/s from Python)\n")
    print("`python3 benches/adaptive.py` (in `make bench`). Keyless 200-byte messages, acks=all, idempotence on;")
    print("broker 2 (partitions 1 and 4) answers every request after 1000 ms. Latency is")
    print("`rd_kafka_message_latency` of every message; *duplicated* is what the brokers appended")
    print("(high watermarks) minus what was delivered; *lost*, what was produced and not delivered.\n")
    slow = [c_run(m, "slow", secs, rate) for m in MODES]
    slow_py = [py_run(m, "slow", secs, py_rate) for m in MODES]
    table(slow + slow_py)
    for rows in (slow, slow_py):
        b, s = rows[0], rows[2]
        print(f"- {b['host']}: messages produced after the first second: adaptive p99 "
              f"{s['p99_after_1s_ms']:.0f} ms = {s['p99_after_1s_ms'] / b['p99_after_1s_ms']:.3f}x the built-in's "
              f"({b['p99_after_1s_ms']:.0f} ms), {100 * slow_share_after_1s(s):.2f}% of them on the slow broker "
              f"(built-in {100 * slow_share_after_1s(b):.1f}%); over the whole run, p99 "
              f"{s['p99_ms']:.0f} ms = {s['p99_ms'] / b['p99_ms']:.3f}x the built-in's ({b['p99_ms']:.0f} ms), "
              "the first second's messages included.")
    print()

    print(f"### Recovery: broker 2 fast again after {secs / 2:g} s\n")
    recover = [c_run(m, "recover", secs, rate) for m in ("builtin", "adaptive")]
    table(recover)
    r = recover[1]
    half = secs / 2
    back = [b for b in r["buckets"] if b[0] >= half and b[2] / max(1, b[1]) > 0.2]
    print("Share of adaptive's messages on broker 2 per 0.5 s of produce time (broker fast again at "
          f"{half:g} s): " + ", ".join(f"{b[0]:g} s {100 * b[2] / max(1, b[1]):.0f}%" for b in r["buckets"]
                                      if half - 1.5 <= b[0] <= half + 3) + ".")
    if back:
        print(f"Its partitions have their share again from {back[0][0] - half:.1f} s after it is fast.\n")
    else:
        print("Its partitions did not get their share back within the run.\n")

    print("### No slow broker: spread and throughput\n")
    none = [c_run(m, "none", secs // 2, rate) for m in ("builtin", "adaptive")]
    table(none)
    counts = none[1]["partitions"]
    even = sum(counts) / N
    print(f"adaptive's keyless spread: {min(counts)} to {max(counts)} per partition, "
          f"{100 * (min(counts) / even - 1):+.1f}% to {100 * (max(counts) / even - 1):+.1f}% of even.\n")
    msgs = 500_000 if a.quick else 2_000_000
    tput = collections.defaultdict(list)
    for _ in range(runs):
        for m in MODES:  # alternate, so drift hits all alike
            tput[m].append(c_run(m, "max", 0, msgs)["throughput"])
    med = {m: statistics.median(v) for m, v in tput.items()}
    print(f"As fast as the producer goes, {msgs} messages from C, median of {runs} alternating runs:\n")
    print("| partitioner | msg/s | against the built-in |")
    print("|---|---:|---:|")
    for m in MODES:
        print(f"| {m} | {med[m]:.0f} | {med[m] / med['builtin']:.3f}x |")
    print()

    print("### adaptive.run.bytes\n")
    sizes = [16384, 65536, 262144, 1_000_000]
    by = collections.defaultdict(list)
    for _ in range(max(1, runs // 2)):
        for sz in sizes:
            by[sz].append(c_run("adaptive", "max", 0, msgs, sz)["throughput"])
        by["builtin"].append(c_run("builtin", "max", 0, msgs)["throughput"])
    base = statistics.median(by["builtin"])
    print("| adaptive.run.bytes | msg/s | against the built-in |")
    print("|---:|---:|---:|")
    for sz in sizes:
        v = statistics.median(by[sz])
        print(f"| {sz} | {v:.0f} | {v / base:.3f}x |")
    print()
    plot(a.plot, slow, recover, secs)


if __name__ == "__main__":
    main()
