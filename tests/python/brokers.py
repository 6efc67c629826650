"""The two brokers the end-to-end tests run against, started by the tests:
librdkafka's embedded mock cluster, and Apache Kafka itself (3 nodes in
KRaft mode on free loopback ports, always stopped)."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Callable, Dict, Optional

from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from rdpart.mock import MockCluster

KAFKA_VERSION = "4.4.0"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MockBroker:
    name = "mock"

    def __init__(self) -> None:
        self.cluster = MockCluster(3)
        for b in (1, 2, 3):  # as the Kafka cluster below: broker i in rack ri
            self.cluster.set_rack(b, f"r{b}")
        self.bootstrap_servers = self.cluster.bootstrap_servers

    def create_topic(self, topic: str, partitions: int) -> None:
        self.cluster.create_topic(topic, partitions)

    def grow(self, topic: str, partitions: int) -> None:
        raise NotImplementedError("the mock cluster has no CreatePartitions")

    def close(self) -> None:
        self.cluster.close()


class KafkaCluster:
    """Apache Kafka itself (tests/kafka/fetch.sh puts the broker's jars in
    target/kafka/lib): 3 nodes in KRaft mode, each broker and controller,
    on free loopback ports, racks r1, r2, r3, small heaps, data in a
    temporary folder. Started here, always stopped (also when the test
    process dies: each JVM gets SIGKILL with its parent)."""

    name = "kafka"

    def __init__(self, nodes: int = 3, advertise: Optional[Dict[int, int]] = None,
                 before_start: Optional[Callable[["KafkaCluster"], None]] = None,
                 replication_listener: bool = False) -> None:
        """`advertise`: a node's advertised port, when clients must reach it
        another way (a proxy); `before_start` runs once the ports are chosen;
        `replication_listener`: brokers replicate through a listener of their
        own (REPLICATION, on `replication_ports`), so that a proxy in front of
        a node's client listener slows its clients and not its followers."""
        lib = os.path.join(ROOT, "target", "kafka", "lib")
        if not os.path.exists(os.path.join(lib, f"kafka_2.13-{KAFKA_VERSION}.jar")):
            raise RuntimeError(f"Apache Kafka {KAFKA_VERSION} is not in {lib} (tests/kafka/fetch.sh fetches it)")
        self.classpath = os.path.join(lib, "*")
        self.dir = tempfile.mkdtemp(prefix="rdpart-kafka-")
        self.nodes = list(range(1, nodes + 1))
        self.ports = {i: (free_port(), free_port()) for i in self.nodes}
        self.replication_ports = {i: free_port() for i in self.nodes} if replication_listener else {}
        self.bootstrap_servers = ",".join(f"127.0.0.1:{self.ports[i][0]}" for i in self.nodes)
        self.procs: Dict[int, subprocess.Popen] = {}
        self.logs: Dict[int, str] = {}
        voters = ",".join(f"{i}@127.0.0.1:{self.ports[i][1]}" for i in self.nodes)
        cluster_id = self._java("kafka.tools.StorageTool", "random-uuid").strip().splitlines()[-1]
        for i in self.nodes:
            broker, controller = self.ports[i]
            rep = self.replication_ports.get(i)
            listeners = f"PLAINTEXT://127.0.0.1:{broker},CONTROLLER://127.0.0.1:{controller}"
            advertised = f"PLAINTEXT://127.0.0.1:{(advertise or {}).get(i, broker)}"
            if rep:
                listeners += f",REPLICATION://127.0.0.1:{rep}"
                advertised += f",REPLICATION://127.0.0.1:{rep}"
            conf = os.path.join(self.dir, f"node{i}.properties")
            with open(conf, "w") as f:
                f.write("\n".join([
                    "process.roles=broker,controller", f"node.id={i}",
                    f"controller.quorum.voters={voters}",
                    f"listeners={listeners}", f"advertised.listeners={advertised}",
                    "controller.listener.names=CONTROLLER",
                    f"inter.broker.listener.name={'REPLICATION' if rep else 'PLAINTEXT'}",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,REPLICATION:PLAINTEXT",
                    f"log.dirs={os.path.join(self.dir, f'data{i}')}", f"broker.rack=r{i}",
                    "offsets.topic.replication.factor=3", "offsets.topic.num.partitions=3",
                    "transaction.state.log.replication.factor=3", "transaction.state.log.min.isr=2",
                    "group.initial.rebalance.delay.ms=0", "auto.create.topics.enable=false",
                    "num.network.threads=2", "num.io.threads=2", "num.recovery.threads.per.data.dir=1",
                    "log.segment.bytes=16777216", "",
                ]))
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", conf)
        self.admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 2})
        try:
            if before_start:
                before_start(self)
            for i in self.nodes:
                self.start(i)
            self.wait_ready()
        except BaseException:
            self.close()
            raise

    def _java(self, main: str, *args: str) -> str:
        r = subprocess.run(["java", "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", self.classpath, main, *args],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"{main} {' '.join(args)} failed: {r.stdout}{r.stderr}")
        return r.stdout

    def start(self, node: int) -> None:
        """Starts (or restarts) a node's JVM."""
        log = os.path.join(self.dir, f"node{node}.log")
        self.logs[node] = log
        with open(log, "a") as out:
            self.procs[node] = subprocess.Popen(
                ["java", "-Xms96m", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                 "-Djava.awt.headless=true", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                 "-cp", self.classpath, "kafka.Kafka", os.path.join(self.dir, f"node{node}.properties")],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent)

    def kill(self, node: int) -> None:
        """SIGKILL, as a crash would: no clean shutdown."""
        p = self.procs[node]
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(30)

    def wait_ready(self, timeout: float = 120) -> None:
        """Until every node is a registered broker."""
        deadline = time.monotonic() + timeout
        while True:
            for i, p in self.procs.items():
                if p.poll() is not None:
                    raise RuntimeError(f"Kafka node {i} exited with {p.returncode}; see {self.logs[i]}:\n"
                                       + _tail(self.logs[i]))
            try:
                if len(self.admin.list_topics(timeout=2).brokers) == len(self.nodes):
                    return
            except Exception:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kafka not ready after {timeout} s; see {self.dir}")
            time.sleep(0.3)

    def wait_in_sync(self, topic: str, timeout: float = 120) -> None:
        """Until every replica of the topic is in sync again (a restarted
        node caught up), so that the tests after find a whole cluster."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                md = self.admin.list_topics(topic, timeout=5).topics[topic]
                if all(len(p.isrs) == len(p.replicas) and p.leader >= 0 for p in md.partitions.values()):
                    return
            except Exception:  # noqa: BLE001 - a metadata request during recovery
                pass
            time.sleep(0.5)

    def leaders(self, topic: str) -> Dict[int, int]:
        md = self.admin.list_topics(topic, timeout=10).topics[topic]
        return {p: m.leader for p, m in md.partitions.items()}

    def create_topic(self, topic: str, partitions: int, replication: int = 3, min_insync: int = 2) -> None:
        f = self.admin.create_topics([NewTopic(topic, partitions, replication,
                                               config={"min.insync.replicas": str(min_insync)})],
                                     operation_timeout=30)
        f[topic].result(timeout=60)
        self._wait_partitions(topic, partitions)

    def grow(self, topic: str, partitions: int) -> None:
        f = self.admin.create_partitions([NewPartitions(topic, partitions)], operation_timeout=30)
        f[topic].result(timeout=60)
        self._wait_partitions(topic, partitions)

    def _wait_partitions(self, topic: str, partitions: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            md = self.admin.list_topics(topic, timeout=5).topics.get(topic)
            if (md and not md.error and len(md.partitions) == partitions
                    and all(m.leader >= 0 for m in md.partitions.values())):
                return
            time.sleep(0.2)
        raise RuntimeError(f"{topic} did not get {partitions} partitions with leaders")

    def close(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the test process dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _tail(path: str, lines: int = 30) -> str:
    try:
        with open(path) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""
