#!/usr/bin/env bash
# Installs what rdpart's demo and tests need on a fresh Debian machine, and
# nothing that is already there. Idempotent; safe to run again.
#   .ci/setup.sh          # build + demo needs
#   .ci/setup.sh --test   # also test tools (valgrind, cbindgen, pytest)
set -euo pipefail
want_test=${1:-}

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

pkgs=(gcc make pkg-config zlib1g-dev librdkafka-dev python3-pip)
[ "$want_test" = --test ] && pkgs+=(valgrind binutils g++ kcat)
# node and npm run KafkaJS's own partitioners as the tests' oracle.
if [ "$want_test" = --test ]; then
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# python3-pip is only needed when pip itself is missing.
if python3 -m pip --version >/dev/null 2>&1; then
  missing=("${missing[@]/python3-pip}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: apt-get install ${missing[*]}"
  sudo_ apt-get update -qq
  DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "${missing[@]}" >/dev/null
fi

py_want=("confluent-kafka==2.16.1")
[ "$want_test" = --test ] && py_want+=("pytest")
py_missing=()
python3 -c 'import confluent_kafka, sys; v = confluent_kafka.version(); sys.exit((v[0] if isinstance(v, tuple) else v) != "2.16.1")' 2>/dev/null \
  || py_missing+=("confluent-kafka==2.16.1")
if [ "$want_test" = --test ]; then
  python3 -c 'import pytest' 2>/dev/null || py_missing+=("pytest")
fi
if [ ${#py_missing[@]} -gt 0 ]; then
  echo "setup: pip install ${py_missing[*]}"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "${py_missing[@]}"
fi

if [ "$want_test" = --test ]; then
  if ! cbindgen --version 2>/dev/null | grep -q '0.29.4'; then
    echo "setup: cargo install cbindgen 0.29.4"
    cargo install -q cbindgen --version 0.29.4 --locked
  fi
  # Apache Kafka (the broker and the Java client) for the end-to-end tests,
  # with Maven: Java 17 and Maven come with the machine.
  for tool in java mvn; do
    command -v "$tool" >/dev/null 2>&1 || { echo "setup: $tool is missing: the real-Kafka tests need Java 17 and Maven" >&2; exit 1; }
  done
  "$(dirname "$0")/../tests/kafka/fetch.sh"
  # KafkaJS 2.2.4 (no dependencies), where tests/python/kafkajs_oracle.js
  # finds it.
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ ! -f "$here/target/node/node_modules/kafkajs/package.json" ] \
     || ! grep -q '"version": "2.2.4"' "$here/target/node/node_modules/kafkajs/package.json"; then
    echo "setup: npm install kafkajs@2.2.4 (into target/node)"
    mkdir -p "$here/target/node"
    npm install -s --no-audit --no-fund --prefix "$here/target/node" kafkajs@2.2.4 >/dev/null
  fi
  # clippy and rustfmt come from rustup's own servers, which may be out of
  # reach: then tests/run_all.sh says so and skips those checks.
  if ! cargo clippy --version >/dev/null 2>&1 || ! cargo fmt --version >/dev/null 2>&1; then
    rustup component add clippy rustfmt >/dev/null 2>&1 \
      || echo "setup: rustup cannot add clippy and rustfmt here: the format and lint checks will be skipped"
  fi

  # --- kafka-javascript (tests/python/test_node_wrapper.py) ---------------
  # @confluentinc/kafka-javascript 1.10.1, built from its npm package's
  # sources into target/node-kjs by tests/node/build_kafka_javascript.sh (its
  # install script downloads a prebuilt binary from GitHub releases, out of
  # reach here): node-gyp needs python3, make, g++, zlib's headers and node's
  # (NodeSource's nodejs carries them; Debian's are in libnode-dev).
  kjs_missing=()
  for tool in python3 make g++ pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || kjs_missing+=("$tool")
  done
  dpkg -s zlib1g-dev >/dev/null 2>&1 || kjs_missing+=(zlib1g-dev)
  kjs_nodedir=$(npm config get nodedir 2>/dev/null || true)
  if [ ! -f /usr/include/node/node.h ] && [ ! -f "${kjs_nodedir:-/nonexistent}/include/node/node.h" ]; then
    kjs_missing+=(libnode-dev)
  fi
  if [ ${#kjs_missing[@]} -gt 0 ]; then
    echo "setup: apt-get install ${kjs_missing[*]}"
    sudo_ apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_ apt-get install -y -qq "${kjs_missing[@]}" >/dev/null
  fi
  "$here/tests/node/build_kafka_javascript.sh"
  # --- end kafka-javascript -------------------------------------------------
fi
