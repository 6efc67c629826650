/*
 * The plugin from C, through plugin.library.paths, with the system
 * librdkafka: configuration errors, rd_kafka_conf_dup(), and many
 * create/destroy cycles (run under valgrind for leaks).
 *
 *   plugin_test PLUGIN_PATH [CYCLES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "check.h"

static const char *plugin;

static rd_kafka_conf_t *conf_with_plugin(void) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
        if (rd_kafka_conf_set(conf, "plugin.library.paths", plugin, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
                fprintf(stderr, "cannot load %s: %s\n", plugin, errstr);
                exit(1);
        }
        return conf;
}

static void expect_invalid(const char *name, const char *value, const char *must_contain) {
        char errstr[512] = "";
        rd_kafka_conf_t *conf = conf_with_plugin();
        rd_kafka_conf_res_t r = rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr));
        CHECK(r == RD_KAFKA_CONF_INVALID, "%s=%s gave %d", name, value, r);
        CHECK(strstr(errstr, name) && strstr(errstr, must_contain), "%s=%s: message \"%s\"", name,
              value, errstr);
        rd_kafka_conf_destroy(conf);
}

static void get(rd_kafka_conf_t *conf, const char *name, char *out, size_t size) {
        if (rd_kafka_conf_get(conf, name, out, &size) != RD_KAFKA_CONF_OK)
                snprintf(out, size, "?");
}

int main(int argc, char **argv) {
        char errstr[512], v[64];
        if (argc < 2) {
                fprintf(stderr, "usage: plugin_test PLUGIN_PATH [CYCLES]\n");
                return 2;
        }
        plugin = argv[1];
        int cycles = argc > 2 ? atoi(argv[2]) : 1000;

        /* Bad input: the property and the allowed values are named. */
        expect_invalid("rdpart.strategy", "murmur3", "round_robin");
        expect_invalid("rdpart.sticky.messages", "0", "from 1 to 2147483647");
        expect_invalid("rdpart.sticky.linger.ms", "x", "from 0 to 900000");
        expect_invalid("rdpart.nonsense", "1", "rdpart.strategy");
        expect_invalid("rdpart.rack.aware", "yes", "true or false");
        if (rd_kafka_version() < 0x020300ff) /* no DescribeTopics: no racks to learn */
                expect_invalid("rdpart.rack.aware", "true", "librdkafka 2.3.0 or later");
        expect_invalid("partitioner", "murmur2", "rdpart.strategy");

        /* librdkafka's own sticky step is off; the user's value is rdpart's. */
        rd_kafka_conf_t *conf = conf_with_plugin();
        CHECK(rd_kafka_conf_set(conf, "rdpart.strategy", "jump", errstr, sizeof(errstr)) ==
                  RD_KAFKA_CONF_OK,
              "%s", errstr);
        CHECK(rd_kafka_conf_set(conf, "sticky.partitioning.linger.ms", "25", errstr,
                                sizeof(errstr)) == RD_KAFKA_CONF_OK,
              "%s", errstr);
        get(conf, "sticky.partitioning.linger.ms", v, sizeof(v));
        CHECK(!strcmp(v, "0"), "librdkafka's sticky.partitioning.linger.ms is %s, not 0", v);
        /* Topic properties set later keep the partitioner. */
        CHECK(rd_kafka_conf_set(conf, "acks", "all", errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK,
              "%s", errstr);
        rd_kafka_conf_t *dup = rd_kafka_conf_dup(conf);
        rd_kafka_conf_destroy(conf); /* the copy must not depend on the original */
        get(dup, "sticky.partitioning.linger.ms", v, sizeof(v));
        CHECK(!strcmp(v, "0"), "dup: sticky.partitioning.linger.ms is %s", v);
        rd_kafka_topic_conf_t *tc = rd_kafka_conf_get_default_topic_conf(dup);
        CHECK(tc != NULL, "dup has no default topic conf");
        get(dup, "acks", v, sizeof(v)); /* a topic property through the global conf */
        CHECK(!strcmp(v, "all") || !strcmp(v, "-1"), "acks is %s", v);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, dup, errstr, sizeof(errstr));
        CHECK(rk != NULL, "producer from a dup'ed conf: %s", errstr);
        if (rk)
                rd_kafka_destroy(rk);

        /* Create/destroy cycles: confs, dups, producers (valgrind: no leak). */
        for (int i = 0; i < cycles; i++) {
                rd_kafka_conf_t *c = conf_with_plugin();
                rd_kafka_conf_set(c, "rdpart.strategy", i % 2 ? "sticky" : "round_robin", NULL, 0);
                rd_kafka_conf_t *d = rd_kafka_conf_dup(c);
                rd_kafka_conf_destroy(c);
                if (i % 2 == 0) {
                        rd_kafka_t *p = rd_kafka_new(RD_KAFKA_PRODUCER, d, errstr, sizeof(errstr));
                        CHECK(p != NULL, "cycle %d: %s", i, errstr);
                        if (p)
                                rd_kafka_destroy(p);
                        else
                                rd_kafka_conf_destroy(d);
                } else {
                        rd_kafka_conf_destroy(d);
                }
        }
        printf("plugin_test: %d cycles\n", cycles);
        return finish("plugin_test");
}
