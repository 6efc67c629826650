import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples-python"))

from mock_cluster import MockCluster  # noqa: E402


@pytest.fixture(scope="session")
def mock():
    with MockCluster(3) as mc:
        yield mc


@pytest.fixture
def topic(mock, request):
    """A fresh 6-partition topic on the mock cluster."""
    name = "t-" + request.node.name.replace("[", "-").replace("]", "")
    mock.create_topic(name, 6)
    return name
