import itertools
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples-python"))

from brokers import KafkaCluster, MockBroker  # noqa: E402

_ids = itertools.count()


@pytest.fixture(scope="session")
def mock(mock_broker):
    """The session's mock cluster (the one the end-to-end tests use too)."""
    return mock_broker.cluster


@pytest.fixture
def topic(mock, request):
    """A fresh 6-partition topic on the shared mock cluster."""
    name = f"t{next(_ids)}-" + request.node.name.replace("[", "-").replace("]", "")
    mock.create_topic(name, 6)
    return name


@pytest.fixture(scope="session")
def mock_broker():
    b = MockBroker()
    yield b
    b.close()


@pytest.fixture(scope="session")
def kafka_broker():
    b = KafkaCluster()
    try:
        yield b
    finally:
        b.close()


@pytest.fixture(params=["mock", "kafka"])
def broker(request):
    """Each end-to-end test runs on both brokers."""
    return request.getfixturevalue(request.param + "_broker")


def new_topic(broker, partitions: int = 6) -> str:
    name = f"e2e-{next(_ids)}"
    broker.create_topic(name, partitions)
    return name
