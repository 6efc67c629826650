"""The two brokers the end-to-end tests run against, started by the tests:
librdkafka's embedded mock cluster, and tansu, a Kafka-compatible server
(started on a free loopback port with memory storage and always stopped)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from typing import Optional

from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from rdpart.mock import MockCluster

TANSU_VERSION = "0.6.0"


def tansu_binary() -> Optional[str]:
    found = shutil.which("tansu") or os.path.expanduser("~/.cargo/bin/tansu")
    return found if os.path.exists(found) else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MockBroker:
    name = "mock"

    def __init__(self) -> None:
        self.cluster = MockCluster(3)
        self.bootstrap_servers = self.cluster.bootstrap_servers

    def create_topic(self, topic: str, partitions: int) -> None:
        self.cluster.create_topic(topic, partitions)

    def grow(self, topic: str, partitions: int) -> None:
        raise NotImplementedError("the mock cluster has no CreatePartitions")

    def close(self) -> None:
        self.cluster.close()


class TansuBroker:
    name = "tansu"

    def __init__(self) -> None:
        binary = tansu_binary()
        if not binary:
            raise RuntimeError(f"tansu {TANSU_VERSION} is not installed (.ci/setup.sh --test installs it)")
        port = free_port()
        url = f"tcp://127.0.0.1:{port}"
        self.bootstrap_servers = f"127.0.0.1:{port}"
        self.log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"tansu-{port}.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.admin = AdminClient({"bootstrap.servers": self.bootstrap_servers, "log_level": 3})
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tansu exited with {self.proc.returncode}; see {self.log.name}")
            try:
                self.admin.list_topics(timeout=1)
                break
            except Exception:
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"tansu not ready after 60 s; see {self.log.name}")
                time.sleep(0.2)

    def create_topic(self, topic: str, partitions: int) -> None:
        f = self.admin.create_topics([NewTopic(topic, partitions, 1)], operation_timeout=30)
        f[topic].result(timeout=30)
        self._wait_partitions(topic, partitions)

    def grow(self, topic: str, partitions: int) -> None:
        f = self.admin.create_partitions([NewPartitions(topic, partitions)], operation_timeout=30)
        f[topic].result(timeout=30)
        self._wait_partitions(topic, partitions)

    def _wait_partitions(self, topic: str, partitions: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            md = self.admin.list_topics(topic, timeout=5).topics.get(topic)
            if md and not md.error and len(md.partitions) == partitions:
                return
            time.sleep(0.2)
        raise RuntimeError(f"{topic} did not get {partitions} partitions")

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.log.close()
