#!/usr/bin/env bash
# Builds @confluentinc/kafka-javascript 1.10.1 from the sources in its npm
# package into target/node-kjs (tests/python/test_node_wrapper.py uses it).
# Its install script, `node-pre-gyp install --fallback-to-build`, first
# downloads a prebuilt binary from the project's GitHub releases
# (github.com/confluentinc/confluent-kafka-javascript), which this machine
# cannot reach; so the package is installed with --ignore-scripts and built
# here with node-gyp against the node headers of the machine (nodedir), and
# the librdkafka sources the package carries (deps/librdkafka, 2.15.1).
#
# librdkafka is built the package's own way for CKJS_LINKING=dynamic
# (util/configure.js, deps/librdkafka.gyp): `./configure` without options,
# so it takes the system's OpenSSL and zlib when their headers are there and
# leaves out what is missing (SASL/GSSAPI, zstd, libcurl), as a shared
# build/deps/librdkafka.so.1 that the addon finds by its rpath
# ($ORIGIN/../deps). The default, static linking, configures librdkafka with
# --install-deps --source-deps-only, which downloads the sources of OpenSSL,
# zlib, zstd, cyrus-sasl and curl from their projects' servers: out of reach
# here. A shared librdkafka also exports its functions, which the rdpart
# plugin looks up in the librdkafka that loads it.
#
# Idempotent: a finished build (a stamp plus an addon that loads) is kept.
# Exits non-zero with a message saying which step failed.
#   tests/node/build_kafka_javascript.sh
set -euo pipefail

VERSION=1.10.1
LIBRDKAFKA=2.15.1
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${KJS_CACHE:-$ROOT/target/node-kjs}
PKG=$CACHE/node_modules/@confluentinc/kafka-javascript
ADDON=$PKG/build/Release/confluent-kafka-javascript.node
STAMP=$CACHE/.built-$VERSION
LOG=$CACHE/build.log
JOBS=${JOBS:-2}

fail() { echo "build_kafka_javascript.sh: $*" >&2; exit 1; }

# Loads the addon and checks its librdkafka: prints its version.
check_load() {
  KJS_DIR=$PKG WANT=$LIBRDKAFKA node -e '
    const k = require(process.env.KJS_DIR)
    if (k.librdkafkaVersion !== process.env.WANT)
      throw new Error(`its librdkafka is ${k.librdkafkaVersion}, expected ${process.env.WANT}`)
    if (typeof k.KafkaJS.Kafka !== "function") throw new Error("no KafkaJS.Kafka")
    process.stdout.write(k.librdkafkaVersion)'
}

if [ -f "$STAMP" ] && [ -f "$ADDON" ] && check_load >/dev/null 2>&1; then
  echo "build_kafka_javascript.sh: kafka-javascript $VERSION already built in $PKG"
  exit 0
fi

# --- Tools: node-gyp builds with python3, make, gcc and g++ against the node
# headers; librdkafka's configure wants a C compiler and make too. ---
missing=()
for tool in node npm python3 make gcc g++ pkg-config; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] || fail "missing tools: ${missing[*]} (Debian: apt-get install nodejs npm python3 make gcc g++ pkg-config)"
node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' \
  || fail "node $(node --version) is too old: kafka-javascript $VERSION needs node >= 18"

NODEDIR=${NODEDIR:-$(npm config get nodedir 2>/dev/null || true)}
[ -n "$NODEDIR" ] && [ "$NODEDIR" != undefined ] && [ "$NODEDIR" != null ] || NODEDIR=/usr
[ -f "$NODEDIR/include/node/node.h" ] && [ -f "$NODEDIR/include/node/common.gypi" ] \
  || fail "no node headers in $NODEDIR/include/node (node.h, common.gypi): set NODEDIR, or install them (Debian: libnode-dev); node-gyp would otherwise download them"
echo 'int main(void){return 0;}' | gcc -x c -o /dev/null - -lz 2>/dev/null \
  || fail "zlib's headers or library are missing (Debian: apt-get install zlib1g-dev)"

# node-gyp: the one npm carries (npm runs it for install scripts), else one
# on PATH.
NODE_GYP=${NODE_GYP:-}
if [ -z "$NODE_GYP" ]; then
  for c in "$(npm root -g 2>/dev/null)/npm/node_modules/node-gyp/bin/node-gyp.js" \
           "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js"; do
    [ -f "$c" ] && { NODE_GYP=$c; break; }
  done
