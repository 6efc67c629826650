#!/usr/bin/env bash
# The Python package's lint (ruff) and type check (mypy), with the settings
# in examples-python/pyproject.toml. Installs either with pip when missing;
# where pip cannot, says so and skips that check (never fails for it).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in ruff mypy; do
  if ! python3 -m "$tool" --version >/dev/null 2>&1; then
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "$tool" >/dev/null 2>&1 ||
      python3 -m pip install -q --disable-pip-version-check "$tool" >/dev/null 2>&1 || true
  fi
done
cd examples-python
if python3 -m ruff --version >/dev/null 2>&1; then
  python3 -m ruff check rdpart
else
  echo "skipped: ruff could not be installed"
fi
if python3 -m mypy --version >/dev/null 2>&1; then
  python3 -m mypy rdpart
else
  echo "skipped: mypy could not be installed"
fi
