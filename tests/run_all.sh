#!/usr/bin/env bash
# Every rdpart test, from a fresh machine: installs what it needs, then
# checks formatting and lints, the generated header, the library's symbols,
# the Rust tests (oracles: librdkafka via rdkafka-sys, the murmur2 crate,
# published vectors), the plugin from C (valgrind), the C example on the
# mock cluster for every strategy (direct and as a plugin), and pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n== %s\n' "$*"; }

step "setup"
.ci/setup.sh --test

step "format and lints"
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all -- --check
else
  echo "skipped: rustfmt is not installed and no registry here serves it"
fi
if cargo clippy --version >/dev/null 2>&1; then
  cargo clippy -q --all-targets -- -D warnings
else
  echo "skipped: clippy is not installed and no registry here serves it"
fi

.ci/python_checks.sh

step "build"
cargo build -q --release
ln -sf librdpart.so target/release/librdpart.so.0  # its SONAME, as installed
so=target/release/librdpart.so

step "generated header is current and compiles beside rdkafka.h"
cbindgen -q --config cbindgen.toml --output target/rdpart.h
diff -u include/rdpart.h target/rdpart.h || { echo "include/rdpart.h is stale: regenerate it with cbindgen"; exit 1; }
if grep -n 'backtrace\|extern int' include/rdpart.h; then echo "include/rdpart.h declares libc functions"; exit 1; fi
printf '#include "rdpart.h"\nint main(void) { rd_kafka_topic_conf_t *t = rd_kafka_topic_conf_new();\n rd_kafka_topic_conf_set_partitioner_cb(t, rdpart_murmur2);\n rd_kafka_topic_conf_set_partitioner_cb(t, rdpart_partition);\n rd_kafka_topic_conf_destroy(t); return 0; }\n' > target/header_check.c
gcc -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude $(pkg-config --cflags rdkafka) -c target/header_check.c -o target/header_check.o
g++ -x c++ -Wall -Wextra -Werror -Iinclude $(pkg-config --cflags rdkafka) -c target/header_check.c -o target/header_check_cpp.o

step "librdpart.so needs no librdkafka and carries none"
if readelf -d "$so" | grep -i 'NEEDED.*rdkafka'; then echo "librdpart.so links librdkafka"; exit 1; fi
if nm -D --defined-only "$so" | grep ' rd_kafka_'; then echo "librdpart.so defines rd_kafka_ symbols"; exit 1; fi
echo "ok: $(readelf -d "$so" | grep -c NEEDED) NEEDED entries, none librdkafka"
# librdkafka unloads plugins while their callbacks stay registered: rdpart
# must stay mapped for the life of the process.
readelf -d "$so" | grep -q 'FLAGS_1.*NODELETE' || { echo "librdpart.so is not linked -z nodelete"; exit 1; }
echo "ok: linked -z nodelete"

step "cargo test"
# Built first, then run with a bound: a test that hangs fails the step
# instead of holding the whole run (the tests take about a minute).
cargo test -q --release --no-run
timeout -k 10 900 cargo test -q --release 2>&1 | grep -v '^$'

step "plugin from C: errors, conf_dup, 1000 create/destroy cycles under valgrind"
gcc -std=c99 -Wall -Wextra -Werror -O1 -g -Itests/c tests/c/plugin_test.c -o target/plugin_test $(pkg-config --cflags --libs rdkafka)
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=9 \
  target/plugin_test "$PWD/$so" 1000

step "C hosts: the plugin in C and C++ programs, callbacks, static librdkafka, no loader calls"
tests/c/run.sh target/release

step "make install: prefix, DESTDIR, pkg-config, a program built out of tree, dynamic and static"
tests/install.sh

step "the Python package: make wheel (manylinux2014), installed without Rust; pip install ./examples-python"
tests/wheel.sh

step "C example on the mock cluster, every strategy, direct and as a plugin"
make -s -C examples-c
for s in $(make -s --no-print-directory strategies); do
  printf '%-18s direct: ' "$s"; examples-c/producer "$s" --quiet | tail -n 1
  printf '%-18s plugin: ' "$s"
  LD_LIBRARY_PATH="$PWD/target/release" examples-c/producer "$s" --plugin --quiet | tail -n 1
done
if examples-c/producer nonsense 2>/dev/null; then echo "a bad strategy was accepted"; exit 1; fi

step "pytest: the plugin in confluent-kafka producers; end to end on the mock cluster and Apache Kafka"
# The tests use the package as users install it: the wheel tests/wheel.sh
# built, in a venv that sees the system's confluent-kafka and pytest.
venv=target/test-venv
[ -x "$venv/bin/python" ] || python3 -m venv --system-site-packages "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall \
  "$(ls -t target/wheels/rdpart-*.whl | head -n 1)"
# rdpart skew --plot (tests/python/test_skew.py) draws with matplotlib.
"$venv/bin/python" -c 'import matplotlib' 2>/dev/null ||
  "$venv/bin/python" -m pip install -q --disable-pip-version-check 'matplotlib>=3.5'
# Bounded: a test that hangs prints every thread's stack after 5 min
# (faulthandler) and the run fails after 40 (it takes 9-12).
timeout -k 30 2400 "$venv/bin/python" -m pytest -q -o faulthandler_timeout=300 tests/python
