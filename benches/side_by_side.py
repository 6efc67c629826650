"""rdpart against librdkafka's built-in partitioner and the Java producer 4.4,
side by side on Apache Kafka (3 nodes in KRaft mode, racks r1..r3, started
here as the tests start them), with one broker slow in one of four named ways.

    python3 benches/side_by_side.py [--runs 3] [--quick] [--scenarios a,b] [--from-json F]

Every client runs in its own process with the same load: keyless 200-byte
records at a fixed rate, acks=all, idempotence on, linger.ms=5. C
(benches/adaptive_bench.c, the system's librdkafka) and Python
(benches/python_load.py, confluent-kafka and its bundled librdkafka) with
librdkafka's built-in partitioner and with rdpart adaptive; the Java
producer 4.4.0 (benches/JavaLoad.java, KIP-794's adaptive partitioning) at
its defaults, with batch.size=65536, and with that and
partitioner.availability.timeout.ms=500 where the scenario lets it act.
Each writes one line per record: when it was intended (record i at i /
rate from the producer's creation, however long send() was blocked), when
produce() took it, when its delivery report came, its partition. Every
figure below is computed from those lines by the same code here.

Scenarios (broker 2 is the slow one; each run gets a fresh 6-partition
topic, replication 3, min.insync.replicas 2):

- none: no slowness (throughput and spread).
- latency: broker 2's client listener sits behind toxiproxy, which holds
  each response 500 ms; the brokers replicate through a listener of their
  own, so followers are not slowed and broker 2 keeps its capacity.
- capacity: the same proxy passes at most 100 KB/s into broker 2 (a third
  of the load is 200 KB/s).
- dead: broker 2 gets SIGKILL 3 s into the run (no proxy), until the
  controller moves its leadership; restarted after the run.
- ratecap: the model of earlier runs, named for what it is: broker 2 has
  one listener, also the inter-broker one, behind the 500 ms proxy, so
  followers fetch through it and an acks=all produce to broker 2 waits for
  a delayed fetch; as Kafka reads one request per connection at a time,
  broker 2 serves about 2 produce requests per second per client.

Prints markdown (BENCHMARKS.md takes it as is), writes every run's summary
to target/side_by_side.json (--from-json prints again from it) and one
plot per scenario (docs/side_by_side_<scenario>.png).
"""

import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))  # brokers.py: the tests' Kafka cluster
sys.path.insert(0, os.path.join(ROOT, "examples-python"))  # rdpart, which brokers.py imports

from brokers import KafkaCluster, free_port

N, SLOW = 6, 2
WARM = 1.0  # seconds: "after warm-up" is what was intended after this
KILL_AT = 3.0  # dead: seconds into the run
TOXIPROXY = "github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0"
GOBIN = os.path.join(ROOT, "target", "go", "bin")
BENCH = os.path.join(ROOT, "target", "adaptive_bench")
LIB = os.path.join(ROOT, "target", "release")
JSON_OUT = os.path.join(ROOT, "target", "side_by_side.json")
JAVA = "Java 4.4.0"
JAVA_ROWS = {
    f"{JAVA}, defaults": [],
    f"{JAVA}, batch.size=65536": ["batch.size=65536"],
    f"{JAVA}, batch.size=65536, partitioner.availability.timeout.ms=500":
        ["batch.size=65536", "partitioner.availability.timeout.ms=500"],
}
ROWS = ["C, librdkafka built-in", "C, rdpart adaptive", "Python, librdkafka built-in", "Python, rdpart adaptive",
        *JAVA_ROWS]
SCENARIOS = {
    "none": "no slow broker",
    "latency": "broker 2's responses 500 ms late (pure latency, capacity to spare)",
    "capacity": "at most 100 KB/s into broker 2 (a capacity shortage)",
    "dead": f"broker 2 killed (SIGKILL) {KILL_AT:.0f} s into the run",
    "ratecap": "broker 2 behind a 500 ms proxy on its only listener, replication included (a request-rate cap)",
}


