/*
 * rdpart example: produce keyed and keyless messages with an rdpart
 * strategy, then read the topic back and check that nothing was lost or
 * duplicated and that every key stayed in one partition, in order.
 *
 *   producer STRATEGY [--brokers HOST:PORT] [--topic T] [--partitions N]
 *            [--messages N] [--keys N] [--threads N] [--failover P]
 *            [--plugin] [--quiet]
 *
 * Without --brokers it starts librdkafka's embedded mock cluster (3
 * brokers) and creates the topic there. --plugin installs rdpart through
 * `plugin.library.paths` instead of rd_kafka_topic_conf_set_partitioner_cb.
 * --threads N produces from N threads at once (each key from one thread).
 * --failover P (mock cluster) takes partition P's leader away for the middle
 * third of the run, then gives it back; strategies that place keyless
 * messages must put none there meanwhile.
 * Exit status: 0 when the check passed, 1 otherwise, 2 on bad usage.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "rdpart.h"

#define MAXP 256

static long per_partition[2][MAXP]; /* [keyed][partition] delivered */
static long delivery_errors;

/* --failover P (mock cluster): partition P has no leader while messages
 * [down_from, down_to) are produced. */
static int failover_partition = -1;
static long down_from = -1, down_to = -1;
static long keyless_on_down, keyed_for_down;

/* An independent oracle for keyed placement: librdkafka's own partitioner
 * for the same algorithm (jump has none in librdkafka: rdpart_jump called
 * directly). NULL for random and round_robin, which ignore keys, and for
 * kafkajs_legacy and sarama_reference, whose hashes librdkafka lacks (the
 * Python tests check them against the clients' own code). */
typedef int32_t(partitioner_f)(const rd_kafka_topic_t *, const void *, size_t, int32_t, void *,
                               void *);
static partitioner_f *oracle;
static int32_t partition_cnt;
static long oracle_checked, oracle_mismatch;

static partitioner_f *oracle_for(const char *s) {
        if (!strncmp(s, "murmur2", 7) || !strcmp(s, "sticky") || !strcmp(s, "kafkajs") ||
            !strcmp(s, "adaptive"))
                return rd_kafka_msg_partitioner_murmur2;
        if (!strncmp(s, "consistent", 10) || !strcmp(s, "sarama_crc"))
                return rd_kafka_msg_partitioner_consistent;
        if (!strncmp(s, "fnv1a", 5) || !strcmp(s, "kafka_go_hash"))
                return rd_kafka_msg_partitioner_fnv1a;
        if (!strcmp(s, "jump"))
                return rdpart_jump;
        return NULL;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (m->err) {
                if (delivery_errors++ < 5)
                        fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
        } else if (m->partition >= 0 && m->partition < MAXP) {
                per_partition[m->key != NULL][m->partition]++;
                /* The message index: the digits after the value's last ':'
                 * (the payload is not NUL-terminated). */
                const char *v = m->payload, *end = v + m->len, *c = end;
                long idx = -1;
                while (c > v && c[-1] != ':')
                        c--;
                if (c > v && c < end)
                        for (idx = 0; c < end && *c >= '0' && *c <= '9'; c++)
                                idx = idx * 10 + (*c - '0');
                if (idx >= down_from && idx < down_to && m->partition == failover_partition) {
                        if (m->key)
                                keyed_for_down++;
                        else
                                keyless_on_down++;
                }
                if (m->key && oracle) {
                        oracle_checked++;
                        if (oracle(NULL, m->key, m->key_len, partition_cnt, NULL, NULL) !=
                            m->partition)
                                oracle_mismatch++;
                }
        }
}

static void die(const char *what, const char *why) {
        fprintf(stderr, "%s: %s\n", what, why);
        exit(2);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
        char errstr[512];
        if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
                die(name, errstr);
}

