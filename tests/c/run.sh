#!/usr/bin/env bash
# The C tests of rdpart's hosts, against the librdpart.so in LIBDIR (default
# target/release), with the system librdkafka (Debian's, linked dynamically
# or, for static_host, statically). Each program prints its checks and
# exits non-zero on a failure; this script stops at the first.
#   tests/c/run.sh [LIBDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
lib=$(realpath "${1:-target/release}")
so="$lib/librdpart.so"
out=target/c-tests
mkdir -p "$out"
cflags=(-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O1 -g -Iinclude -Itests/c)
rdk_cflags=$(pkg-config --cflags rdkafka)
rdk_libs=$(pkg-config --libs rdkafka)
run() { printf -- '-- %s\n' "$*"; timeout 120 "$@"; }

# A second file of the same library, for the "two files" case.
cp "$so" "$out/librdpart-copy.so"

gcc "${cflags[@]}" $rdk_cflags tests/c/plugin_hosts.c -o "$out/plugin_hosts" $rdk_libs -lpthread
run "$out/plugin_hosts" "$so" "$PWD/$out/librdpart-copy.so" 2> "$out/plugin_hosts.err" ||
  { grep -v '^%' "$out/plugin_hosts.err"; exit 1; }
# librdkafka < 2.13 (#4142): rdpart warns once per process, naming the version.
n=$(grep -c 'rdpart: warning: librdkafka 2.0.2 is older than 2.13.0.*issue #4142' "$out/plugin_hosts.err" || true)
echo "librdkafka $(pkg-config --modversion rdkafka): the #4142 warning was printed $n time(s)"
[ "$n" = 1 ]

# rdpart's lines on the application's log: log_cb direct, and with
# log.queue=true only in the polling thread, never inside rd_kafka_new().
gcc "${cflags[@]}" $rdk_cflags tests/c/log_hosts.c -o "$out/log_hosts" $rdk_libs -lpthread
run "$out/log_hosts" "$so" 2> "$out/log_hosts.err" || { grep -v '^%' "$out/log_hosts.err"; exit 1; }

gcc "${cflags[@]}" $rdk_cflags tests/c/callbacks.c -o "$out/callbacks" -L"$lib" -Wl,-rpath,"$lib" -lrdpart
run "$out/callbacks"
run valgrind -q --error-exitcode=9 "$out/callbacks" conf_set

gcc "${cflags[@]}" -rdynamic tests/c/no_loader.c -o "$out/no_loader" $rdk_cflags $rdk_libs \
  -L"$lib" -Wl,-rpath,"$lib" -lrdpart -ldl
run "$out/no_loader" 2> /dev/null

# librdkafka linked statically, a second copy loaded RTLD_GLOBAL.
static_libs=(/usr/lib/x86_64-linux-gnu/librdkafka.a -l:liblz4.so.1 -lm -l:libzstd.so.1 -l:libsasl2.so.2
             -lssl -lcrypto -lz -ldl -lpthread -lrt)
gcc "${cflags[@]}" tests/c/static_host.c -o "$out/static_host" "${static_libs[@]}"
gcc "${cflags[@]}" -rdynamic tests/c/static_host.c -o "$out/static_host_rdynamic" "${static_libs[@]}"
run "$out/static_host" "$so" refuse
run "$out/static_host_rdynamic" "$so" place 2> /dev/null

g++ -std=c++11 -Wall -Wextra -Werror -O1 -g tests/c/cpp_topic.cpp -o "$out/cpp_topic" $(pkg-config --cflags --libs rdkafka++)
run "$out/cpp_topic" "$so" 2> /dev/null

# rdpart's plain callbacks with librdkafka linked statically (no -rdynamic)
# and a second, different librdkafka loaded RTLD_GLOBAL (confluent-kafka's,
# else the system's shared one), loaded after or before librdpart: every
# message placed, never a call into the other copy; without
# rdpart_set_available() one line on stderr naming it.
second=$(python3 -c 'import confluent_kafka, glob, os; print(glob.glob(os.path.join(os.path.dirname(confluent_kafka.__file__), "..", "confluent_kafka.libs", "librdkafka*.so*"))[0])' 2> /dev/null || true)
[ -n "$second" ] || second=librdkafka.so.1
gcc "${cflags[@]}" tests/c/static_callbacks.c -o "$out/static_callbacks" "${static_libs[@]}"
for i in 1 2 3 4 5 6 7 8 9 10; do
  run "$out/static_callbacks" "$so" "$second" after
done
run "$out/static_callbacks" "$so" "$second" before
run "$out/static_callbacks" "$so" "$second" after set_available
run "$out/static_callbacks" "$so" "$second" before set_available

# Audit regressions on the mock cluster (tests/c/audit.c), each case in a
# process of its own (rdpart_in_flight(NULL) counts the whole process's).
gcc "${cflags[@]}" $rdk_cflags tests/c/audit.c -o "$out/audit" $rdk_libs -L"$lib" -Wl,-rpath,"$lib" -lrdpart -lpthread
for c in reused_handles adaptive_memory adaptive_max_partition inflight_batch inflight_threads \
         inflight_delivered delimiter_plugin delimiter_conf env_order unknown_partition_memory \
         hot_key_topic wrapping_partitioner hot_key_parked; do
  run "$out/audit" "$so" "$c" 2> "$out/audit-$c.err" || { grep -v '^%' "$out/audit-$c.err"; exit 1; }
done

# A host built with AddressSanitizer (whose backtrace interceptor is the
# first frame rdpart sees while loading): the plugin loads and places, and
# the callbacks wrapped by the application keep topic names and leaders.
gcc "${cflags[@]}" -fsanitize=address $rdk_cflags tests/c/audit.c -o "$out/audit_asan" $rdk_libs \
  -L"$lib" -Wl,-rpath,"$lib" -lrdpart -lpthread
for c in delimiter_plugin wrapping_partitioner; do
  ASAN_OPTIONS=detect_leaks=0 run "$out/audit_asan" "$so" "$c" 2> "$out/audit_asan-$c.err" ||
    { grep -v '^%' "$out/audit_asan-$c.err"; exit 1; }
done

# rdpart.partitioner.cb: the application's own partitioner from C (mock
# cluster): placed as it said, on the producing thread, produce_batch refused.
gcc "${cflags[@]}" $rdk_cflags tests/c/custom_partitioner.c -o "$out/custom_partitioner" $rdk_libs -lpthread
run "$out/custom_partitioner" "$so" 2> "$out/custom_partitioner.err" ||
  { grep -v '^%' "$out/custom_partitioner.err"; exit 1; }