def build() -> None:
    if not os.path.exists(os.path.join(GOBIN, "server")):
        subprocess.run(["go", "install", TOXIPROXY], check=True, env=dict(os.environ, GOBIN=GOBIN))
    subprocess.run(["gcc", "-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I" + os.path.join(ROOT, "include"),
                    os.path.join(ROOT, "benches", "adaptive_bench.c"), "-o", BENCH]
                   + subprocess.run(["pkg-config", "--cflags", "--libs", "rdkafka"], capture_output=True,
                                    text=True, check=True).stdout.split(), check=True)


class Toxiproxy:
    """Shopify's TCP proxy (built from the Go module proxy into target/go/bin)."""

    def __init__(self) -> None:
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

    def call(self, method: str, path: str, body: Any = None) -> bytes:
        req = urllib.request.Request(f"http://127.0.0.1:{self.api}{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.read()

    def proxy(self, listen: int, upstream: int) -> None:
        try:
            self.call("DELETE", "/proxies/broker2")
        except OSError:
            pass
        self.call("POST", "/proxies", {"name": "broker2", "listen": f"127.0.0.1:{listen}",
                                       "upstream": f"127.0.0.1:{upstream}", "enabled": True})

    def toxic(self, kind: str, stream: str, **attributes: int) -> None:
        self.clear()
        self.call("POST", "/proxies/broker2/toxics",
                  {"name": "slow", "type": kind, "stream": stream, "attributes": attributes})

    def clear(self) -> None:
        try:
            self.call("DELETE", "/proxies/broker2/toxics/slow")
        except OSError:
            pass

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def appended(bootstrap: str, topic: str) -> int:
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "side-by-side", "log_level": 2})
    total = sum(c.get_watermark_offsets(TopicPartition(topic, q), timeout=10)[1] for q in range(N))
    c.close()
    return total


def command(row: str, k: KafkaCluster, topic: str, seconds: float, rate: int, records: str,
            extra: list[str]) -> tuple[list[str], dict[str, str]]:
    env = dict(os.environ)
    if row.startswith("C, "):
        mode = "builtin" if "built-in" in row else "adaptive"
        env.update(LD_LIBRARY_PATH=LIB, BENCH_BOOTSTRAP=k.bootstrap_servers, BENCH_TOPIC=topic,
                   BENCH_RECORDS=records, BENCH_CONF=";".join(extra))
        return [BENCH, mode, "ext", str(seconds), str(rate)], env
    if row.startswith("Python, "):  # this tree's package and library, not an installed wheel
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [os.path.join(ROOT, "examples-python"),
                                                          env.get("PYTHONPATH")]))
        env.setdefault("RDPART_LIBRARY", os.path.join(LIB, "librdpart.so"))
        mode = "builtin" if "built-in" in row else "adaptive"
        return [sys.executable, os.path.join(ROOT, "benches", "python_load.py"), k.bootstrap_servers, topic,
                str(seconds), str(rate), records, mode, *extra], env
    return (["java", "-Xmx512m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", k.classpath,
             os.path.join(ROOT, "benches", "JavaLoad.java"), k.bootstrap_servers, topic, str(seconds), str(rate),
             records, *JAVA_ROWS[row], *extra], env)


KEEP: str | None = None  # --keep: a folder for every run's records


