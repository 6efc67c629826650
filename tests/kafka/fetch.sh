#!/usr/bin/env bash
# Apache Kafka for the tests: the broker (kafka_2.13) and the Java client,
# with their runtime dependencies, into target/kafka/lib, with Maven (its
# own cache, ~/.m2, is reused). Nothing is built. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' tests/kafka/pom.xml)
lib=target/kafka/lib
if [ -f "$lib/kafka_2.13-$version.jar" ] && [ -f "$lib/.complete-$version" ]; then
  exit 0
fi
echo "setup: Apache Kafka $version and its dependencies, with Maven (into $lib)"
rm -rf "$lib"
mkdir -p "$lib"
if ! mvn -q -B -f tests/kafka/pom.xml dependency:copy-dependencies \
      -DoutputDirectory="$PWD/$lib" -DincludeScope=runtime > target/kafka/fetch.log 2>&1; then
  echo "setup: fetching Apache Kafka $version with Maven failed:" >&2
  grep -E 'ERROR|Could not' target/kafka/fetch.log | head -n 20 >&2
  exit 1
fi
touch "$lib/.complete-$version"