/* Read every partition from the beginning and check the messages. */
static int verify(const char *brokers, const char *topic, int partitions, long keyed,
                  long keyless, int nkeys, int by_key, int quiet) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", brokers);
        set(conf, "group.id", "rdpart-example-check");
        set(conf, "enable.auto.commit", "false");
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk)
                die("consumer", errstr);
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
        for (int p = 0; p < partitions; p++)
                rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(rk, parts);
        rd_kafka_topic_partition_list_destroy(parts);

        long *next_seq = calloc((size_t)nkeys, sizeof(long));
        int *key_partition = malloc((size_t)nkeys * sizeof(int));
        unsigned char *seen = calloc((size_t)(keyed + keyless), 1);
        long counts[MAXP] = {0};
        long got = 0, dup = 0, out_of_order = 0, split_keys = 0, bad = 0;
        for (int k = 0; k < nkeys; k++)
                key_partition[k] = -1;
        int idle = 0;
        while (got < keyed + keyless && idle < 100) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m) {
                        idle++;
                        continue;
                }
                idle = 0;
                if (m->err) {
                        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                fprintf(stderr, "consume: %s\n", rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        continue;
                }
                got++;
                counts[m->partition]++;
                char v[64] = {0};
                memcpy(v, m->payload, m->len < 63 ? m->len : 63);
                int k;
                long seq, idx;
                if (m->key && sscanf(v, "k%d:%ld:%ld", &k, &seq, &idx) == 3 && k >= 0 &&
                    k < nkeys && idx >= 0 && idx < keyed + keyless) {
                        if (seen[idx]++)
                                dup++;
                        if (by_key) { /* random, round_robin: no per-key promise */
                                if (key_partition[k] == -1)
                                        key_partition[k] = m->partition;
                                else if (key_partition[k] != m->partition)
                                        split_keys++;
                                if (seq != next_seq[k])
                                        out_of_order++;
                        }
                        if (seq >= next_seq[k])
                                next_seq[k] = seq + 1;
                } else if (!m->key && sscanf(v, "n:%ld", &idx) == 1 && idx >= 0 &&
                           idx < keyed + keyless) {
                        if (seen[idx]++)
                                dup++;
                } else {
                        bad++;
                }
                rd_kafka_message_destroy(m);
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);

        long lost = 0;
        for (long i = 0; i < keyed + keyless; i++)
                lost += !seen[i];
        if (!quiet) {
                printf("read back %ld messages:", got);
                for (int p = 0; p < partitions; p++)
                        printf(" p%d=%ld", p, counts[p]);
                printf("\n");
        }
        int ok = lost == 0 && dup == 0 && out_of_order == 0 && split_keys == 0 && bad == 0;
        if (ok)
                printf("0 lost, 0 duplicated, per-key order kept\n");
        else
                printf("CHECK FAILED: %ld lost, %ld duplicated, %ld out of order, %ld keys in "
                       "several partitions, %ld unparsable\n",
                       lost, dup, out_of_order, split_keys, bad);
        free(next_seq);
        free(key_partition);
        free(seen);
        return ok;
}

#define MAXT 64
static int threads_done;

static rd_kafka_mock_cluster_t *mc;

/* Wait until this producer sees partition p of topic with (or without) a
 * leader, then a moment for librdkafka to apply it. */
static void wait_leader(rd_kafka_t *rk, const char *topic, int p, int want_leader) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        for (int tries = 0; tries < 300; tries++) {
                const struct rd_kafka_metadata *md = NULL;
                int leader = -2;
                if (!rd_kafka_metadata(rk, 0, rkt, &md, 5000)) {
                        if (md->topic_cnt == 1 && p < md->topics[0].partition_cnt)
                                leader = md->topics[0].partitions[p].leader;
                        rd_kafka_metadata_destroy(md);
                }
                if ((leader >= 0) == want_leader)
                        break;
                struct timespec ms = {0, 100000000};
                nanosleep(&ms, NULL);
        }
        rd_kafka_topic_destroy(rkt);
        struct timespec wait = {0, 200000000};
        nanosleep(&wait, NULL);
}

struct job {
        rd_kafka_t *rk;
        const char *topic;
        long messages;
        int nkeys, threads, id;
        long *seq;
};