def run_client(row: str, k: KafkaCluster, topic: str, seconds: float, rate: int, extra: list[str],
               at: tuple[float, Callable[[], None]] | None = None) -> tuple[dict[str, float], list[list[float]]]:
    """Runs one client; `at`: (seconds into its run, an action) as the dead
    broker's kill. Returns its header and records."""
    with tempfile.NamedTemporaryFile(prefix=f"{topic}-", suffix=".txt", delete=False, dir=KEEP) as f:
        records = f.name
    cmd, env = command(row, k, topic, seconds, rate, records, extra)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timer = None
    try:
        assert proc.stdout
        first = proc.stdout.readline()  # "t0 T": the producer exists
        if at and first.startswith("t0 "):
            delay = float(first.split()[1]) + at[0] - time.monotonic()
            timer = threading.Timer(max(0.0, delay), at[1])
            timer.start()
        out, err = proc.communicate(timeout=600)
        if proc.returncode:
            raise RuntimeError(f"{row}: exit {proc.returncode}\n{first}{out[-1000:]}{err[-3000:]}")
        with open(records) as f:
            head = f.readline().split()
            header = {head[i]: float(head[i + 1]) for i in range(1, len(head) - 1, 2)}
            recs = [[float(x) for x in line.split()] for line in f]
        return header, recs
    finally:
        if timer:
            timer.join()
        if proc.poll() is None:
            proc.kill()
        if not KEEP:
            os.unlink(records)


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def summarize(header: dict[str, float], recs: list[list[float]], slow_parts: set,
              window: tuple[float, float], appended_: int) -> dict[str, Any]:
    """recs: [intended, sent, done (-1: failed), partition]; latency is done
    minus intended; `window`: the intended times whose share on the slow
    broker's partitions is reported."""
    ok = [r for r in recs if r[2] >= 0]
    lat = [1000 * (r[2] - r[0]) for r in ok]
    warm = [1000 * (r[2] - r[0]) for r in ok if r[0] >= WARM]
    inwin = [r for r in ok if window[0] <= r[0] < window[1]]
    parts = collections.Counter(int(r[3]) for r in ok)
    return {"sent": len(recs), "lost": len(recs) - len(ok), "duplicated": appended_ - len(ok),
            "send_rate": len(recs) / header["send_end"], "drain_s": header["flushed"] - header["send_end"],
            "p50": pct(lat, .5), "p99": pct(lat, .99), "max": max(lat, default=float("nan")),
            "p50_warm": pct(warm, .5), "p99_warm": pct(warm, .99),
            "send_lag_p99": 1000 * pct([r[1] - r[0] for r in recs], .99),
            "slow_share": sum(int(r[3]) in slow_parts for r in inwin) / max(1, len(inwin)),
            "window": [round(window[0], 2), round(window[1], 2)], "window_records": len(inwin),
            "cross_rack": sum(int(r[3]) not in slow_parts for r in ok) / max(1, len(ok)),
            "partitions": [parts[q] for q in range(N)]}


