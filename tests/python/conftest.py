import importlib.util
import itertools
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
_HOW = ("the tests use the installed rdpart package: run them with make test, or with "
        "target/test-venv/bin/python -m pytest tests/python once make test has made that venv")
try:
    import rdpart  # the installed package (tests/run_all.sh installs the wheel)
except ImportError:
    sys.exit(_HOW)
if "site-packages" not in rdpart.__file__:
    sys.exit(f"{_HOW} (this one is {rdpart.__file__})")

# The Python example, which several tests run as users would, is a file,
# not a package: loaded by path as the module `producer`.
_spec = importlib.util.spec_from_file_location(
    "producer", os.path.join(HERE, "..", "..", "examples-python", "producer.py"))
producer = importlib.util.module_from_spec(_spec)
sys.modules["producer"] = producer
_spec.loader.exec_module(producer)

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