static void *produce_share(void *arg) {
        struct job *j = arg;
        long keyless_seen = 0;
        for (long i = 0; i < j->messages; i++) {
                char key[32], value[64];
                int k = (int)(i % (2 * j->nkeys));
                if (failover_partition >= 0 && i == j->messages / 3) {
                        rd_kafka_mock_partition_set_leader(mc, j->topic, failover_partition, -1);
                        wait_leader(j->rk, j->topic, failover_partition, 0);
                        down_from = i;
                } else if (failover_partition >= 0 && i == 2 * j->messages / 3) {
                        down_to = i;
                        rd_kafka_mock_partition_set_leader(mc, j->topic, failover_partition, 1);
                        wait_leader(j->rk, j->topic, failover_partition, 1);
                }
                const void *kp = NULL;
                size_t klen = 0;
                rd_kafka_resp_err_t err;
                if (k < j->nkeys) {
                        if (k % j->threads != j->id)
                                continue;
                        snprintf(key, sizeof(key), "key-%d", k);
                        snprintf(value, sizeof(value), "k%d:%ld:%ld", k, j->seq[k]++, i);
                        kp = key;
                        klen = strlen(key);
                } else {
                        if (keyless_seen++ % j->threads != j->id)
                                continue;
                        snprintf(value, sizeof(value), "n:%ld", i);
                }
                while ((err = rd_kafka_producev(j->rk, RD_KAFKA_V_TOPIC(j->topic),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                RD_KAFKA_V_KEY(kp, klen),
                                                RD_KAFKA_V_VALUE(value, strlen(value)),
                                                RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                        struct timespec ms = {0, 1000000};
                        nanosleep(&ms, NULL);
                }
                if (err)
                        die("produce", rd_kafka_err2str(err));
        }
        __atomic_add_fetch(&threads_done, 1, __ATOMIC_RELEASE);
        return NULL;
}

int main(int argc, char **argv) {
        const char *strategy = NULL, *brokers = NULL, *topic = "rdpart-example";
        int partitions = 6, nkeys = 1000, use_plugin = 0, quiet = 0, threads = 1;
        long messages = 20000;
        char errstr[512];

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!strcmp(a, "--brokers") && v)
                        brokers = argv[++i];
                else if (!strcmp(a, "--topic") && v)
                        topic = argv[++i];
                else if (!strcmp(a, "--partitions") && v)
                        partitions = atoi(argv[++i]);
                else if (!strcmp(a, "--messages") && v)
                        messages = atol(argv[++i]);
                else if (!strcmp(a, "--keys") && v)
                        nkeys = atoi(argv[++i]);
                else if (!strcmp(a, "--threads") && v)
                        threads = atoi(argv[++i]);
                else if (!strcmp(a, "--failover") && v)
                        failover_partition = atoi(argv[++i]);
                else if (!strcmp(a, "--plugin"))
                        use_plugin = 1;
                else if (!strcmp(a, "--quiet"))
                        quiet = 1;
                else if (a[0] != '-' && !strategy)
                        strategy = a;
                else
                        die("usage", "producer STRATEGY [--brokers B] [--topic T] [--partitions N] "
                                     "[--messages N] [--keys N] [--threads N] [--failover P] [--plugin] "
                                     "[--quiet]");
        }
        if (!strategy)
                strategy = "sticky";
        if (failover_partition >= 0 && (brokers || threads != 1 ||
                                        failover_partition >= partitions))
                die("usage", "--failover P needs the mock cluster, one thread, P < partitions");
        if (partitions < 1 || partitions > MAXP || nkeys < 1 || messages < 2 || threads < 1 ||
            threads > MAXT)
                die("usage", "need 1 <= partitions <= 256, keys >= 1, messages >= 2, "
                             "1 <= threads <= 64");

        /* Check the strategy name with rdpart itself: it names the allowed values. */
        rdpart_conf_t *pconf = rdpart_conf_new();
        if (rdpart_conf_set(pconf, "strategy", strategy, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
                die("strategy", errstr);

        oracle = oracle_for(strategy);
        partition_cnt = partitions;
        rd_kafka_t *mock_rk = NULL;
        if (!brokers) {
                rd_kafka_conf_t *mconf = rd_kafka_conf_new();
                set(mconf, "log_level", "3");
                mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof(errstr));
                if (!mock_rk)
                        die("mock", errstr);
                mc = rd_kafka_mock_cluster_new(mock_rk, 3);
                if (!mc)
                        die("mock", "cannot start the mock cluster");
                rd_kafka_mock_topic_create(mc, topic, partitions, 1);
                brokers = strdup(rd_kafka_mock_cluster_bootstraps(mc));
        }

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", brokers);
        set(conf, "enable.idempotence", "true");
        set(conf, "linger.ms", "5");
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rdpart_t *part = NULL;
        if (use_plugin) {
                /* No code: the plugin reads rdpart.* properties. */
                set(conf, "plugin.library.paths", "librdpart");
                set(conf, "rdpart.strategy", strategy);
        } else {
                /* Keyless messages reach a partitioner callback only without
                 * librdkafka's own sticky step. */
                set(conf, "sticky.partitioning.linger.ms", "0");
                part = rdpart_new(pconf, errstr, sizeof(errstr));
                if (!part)
                        die("rdpart_new", errstr);
                rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
                rd_kafka_topic_conf_set_partitioner_cb(tconf, rdpart_partition);
                rd_kafka_topic_conf_set_opaque(tconf, part);
                rd_kafka_conf_set_default_topic_conf(conf, tconf);
        }
        rdpart_conf_destroy(pconf);

        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk)
                die("producer", errstr);

        /* Produce at once, as applications do: no wait for metadata. */
        /* Message i has key i % (2 * keys) when that is below keys, else no
         * key. With --threads T, thread t produces the keyed messages of the
         * keys k with k % T == t and every T-th keyless one, so each key is
         * produced by one thread, in order. Only this thread polls, so the
         * delivery callback never runs concurrently. */
        long *seq = calloc((size_t)nkeys, sizeof(long));
        struct job jobs[MAXT];
        pthread_t tids[MAXT];
        for (int t = 0; t < threads; t++) {
                jobs[t] = (struct job){rk, topic, messages, nkeys, threads, t, seq};
                pthread_create(&tids[t], NULL, produce_share, &jobs[t]);
        }
        while (__atomic_load_n(&threads_done, __ATOMIC_ACQUIRE) < threads)
                rd_kafka_poll(rk, 20);
        for (int t = 0; t < threads; t++)
                pthread_join(tids[t], NULL);
        long keyed = 0, keyless = 0;
        for (long i = 0; i < messages; i++)
                (i % (2 * nkeys) < nkeys) ? keyed++ : keyless++;
        rd_kafka_flush(rk, 60000);
        rd_kafka_destroy(rk);
        rdpart_destroy(part);
        free(seq);

        printf("strategy %s%s: %ld keyed + %ld keyless messages to %d partitions of %s "
               "from %d thread%s\n",
               strategy, use_plugin ? " (plugin)" : "", keyed, keyless, partitions, topic, threads,
               threads > 1 ? "s" : "");
        for (int kd = 1; kd >= 0; kd--) {
                printf("  %-8s", kd ? "keyed" : "keyless");
                for (int p = 0; p < partitions; p++)
                        printf(" %6ld", per_partition[kd][p]);
                printf("\n");
        }
        if (oracle)
                printf("keyed placement: %ld of %ld messages where the oracle puts them\n",
                       oracle_checked - oracle_mismatch, oracle_checked);
        int failover_ok = 1;
        if (failover_partition >= 0) {
                /* Only strategies that place keyless messages by availability
                 * promise to avoid it; pure hashes send them to hash(""). */
                int pure_hash = !strcmp(strategy, "murmur2") || !strcmp(strategy, "consistent") ||
                                !strcmp(strategy, "fnv1a");
                printf("failover: partition %d had no leader for messages %ld..%ld: %ld keyless "
                       "placed on it, %ld keyed for it delivered after it returned\n",
                       failover_partition, down_from, down_to - 1, keyless_on_down,
                       keyed_for_down);
                failover_ok = pure_hash || keyless_on_down == 0;
        }
        int by_key = strcmp(strategy, "random") && strcmp(strategy, "round_robin");
        if (delivery_errors)
                printf("%ld delivery errors\n", delivery_errors);
        int ok = failover_ok && delivery_errors == 0 && oracle_mismatch == 0 &&
                 verify(brokers, topic, partitions, keyed, keyless, nkeys, by_key, quiet);
        if (mc)
                rd_kafka_mock_cluster_destroy(mc);
        if (mock_rk)
                rd_kafka_destroy(mock_rk);
        return ok ? 0 : 1;
}