class Bench:
    def __init__(self, seconds: float, rate: int) -> None:
        self.seconds, self.rate = seconds, rate
        self.toxi = Toxiproxy()
        self.k: KafkaCluster | None = None
        self.ids = iter(range(100000))

    def cluster(self, replication_listener: bool) -> KafkaCluster:
        """Broker 2's client traffic through the proxy; with
        `replication_listener`, its followers' traffic not."""
        if self.k:
            self.k.close()
            self.k = None
        port = free_port()
        self.k = KafkaCluster(advertise={SLOW: port}, replication_listener=replication_listener,
                              before_start=lambda c: self.toxi.proxy(port, c.ports[SLOW][0]))
        # A fresh cluster's JVMs are still compiling: a run of each kind of
        # client, not counted, so that the first counted row is not charged
        for row in ["C, librdkafka built-in", "Python, librdkafka built-in", f"{JAVA}, defaults"]:
            topic, _ = self.fresh()
            run_client(row, self.k, topic, 5.0, self.rate, [])
        return self.k

    def fresh(self) -> tuple[str, dict[int, int]]:
        """A new topic where broker 2 leads at least one partition."""
        assert self.k
        for _ in range(10):
            topic = f"side-{next(self.ids)}"
            self.k.create_topic(topic, N)
            lead = self.k.leaders(topic)
            if SLOW in lead.values():
                return topic, lead
        raise RuntimeError("broker 2 leads no partition of 10 new topics")

    def run(self, scenario: str, row: str, extra: list[str] | None = None) -> dict[str, Any]:
        k = self.k
        assert k
        topic, lead = self.fresh()
        slow_parts = {p for p, b in lead.items() if b == SLOW}
        seconds = self.seconds + (5 if scenario == "dead" else 0)
        window = (WARM, seconds)
        if scenario != "dead":
            header, recs = run_client(row, k, topic, seconds, self.rate, extra or [])
        else:
            moments: dict[str, float] = {}

            def kill() -> None:
                k.kill(SLOW)
                moments["killed"] = time.monotonic()
                while time.monotonic() - moments["killed"] < 60:
                    try:
                        if all(b != SLOW for b in k.leaders(topic).values()):
                            moments["moved"] = time.monotonic()
                            return
                    except Exception:  # noqa: BLE001, S110 - a metadata request to the dead node
                        pass
                    time.sleep(0.1)
            try:
                header, recs = run_client(row, k, topic, seconds, self.rate, extra or [], (KILL_AT, kill))
            finally:
                k.start(SLOW)
                k.wait_ready()
                k.wait_in_sync(topic)
            if "moved" not in moments:
                raise RuntimeError("the controller did not move broker 2's leadership within 60 s")
            t0 = header["t0"]
            window = (moments["killed"] - t0 + 1.0, moments["moved"] - t0)
        s = summarize(header, recs, slow_parts, window, appended(k.bootstrap_servers, topic))
        s.update(scenario=scenario, client=row, topic=topic, first_delivery=min(
            (r[2] for r in recs if r[2] >= 0), default=float("nan")))
        print(f"  {scenario:9} {row:72} p99 {s['p99']:8.1f} ms, after warm-up {s['p99_warm']:8.1f} ms, "
              f"slow share {100 * s['slow_share']:5.1f}%, lost {s['lost']}, drain {s['drain_s']:.1f} s",
              file=sys.stderr, flush=True)
        return s

    def close(self) -> None:
        if self.k:
            self.k.close()
        self.toxi.close()


ONLY: str | None = None  # --rows: only the rows whose name has this


def rows_for(scenario: str) -> list[str]:
    # partitioner.availability.timeout.ms cannot act where nothing is slow
    return [r for r in ROWS if (scenario != "none" or "availability" not in r) and (not ONLY or ONLY in r)]


def collect(a: argparse.Namespace) -> dict[str, Any]:
    build()
    b = Bench(a.seconds, a.rate)
    results: dict[str, Any] = {"seconds": a.seconds, "rate": a.rate, "runs": []}
    try:
        wanted = a.scenarios.split(",")
        b.cluster(replication_listener=True)
        for scenario in [s for s in ["none", "latency", "capacity", "dead"] if s in wanted]:
            if scenario == "latency":
                b.toxi.toxic("latency", "downstream", latency=500)
            elif scenario == "capacity":
                b.toxi.toxic("bandwidth", "upstream", rate=100)
            else:
                b.toxi.clear()
            for _ in range(a.runs):  # rounds: every row once per round, so drift falls on all
                for row in rows_for(scenario):
                    results["runs"].append(b.run(scenario, row))
        b.toxi.clear()
        if "rack" in wanted:
            for row in ["Python, rdpart adaptive", f"{JAVA}, defaults", "Python, librdkafka built-in"]:
                extra = ["client.rack=r2"] + (["partitioner.rack.aware=true"] if row.startswith("Java") else [])
                results["runs"].append(b.run("rack", row, extra))
        if "ratecap" in wanted:
            b.cluster(replication_listener=False)
            b.toxi.toxic("latency", "downstream", latency=500)
            for _ in range(a.runs):
                for row in rows_for("ratecap"):
                    results["runs"].append(b.run("ratecap", row))
    finally:
        b.close()
        os.makedirs(os.path.dirname(JSON_OUT), exist_ok=True)
        with open(JSON_OUT, "w") as f:
            json.dump(results, f, indent=1)
    return results