fi
if [ -z "$NODE_GYP" ] && command -v node-gyp >/dev/null 2>&1; then NODE_GYP=$(command -v node-gyp); fi
[ -n "$NODE_GYP" ] || fail "node-gyp not found (npm's own copy, or node-gyp on PATH; or set NODE_GYP)"

mkdir -p "$CACHE"
: >"$LOG"
start=$(date +%s)

step() {
  local name=$1; shift
  echo "build_kafka_javascript.sh: $name" | tee -a "$LOG"
  "$@" >>"$LOG" 2>&1 || {
    local rc=$?
    tail -n 40 "$LOG" >&2
    fail "step '$name' failed (exit $rc; full log: $LOG)"
  }
}

# --- 1. The package and its dependencies (nan, bindings, @mapbox/node-pre-gyp,
# tar, js-yaml) from the npm registry, without running its install script
# (the binary download). ---
rm -f "$STAMP"
[ -f "$CACHE/package.json" ] || echo '{"name": "rdpart-node-kjs", "private": true}' >"$CACHE/package.json"
step "npm install @confluentinc/kafka-javascript@$VERSION --ignore-scripts" \
  npm install --prefix "$CACHE" --ignore-scripts --no-audit --no-fund --loglevel=error \
  "@confluentinc/kafka-javascript@$VERSION"
[ -f "$PKG/binding.gyp" ] && [ -f "$PKG/deps/librdkafka/configure" ] \
  || fail "the installed package has no binding.gyp or deps/librdkafka sources ($PKG)"
grep -q "\"version\": \"$VERSION\"" "$PKG/package.json" || fail "npm installed another version than $VERSION in $PKG"

# --- 2. The addon and librdkafka. deps/librdkafka.gyp runs librdkafka's make
# with a bare `-j` (as many jobs as files); a `make` first on PATH turns that
# one argument into -j$JOBS so that a small machine is not swamped. ---
WRAP=$CACHE/bin
mkdir -p "$WRAP"
REAL_MAKE=$(command -v make)
cat >"$WRAP/make" <<EOF
#!/usr/bin/env bash
# Written by tests/node/build_kafka_javascript.sh: a bare -j becomes -j$JOBS.
args=()
for a in "\$@"; do [ "\$a" = -j ] && args+=(-j$JOBS) || args+=("\$a"); done
exec "$REAL_MAKE" "\${args[@]}"
EOF
chmod +x "$WRAP/make"

# In a parallel make, the addon's rules race the configure action that
# writes deps/librdkafka/config.h ("No rule to make target
# '../deps/librdkafka/config.h'"): librdkafka's gyp target is made first, on
# its own, then the rest in parallel.
(
  cd "$PKG"
  export PATH="$WRAP:$PATH" CKJS_LINKING=dynamic BUILD_LIBRDKAFKA=1
  rm -rf build
  step "node-gyp configure (nodedir $NODEDIR, CKJS_LINKING=dynamic)" \
    node "$NODE_GYP" configure --nodedir="$NODEDIR"
  step "librdkafka $LIBRDKAFKA from deps/librdkafka (configure and make, as deps/librdkafka.gyp does)" \
    make -C build BUILDTYPE=Release librdkafka
  step "node-gyp build (the addon)" \
    node "$NODE_GYP" build --nodedir="$NODEDIR" --jobs="$JOBS"
)
[ -f "$ADDON" ] || fail "node-gyp finished but left no $ADDON (log: $LOG)"

# --- 3. The addon loads the librdkafka it was built with, not another one on
# the machine (Debian's librdkafka1 is older). ---
so=$(ldd "$ADDON" | awk '/librdkafka\.so/ {print $3; exit}')
[ "$(readlink -f "$so")" = "$(readlink -f "$PKG/build/deps/librdkafka.so.1")" ] \
  || fail "the addon resolves librdkafka.so.1 to '$so', not to $PKG/build/deps/librdkafka.so.1"
got=$(check_load 2>&1) || fail "the built addon does not load: $got"

echo "$ADDON librdkafka $got" >"$STAMP"
echo "build_kafka_javascript.sh: built kafka-javascript $VERSION (librdkafka $got) in $(( $(date +%s) - start ))s: $PKG"
