# rdpart: the two commands of the README, and a few helpers.
#   make demo    the C and Python examples on librdkafka's embedded mock cluster
#   make test    every test (installs what it needs)
#   make bench   every benchmark, as markdown tables (see BENCHMARKS.md)
#   make install PREFIX=/usr/local [DESTDIR=...]
#                lib/librdpart.so.0 (SONAME librdpart.so.0) and its
#                librdpart.so link, lib/librdpart.a, include/rdpart.h,
#                lib/pkgconfig/rdpart.pc

STRATEGIES := murmur2 murmur2_random consistent consistent_random fnv1a fnv1a_random jump random round_robin sticky

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
	@for s in $(STRATEGIES); do examples-c/producer $$s --quiet || exit 1; echo; done
	@echo "== the same through the plugin, from Python (confluent-kafka):"
	@python3 examples-python/producer.py jump

test:
	@tests/run_all.sh

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

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/librdpart.so.0 $(DESTDIR)$(LIBDIR)/librdpart.so $(DESTDIR)$(LIBDIR)/librdpart.a \
	  $(DESTDIR)$(INCLUDEDIR)/rdpart.h $(DESTDIR)$(LIBDIR)/pkgconfig/rdpart.pc

.PHONY: lib demo test bench header install uninstall
