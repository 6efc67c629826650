#!/usr/bin/env bash
# `make install` as a C user meets it: into a prefix and into a DESTDIR
# staging tree, then examples-c/producer.c built out of tree with
# pkg-config against the installed files, linked dynamically (run as a
# callback user and through plugin.library.paths=librdpart, the bare name)
# and statically (librdpart.a: the program then needs no librdpart.so).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

make -s install PREFIX="$prefix" > /dev/null
for f in lib/librdpart.so.0 lib/librdpart.so lib/librdpart.a include/rdpart.h lib/pkgconfig/rdpart.pc; do
  [ -e "$prefix/$f" ] || { echo "make install did not install $f"; exit 1; }
done
[ "$(readlink "$prefix/lib/librdpart.so")" = librdpart.so.0 ] || { echo "librdpart.so is not a link to librdpart.so.0"; exit 1; }
readelf -d "$prefix/lib/librdpart.so.0" | grep -q 'SONAME.*\[librdpart.so.0\]' || { echo "SONAME is not librdpart.so.0"; exit 1; }
make -s install PREFIX=/usr/local DESTDIR="$tmp/stage" > /dev/null
[ -e "$tmp/stage/usr/local/lib/librdpart.so.0" ] && grep -q '^prefix=/usr/local$' "$tmp/stage/usr/local/lib/pkgconfig/rdpart.pc" ||
  { echo "DESTDIR staging is wrong"; exit 1; }
echo "ok: installed files, SONAME librdpart.so.0, DESTDIR staging"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cp examples-c/producer.c "$tmp/"
cd "$tmp"
cflags=(-O2 -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -pthread)
# shellcheck disable=SC2046
cc "${cflags[@]}" -o producer producer.c $(pkg-config --cflags --libs rdpart rdkafka)
readelf -d producer | grep -q 'NEEDED.*librdpart.so.0' || { echo "not linked to librdpart.so.0"; exit 1; }
LD_LIBRARY_PATH="$prefix/lib" timeout 120 ./producer murmur2 --quiet | tail -n 1
LD_LIBRARY_PATH="$prefix/lib" timeout 120 ./producer round_robin --plugin --quiet 2> /dev/null | tail -n 1
echo "ok: built out of tree with pkg-config --cflags --libs rdpart rdkafka; callback and plugin (bare name)"

# Static: the archive and what it needs from the system (Libs.private).
# shellcheck disable=SC2046
cc "${cflags[@]}" -o producer-static producer.c $(pkg-config --cflags rdpart rdkafka) \
  "$prefix/lib/librdpart.a" $(pkg-config --static --libs-only-l rdpart | sed 's/-lrdpart//') \
  $(pkg-config --libs rdkafka)
if ldd producer-static | grep -q rdpart; then echo "the static program loads librdpart.so"; exit 1; fi
timeout 120 ./producer-static sticky --failover 2 --quiet | tail -n 2
echo "ok: linked statically with librdpart.a; it uses the program's librdkafka"
