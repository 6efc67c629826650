/*
 * End-to-end producer throughput on librdkafka's mock cluster: an rdpart
 * partitioner against librdkafka's built-in one, same messages, same run.
 *
 *   e2e_bench MODE MESSAGES
 *     MODE: builtin-murmur2_random | rdpart-murmur2_random   (keyed)
 *           builtin-sticky | rdpart-sticky | rdpart-sticky-10ms |
 *           plugin-sticky | plugin-adaptive                  (keyless)
 *
 * builtin-sticky is librdkafka's default partitioner with its own sticky
 * step for keyless messages (sticky.partitioning.linger.ms default);
 * rdpart-sticky is rdpart_sticky as callback (linger 0 so it sees them),
 * rdpart-sticky-10ms switches on time only, like librdkafka's step (no
 * 1000-message limit); plugin-sticky and plugin-adaptive are rdpart through
 * plugin.library.paths.
 * Prints messages/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "rdpart.h"

static long delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (m->err)
                failed++;
        else
                delivered++;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
        char err[512];
        if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s: %s\n", k, err);
                exit(2);
        }
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: e2e_bench MODE MESSAGES\n");
                return 2;
        }
        const char *mode = argv[1];
        long messages = atol(argv[2]);
        int keyed = strstr(mode, "murmur2") != NULL;
        char err[512];
        rdpart_t *part = NULL;

        rd_kafka_conf_t *mconf = rd_kafka_conf_new();
        set(mconf, "log_level", "3");
        rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof(err));
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 3);
        rd_kafka_mock_topic_create(mc, "bench", 6, 1);

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc));
        set(conf, "linger.ms", "5");
        set(conf, "queue.buffering.max.messages", "1000000");
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        if (!strcmp(mode, "builtin-murmur2_random")) {
                if (rd_kafka_topic_conf_set(tconf, "partitioner", "murmur2_random", err, sizeof(err)))
                        return 2;
        } else if (!strcmp(mode, "rdpart-murmur2_random")) {
                rd_kafka_topic_conf_set_partitioner_cb(tconf, rdpart_murmur2_random);
        } else if (!strcmp(mode, "builtin-sticky")) {
                /* librdkafka's default partitioner and sticky step */
        } else if (!strcmp(mode, "rdpart-sticky")) {
                set(conf, "sticky.partitioning.linger.ms", "0");
                rd_kafka_topic_conf_set_partitioner_cb(tconf, rdpart_sticky);
        } else if (!strcmp(mode, "rdpart-sticky-10ms")) {
                set(conf, "sticky.partitioning.linger.ms", "0");
                rdpart_conf_t *pc = rdpart_conf_new();
                rdpart_conf_set(pc, "strategy", "sticky", NULL, 0);
                rdpart_conf_set(pc, "sticky.messages", "2147483647", NULL, 0);
                part = rdpart_new(pc, NULL, 0);
                rdpart_conf_destroy(pc);
                rd_kafka_topic_conf_set_partitioner_cb(tconf, rdpart_partition);
                rd_kafka_topic_conf_set_opaque(tconf, part);
        } else if (!strncmp(mode, "plugin-", 7)) {
                set(conf, "plugin.library.paths", "librdpart");
                set(conf, "rdpart.strategy", mode + 7);
        } else {
                fprintf(stderr, "unknown mode %s\n", mode);
                return 2;
        }
        if (!strncmp(mode, "plugin-", 7))
                rd_kafka_topic_conf_destroy(tconf);
        else
                rd_kafka_conf_set_default_topic_conf(conf, tconf);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "%s\n", err);
                return 2;
        }
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "bench", NULL);
        const struct rd_kafka_metadata *md;
        if (!rd_kafka_metadata(rk, 0, rkt, &md, 10000))
                rd_kafka_metadata_destroy(md);

        char value[100];
        memset(value, 'v', sizeof(value));
        char key[16];
        double t0 = now();
        for (long i = 0; i < messages; i++) {
                int klen = keyed ? snprintf(key, sizeof(key), "k%ld", i % 10000) : 0;
                while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value,
                                        sizeof(value), keyed ? key : NULL, (size_t)klen,
                                        NULL) == -1)
                        rd_kafka_poll(rk, 1);
                if ((i & 1023) == 0)
                        rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 120000);
        double secs = now() - t0;
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(mrk);
        rdpart_destroy(part);
        if (delivered != messages || failed) {
                fprintf(stderr, "%s: delivered %ld of %ld, %ld failed\n", mode, delivered, messages,
                        failed);
                return 1;
        }
        printf("%s %.0f\n", mode, messages / secs);
        return 0;
}
