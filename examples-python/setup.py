"""The package's version is the crate's: read from ../Cargo.toml, so there
is one version to change. Everything else is in pyproject.toml."""

import pathlib
import re

from setuptools import setup

CARGO = pathlib.Path(__file__).resolve().parent.parent / "Cargo.toml"
setup(version=re.search(r'^version = "([^"]+)"', CARGO.read_text(), re.M).group(1))
