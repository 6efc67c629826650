#!/usr/bin/env bash
# The Python package as users get it: `make wheel` (manylinux2014, checked
# with auditwheel and by the glibc versions its library needs), installed
# into a fresh venv with no Rust on PATH and used from another directory;
# and `pip install ./examples-python` from the repository in another fresh
# venv, with no environment variables, which builds the library itself.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset RDPART_LIBRARY CARGO_TARGET_DIR

make -s wheel > /dev/null
whl=$(ls target/wheels/rdpart-*.whl)
case "$whl" in *manylinux2014_x86_64*) ;; *) echo "not a manylinux2014 wheel: $whl"; exit 1 ;; esac
python3 -m auditwheel show "$whl" | tr -s ' \n' ' ' | grep -q 'consistent with the following platform tag: "manylinux_2_17_x86_64"' ||
  { python3 -m auditwheel show "$whl"; exit 1; }
mkdir "$tmp/unpacked"
(cd "$tmp/unpacked" && python3 -m zipfile -e "$root/$whl" .)
so=$(ls "$tmp"/unpacked/rdpart/librdpart*.so)
newest=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
[ "$(printf '%s\n2.17\n' "$newest" | sort -V | tail -n 1)" = 2.17 ] ||
  { echo "the wheel's library needs glibc $newest, newer than manylinux2014's 2.17"; exit 1; }
readelf -d "$so" | grep -q 'FLAGS_1.*NODELETE' || { echo "the wheel's library is not -z nodelete"; exit 1; }
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ "$(ls "$tmp/unpacked")" = "$(printf 'rdpart\nrdpart-%s.dist-info' "$version")" ] ||
  { echo "the wheel installs more than the rdpart package:"; ls "$tmp/unpacked"; exit 1; }
echo "ok: $(basename "$whl"): auditwheel manylinux_2_17, library needs glibc <= $newest, only rdpart/ inside"

# A producer through the plugin, from a directory that is not the checkout.
cat > "$tmp/use.py" <<'PY'
import sys
import confluent_kafka
from confluent_kafka import Producer
import rdpart
import rdpart.mock

assert "site-packages" in rdpart.library_path(), rdpart.library_path()
import importlib.metadata
assert rdpart.__version__ == importlib.metadata.version("rdpart"), rdpart.__version__
assert rdpart.partition("murmur2", b"kafka", 6) == confluent_kafka.murmur2(b"kafka", 6)
with rdpart.mock.MockCluster(3) as mc:
    mc.create_topic("wheel", 6)
    p = Producer({"bootstrap.servers": mc.bootstrap_servers, **rdpart.config("murmur2")})
    got = []
    for i in range(600):
        key = b"key-%d" % i
        p.produce("wheel", key=key, value=b"v", on_delivery=lambda e, m: got.append((e, m.key(), m.partition())))
    assert p.flush(30) == 0
bad = [k for e, k, q in got if e or q != confluent_kafka.murmur2(k, 6)]
assert len(got) == 600 and not bad, (len(got), bad[:5])
print("ok: %s: 600 messages placed by rdpart %s, from %s" % (sys.argv[1], rdpart.library_path(), sys.prefix))
PY

# The wheel's venv stays, at target/cli-venv: tests/python/test_cli.py runs
# the rdpart command from it. With the verify extra (confluent-kafka, tqdm)
# and the plot extra (matplotlib, for rdpart skew --plot).
venv=$root/target/cli-venv
rm -rf "$venv"
python3 -m venv "$venv"
# No Rust on PATH: the wheel carries the library.
env PATH="$venv/bin:/usr/bin:/bin" "$venv/bin/python" -m pip install -q \
  --disable-pip-version-check "$root/$whl[verify,plot]" 'confluent-kafka==2.16.1'
(cd "$tmp" && "$venv/bin/python" use.py "the wheel, installed without Rust" 2> /dev/null)
deps=$("$venv/bin/python" -m pip show rdpart | sed -n 's/^Requires: *//p')
[ -z "$deps" ] || { echo "rdpart requires $deps"; exit 1; }
(cd "$tmp" && env -i PATH="$venv/bin:/usr/bin:/bin" rdpart place murmur2 6 kafka > /dev/null) ||
  { echo "the wheel's rdpart command does not run"; exit 1; }

python3 -m venv "$tmp/venv-source"
"$tmp/venv-source/bin/python" -m pip install -q --disable-pip-version-check ./examples-python 'confluent-kafka==2.16.1'
(cd "$tmp" && "$tmp/venv-source/bin/python" use.py "pip install ./examples-python" 2> /dev/null)
