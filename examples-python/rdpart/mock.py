"""librdkafka's embedded mock cluster, driven through ctypes.

confluent-kafka does not expose the mock API, so this module calls it in
the very librdkafka the confluent-kafka wheel carries (the same file, so the
same copy in the process). Topics get the partition count you ask for, and
leaders can be moved or taken away to test failover.
"""

from __future__ import annotations

import ctypes
import glob
import os

import confluent_kafka

__all__ = ["MockCluster", "librdkafka_path"]


def librdkafka_path() -> str:
    """The librdkafka that confluent-kafka uses (its wheel's private copy)."""
    pkg = os.path.dirname(confluent_kafka.__file__)
    found = sorted(glob.glob(os.path.join(pkg, "..", "confluent_kafka.libs", "librdkafka*.so*")))
    if found:
        return os.path.realpath(found[0])
    return "librdkafka.so.1"  # a confluent-kafka built against the system library


def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(librdkafka_path())
    vp, cp, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    for name, res, args in [
        ("rd_kafka_conf_new", vp, []),
        ("rd_kafka_conf_set", i, [vp, cp, cp, cp, ctypes.c_size_t]),
        ("rd_kafka_new", vp, [i, vp, cp, ctypes.c_size_t]),
        ("rd_kafka_destroy", None, [vp]),
        ("rd_kafka_mock_cluster_new", vp, [vp, i]),
        ("rd_kafka_mock_cluster_destroy", None, [vp]),
        ("rd_kafka_mock_cluster_bootstraps", cp, [vp]),
        ("rd_kafka_mock_topic_create", i, [vp, cp, i, i]),
        ("rd_kafka_mock_partition_set_leader", i, [vp, cp, ctypes.c_int32, ctypes.c_int32]),
        ("rd_kafka_mock_broker_set_down", i, [vp, ctypes.c_int32]),
        ("rd_kafka_mock_broker_set_up", i, [vp, ctypes.c_int32]),
        ("rd_kafka_mock_broker_set_rtt", i, [vp, ctypes.c_int32, i]),
        ("rd_kafka_mock_broker_set_rack", i, [vp, ctypes.c_int32, cp]),
    ]:
        f = getattr(lib, name)
        f.restype, f.argtypes = res, args
    if hasattr(lib, "rd_kafka_mock_set_controller_id"):  # librdkafka 2.3 and later
        lib.rd_kafka_mock_set_controller_id.restype = i
        lib.rd_kafka_mock_set_controller_id.argtypes = [vp, ctypes.c_int32]
    return lib


class MockCluster:
    """An in-process Kafka cluster of ``brokers`` brokers (ids 1..brokers)."""

    def __init__(self, brokers: int = 3) -> None:
        self._lib = _lib()
        conf = self._lib.rd_kafka_conf_new()
        self._lib.rd_kafka_conf_set(conf, b"log_level", b"3", None, 0)
        err = ctypes.create_string_buffer(512)
        self._rk = self._lib.rd_kafka_new(0, conf, err, len(err))  # a producer handle
        if not self._rk:
            raise RuntimeError(err.value.decode())
        self._mc = self._lib.rd_kafka_mock_cluster_new(self._rk, brokers)
        if not self._mc:
            raise RuntimeError("cannot create the mock cluster")
        self.bootstrap_servers = self._lib.rd_kafka_mock_cluster_bootstraps(self._mc).decode()
        # Admin requests (DescribeTopics: rack awareness) wait for a controller.
        if hasattr(self._lib, "rd_kafka_mock_set_controller_id"):
            self._lib.rd_kafka_mock_set_controller_id(self._mc, 1)

    def create_topic(self, topic: str, partitions: int, replication: int = 1) -> None:
        err = self._lib.rd_kafka_mock_topic_create(self._mc, topic.encode(), partitions, replication)
        if err:
            raise RuntimeError(f"rd_kafka_mock_topic_create({topic}): error {err}")

    def set_leader(self, topic: str, partition: int, broker_id: int) -> None:
        """Move a partition's leader; broker_id -1 leaves it without one."""
        self._lib.rd_kafka_mock_partition_set_leader(self._mc, topic.encode(), partition, broker_id)

    def set_rtt(self, broker_id: int, rtt_ms: int) -> None:
        """Make every response of broker ``broker_id`` take ``rtt_ms`` (0: fast again)."""
        err = self._lib.rd_kafka_mock_broker_set_rtt(self._mc, broker_id, rtt_ms)
        if err:
            raise RuntimeError(f"rd_kafka_mock_broker_set_rtt({broker_id}): error {err}")

    def set_rack(self, broker_id: int, rack: str) -> None:
        """Sets a broker's rack (its broker.rack), as Metadata reports it."""
        err = self._lib.rd_kafka_mock_broker_set_rack(self._mc, broker_id, rack.encode())
        if err:
            raise RuntimeError(f"rd_kafka_mock_broker_set_rack({broker_id}): error {err}")

    def close(self) -> None:
        if self._mc:
            self._lib.rd_kafka_mock_cluster_destroy(self._mc)
            self._lib.rd_kafka_destroy(self._rk)
            self._mc = self._rk = None

    def __enter__(self) -> "MockCluster":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
