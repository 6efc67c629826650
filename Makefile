# rdpart: the two commands of the README, and a few helpers.
#   make demo    the C and Python examples on librdkafka's embedded mock cluster
#   make test    every test (installs what it needs)
#   make bench   every benchmark, as markdown tables (see BENCHMARKS.md)

STRATEGIES := murmur2 murmur2_random consistent consistent_random fnv1a fnv1a_random jump random round_robin sticky

demo:
	@.ci/setup.sh
	@cargo build -q --release
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

.PHONY: demo test bench header