def spread(runs: list[dict[str, Any]], key: str, fmt: str = "{:.0f}", scale: float = 1.0) -> str:
    v = [r[key] * scale for r in runs]
    med = statistics.median(v)
    if len(v) == 1 or min(v) == max(v):
        return fmt.format(med)
    return f"{fmt.format(med)} ({fmt.format(min(v))}-{fmt.format(max(v))})"


def report(results: dict[str, Any], plot_dir: str | None) -> None:
    by: dict[str, dict[str, list[dict[str, Any]]]] = collections.defaultdict(lambda: collections.defaultdict(list))
    for r in results["runs"]:
        by[r["scenario"]][r["client"]].append(r)
    seconds, rate = results["seconds"], results["rate"]
    print(f"## 10. Side by side on Apache Kafka with the Java producer 4.4: four kinds of slow broker "
          f"({rate} msg/s for {seconds:.0f} s)\n")
    print("`python3 benches/side_by_side.py` (in `make bench`; `--runs`, `--scenarios`). 3 Kafka 4.4 nodes "
          "(KRaft), a fresh 6-partition topic per run (replication 3, min.insync.replicas 2), keyless 200-byte "
          f"records at {rate} msg/s, acks=all, idempotence, linger.ms=5, every client in its own process. "
          "Latency runs from each record's *intended* send time (record i at i / rate from the producer's "
          "creation) to its delivery report, for every client alike, so a send() that blocks is charged. "
          f"*After warm-up*: records intended after {WARM:.0f} s. *Send rate*: records handed to the client "
          "per second of the sending phase; *drain*: seconds from the last send to the end of flush. Each cell: "
          "the median of the runs, (min-max) over them. Per request, librdkafka packs up to 1 MB "
          "(`batch.size` 1,000,000, one request per broker); the Java producer one batch of `batch.size` "
          "(16 KB by default) per partition.\n")
    for scenario in [s for s in SCENARIOS if s in by]:
        rows = by[scenario]
        n = min(len(v) for v in rows.values())
        share = ("on broker 2's partitions, from 1 s after the kill until its leadership moved"
                 if scenario == "dead" else "on broker 2's partitions after warm-up")
        print(f"### {scenario}: {SCENARIOS[scenario]} ({n} runs per row)\n")
        print(f"| client | lost | duplicated | send rate msg/s | drain s | p50 ms | p99 ms | p50 ms after warm-up "
              f"| p99 ms after warm-up | {share} |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for row, runs in rows.items():
            print(f"| {row} | {sum(r['lost'] for r in runs)} | {sum(r['duplicated'] for r in runs)} "
                  f"| {spread(runs, 'send_rate')} | {spread(runs, 'drain_s', '{:.1f}')} "
                  f"| {spread(runs, 'p50', '{:.1f}')} | {spread(runs, 'p99')} | {spread(runs, 'p50_warm', '{:.1f}')} "
                  f"| {spread(runs, 'p99_warm')} | {spread(runs, 'slow_share', '{:.1f}%', 100)} |")
        print()
        if scenario == "dead":
            w = [r["window"][1] - r["window"][0] + 1 for rs in rows.values() for r in rs]
            print(f"Broker 2's leadership moved {min(w):.1f}-{max(w):.1f} s after the kill.\n")
        goals(scenario, rows)
        if plot_dir:
            path = os.path.join(plot_dir, f"side_by_side_{scenario}.png")
            plot(path, scenario, rows)
            print(f"![{scenario}]({os.path.relpath(path, ROOT)})\n")
    if "rack" in by:
        print("### Rack awareness: client.rack=r2 (one run each)\n")
        print("| client | records | cross-rack share |")
        print("|---|---:|---:|")
        for row, runs in by["rack"].items():
            extra = ", partitioner.rack.aware=true" if row.startswith("Java") else ""
            print(f"| {row}{extra} | {runs[0]['sent']} | {100 * runs[0]['cross_rack']:.1f}% |")
        print()


def goals(scenario: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Issue 28's goals: rdpart's p99 at or below Java's best row and at
    most 0.25x the built-in's, from C and Python, whole run included."""
    if scenario == "none":
        for host in ["C", "Python"]:
            base, ours = rows.get(f"{host}, librdkafka built-in"), rows.get(f"{host}, rdpart adaptive")
            if base and ours:
                ratio = (statistics.median(x["send_rate"] for x in ours)
                         / statistics.median(x["send_rate"] for x in base))
                print(f"- {host}: rdpart adaptive's send rate {ratio:.3f}x the built-in's; per partition "
                      f"{min(min(x['partitions']) for x in ours)} to {max(max(x['partitions']) for x in ours)}.")
        print()
        return
    med = {row: statistics.median(x["p99"] for x in runs) for row, runs in rows.items()}
    worst = {row: max(x["p99"] for x in runs) for row, runs in rows.items()}
    java = min((row for row in med if row.startswith(JAVA)), key=lambda row: med[row], default=None)
    for host in ["C", "Python"]:
        r, b = f"{host}, rdpart adaptive", f"{host}, librdkafka built-in"
        if r not in med or b not in med:
            continue
        vs_b = med[r] / med[b]
        line = (f"- {host}: rdpart adaptive p99 {med[r]:.0f} ms (worst run {worst[r]:.0f}) = {vs_b:.3f}x the "
                f"built-in's {med[b]:.0f} ms (goal 0.25x: {'met' if vs_b <= 0.25 else 'MISSED'})")
        if java:
            vs_j = med[r] / med[java]
            line += (f"; {vs_j:.3f}x Java's best row ({java.removeprefix(JAVA + ', ')}, {med[java]:.0f} ms; "
                     f"goal at or below: {'met' if vs_j <= 1 else 'MISSED'})")
        print(line + ".")
    print()


def plot(path: str, scenario: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(rows) + 1.8))
    names = list(rows)
    for off, key, label in [(0.2, "p99", "p99, whole run"), (-0.2, "p99_warm", "p99 after warm-up")]:
        med = [statistics.median(x[key] for x in rows[n]) for n in names]
        lo = [m - min(x[key] for x in rows[n]) for m, n in zip(med, names)]
        hi = [max(x[key] for x in rows[n]) - m for m, n in zip(med, names)]
        ax.barh([i + off for i in range(len(names))], med, height=0.4, xerr=[lo, hi], capsize=3, label=label)
    short = [n.replace(f"{JAVA}, ", "Java, ").replace("batch.size=65536", "batch.size 64 KB")
             .replace("partitioner.availability.timeout.ms=500", "availability timeout 500 ms") for n in names]
    ax.set_yticks(list(range(len(names))), short, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("ms from the intended send time to the report (median of runs; bars: min-max)", fontsize=8)
    ax.set_title("\n".join(textwrap.wrap(f"Kafka 4.4, {scenario}: {SCENARIOS[scenario]}", 80)), fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1 run of 6 s at 2000 msg/s per row")
    ap.add_argument("--scenarios", default="none,latency,capacity,dead,rack,ratecap")
    ap.add_argument("--plot-dir", default=os.path.join(ROOT, "docs"))
    ap.add_argument("--from-json", help="print again from a saved target/side_by_side.json")
    ap.add_argument("--keep", help="a folder to keep every run's records in")
    ap.add_argument("--rows", help="only the clients whose name has this (\"rdpart\", \"Java\")")
    a = ap.parse_args()
    global KEEP, ONLY
    KEEP, ONLY = a.keep, a.rows
    a.seconds, a.rate = (6.0, 2000) if a.quick else (10.0, 3000)
    if a.quick:
        a.runs = 1
    if a.from_json:
        with open(a.from_json) as f:
            results = json.load(f)
    else:
        results = collect(a)
    report(results, a.plot_dir)


if __name__ == "__main__":
    main()
