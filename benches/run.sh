#!/usr/bin/env bash
# All of rdpart's benchmarks, printed as markdown tables:
#   1-2. cargo bench --bench partitioners (per call, contention)
#   3.   C end to end on the mock cluster (benches/e2e_bench.c)
#   4.   Python end to end on the mock cluster (benches/e2e.py)
#   5.   adaptive with a slow broker, from C and Python (benches/adaptive.py, adaptive.png)
#   6.   adaptive.run.bytes=1, per call by partition count (benches/adaptive_run_bytes.c)
#   7.   hot.key.share per call (benches/hot_keys.c)
#   10.  side by side with the Java producer on Apache Kafka, four kinds of slow broker (benches/side_by_side.py)
# Usage: benches/run.sh [RUNS (9)] [C_MESSAGES (2000000)] [PY_MESSAGES (200000)]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-9}
c_messages=${2:-2000000}
py_messages=${3:-200000}
.ci/setup.sh >/dev/null
# kafka-python's pure-Python murmur2 is one of the peers in table 4.
python3 -c 'import kafka' 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'kafka-python==3.0.12'
cargo build -q --release
ln -sf librdpart.so target/release/librdpart.so.0  # its SONAME, as installed
lib="$PWD/target/release"

echo "# rdpart benchmarks"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r); $(date -u +%Y-%m-%d)."
echo
cargo bench -q --bench partitioners 2>/dev/null

gcc -O2 -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Iinclude benches/e2e_bench.c \
  -o target/e2e_bench -L"$lib" -Wl,-rpath,"$lib" -lrdpart $(pkg-config --cflags --libs rdkafka)
declare -A rate
modes=(builtin-murmur2_random rdpart-murmur2_random builtin-sticky rdpart-sticky rdpart-sticky-10ms plugin-sticky plugin-adaptive)
for ((r = 0; r < runs; r++)); do
  for m in "${modes[@]}"; do # alternate, so drift hits all alike
    v=$(LD_LIBRARY_PATH="$lib" target/e2e_bench "$m" "$c_messages" | awk '{print $2}')
    rate[$m]="${rate[$m]:-} $v"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
echo "## 3. C end to end: $c_messages messages of 100 B to the mock cluster (6 partitions), median of $runs"
echo
echo "| partitioner | messages/s | ratio |"
echo "|---|---:|---:|"
b1=$(echo "${rate[builtin-murmur2_random]}" | median)
r1=$(echo "${rate[rdpart-murmur2_random]}" | median)
b2=$(echo "${rate[builtin-sticky]}" | median)
r2=$(echo "${rate[rdpart-sticky]}" | median)
p2=$(echo "${rate[plugin-sticky]}" | median)
t2=$(echo "${rate[rdpart-sticky-10ms]}" | median)
a2=$(echo "${rate[plugin-adaptive]}" | median)
awk -v b1="$b1" -v r1="$r1" -v b2="$b2" -v r2="$r2" -v p2="$p2" -v t2="$t2" -v a2="$a2" 'BEGIN {
  printf "| built-in murmur2_random (keyed) | %d | |\n", b1
  printf "| rdpart_murmur2_random (keyed) | %d | %.3fx |\n", r1, r1 / b1
  printf "| built-in default + librdkafka sticky step (keyless) | %d | |\n", b2
  printf "| rdpart_sticky callback (keyless) | %d | %.3fx |\n", r2, r2 / b2
  printf "| rdpart_partition, sticky on time only like librdkafka (keyless) | %d | %.3fx |\n", t2, t2 / b2
  printf "| rdpart plugin, strategy sticky (keyless) | %d | %.3fx |\n", p2, p2 / b2
  printf "| rdpart plugin, strategy adaptive (keyless) | %d | %.3fx |\n", a2, a2 / b2 }'
echo
LD_LIBRARY_PATH="$lib" python3 benches/e2e.py "$py_messages" "$runs"
echo
# 5. adaptive with a slow broker; draws adaptive.png (matplotlib, for the plot only).
python3 -c 'import matplotlib' 2>/dev/null ||
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore 'matplotlib>=3.5'
python3 benches/adaptive.py
echo
echo "## 6. adaptive.run.bytes=1: one choice per call, by partition count (ns per call)"
echo
gcc -O2 -Wall -Wextra -o target/adaptive_run_bytes benches/adaptive_run_bytes.c -ldl
target/adaptive_run_bytes "$lib/librdpart.so"
echo
echo "## 7. hot.key.share: the cost per call, and the A/B of the keyed path (ns per call)"
echo
gcc -O2 -Wall -Wextra -o target/hot_keys benches/hot_keys.c -ldl
target/hot_keys "$lib/librdpart.so" 2>/dev/null
echo
# 10. Side by side on Apache Kafka with the Java producer (the tests' Kafka,
# tests/kafka/fetch.sh; toxiproxy from the Go module proxy), docs/side_by_side_*.png.
tests/kafka/fetch.sh >/dev/null
python3 benches/side_by_side.py
