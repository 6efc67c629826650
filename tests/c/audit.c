/*
 * Regressions from an audit, each against real producers on librdkafka's
 * embedded mock cluster (the system librdkafka, linked dynamically, and
 * librdpart linked too, so that rdpart_in_flight(NULL) sees the plugin
 * loaded from the same file).
 *
 *   audit PLUGIN_PATH CASE ...
 *
 * CASE (each best run in a process of its own: rdpart_in_flight(NULL)
 * counts every plugin producer of the process):
 *   reused_handles      one rdpart_new() partitioner (murmur2, orders:jump)
 *                       shared by 40 producers made and destroyed in turn:
 *                       each topic placed by its own strategy
 *   adaptive_memory     plugin adaptive, one produce to each partition
 *                       0..3999: RSS grows < 64 MB; rd_kafka_destroy() on
 *                       a 128 KB stack does not crash
 *   adaptive_max_partition  one produce to partition 2147483647 of each
 *                       of 50 new topics: RSS grows < 16 MB; destroy on a
 *                       128 KB stack
 *   inflight_batch      rd_kafka_produce_batch() to partitions that do not
 *                       exist: rdpart_in_flight(NULL) == 0 after flush
 *   inflight_threads    2,000 partitions, explicit partitions in turn from
 *                       one thread (tables grow while acknowledgements
 *                       come), keyless from 2 more: 0 after each flush
 *   inflight_delivered  rdpart_new() adaptive with rdpart_delivered() for
 *                       every delivery report, some messages to explicit
 *                       partitions: rdpart_in_flight(part) == 0 after flush
 *   delimiter_plugin    rdpart.key.delimiter = byte 0xff: "k\xffs" placed
 *                       as "k" by murmur2
 *   delimiter_conf      rdpart_conf_set(key.delimiter, byte 0xff) accepted,
 *                       and the same placement
 *   hot_key_parked      plugin hot.key.share: a key turning hot while
 *                       librdkafka places messages parked before the
 *                       metadata is said on the log
 *   wrapping_partitioner  rdpart_partition() wrapped by an application
 *                       partitioner and called directly: topic.strategy
 *                       kept; rdpart_random() wrapped: availability kept
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "rdpart.h"

#include "check.h"

static const char *plugin;

/* ---- oracles ---- */

static int32_t murmur2_oracle(const void *key, size_t len, int32_t n) {
        return rd_kafka_msg_partitioner_murmur2(NULL, key, len, n, NULL, NULL);
}

/* MurmurHash64A with rdpart's seed, as tests/python/oracle.py defines it. */
static uint64_t murmur64a(const unsigned char *data, size_t len, uint64_t seed) {
        const uint64_t m = 0xc6a4a7935bd1e995ULL;
        const int r = 47;
        uint64_t h = seed ^ (len * m);
        size_t nblocks = len / 8;
        for (size_t i = 0; i < nblocks; i++) {
                uint64_t k = 0;
                for (int b = 7; b >= 0; b--)
                        k = (k << 8) | data[8 * i + b];
                k *= m;
                k ^= k >> r;
                k *= m;
                h ^= k;
                h *= m;
        }
        size_t rest = len & 7;
        if (rest) {
                uint64_t t = 0;
                for (size_t b = rest; b-- > 0;)
                        t = (t << 8) | data[8 * nblocks + b];
                h ^= t;
                h *= m;
        }
        h ^= h >> r;
        h *= m;
        h ^= h >> r;
        return h;
}

/* Jump consistent hash (Lamping & Veach). */
static int32_t jump_hash(uint64_t key, int32_t n) {
        int64_t b = -1, j = 0;
        while (j < n) {
                b = j;
                key = key * 2862933555777941757ULL + 1;
                j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
        }
        return (int32_t)b;
}

static int32_t jump_oracle(const void *key, size_t len, int32_t n) {
        return jump_hash(murmur64a(key, len, 0x9747b28cULL), n);
}

/* ---- delivery reports ---- */

#define MAXREC (1 << 16)
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
        char key[32];
        size_t len;
        int32_t partition;
} recs[MAXREC];
static long nrec, delivered, dr_failed;
static int32_t keyless_parts[64]; /* the first keyless messages' partitions */
static int nkeyless;
static rdpart_t *dr_part; /* set: every report goes to rdpart_delivered */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk, (void)opaque;
        if (dr_part)
                rdpart_delivered(dr_part, m);
        pthread_mutex_lock(&rec_lock);
        if (m->err) {
                dr_failed++;
        } else {
                delivered++;
                if (!m->key && nkeyless < 64)
                        keyless_parts[nkeyless++] = m->partition;
                if (m->key && m->key_len < sizeof(recs[0].key) && nrec < MAXREC) {
                        memcpy(recs[nrec].key, m->key, m->key_len);
                        recs[nrec].len = m->key_len;
                        recs[nrec].partition = m->partition;
                        nrec++;
                }
        }
        pthread_mutex_unlock(&rec_lock);
}

static void reset_reports(void) {
        pthread_mutex_lock(&rec_lock);
        nrec = delivered = dr_failed = 0;
        nkeyless = 0;
        pthread_mutex_unlock(&rec_lock);
}

/* ---- clients ---- */

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;

/* A mock cluster of 3 brokers with these topics; its bootstrap list. */
static const char *mock_cluster(const char *topic, int partitions, const char *topic2,
                                int partitions2) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
        mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!mock_rk || !(mock = rd_kafka_mock_cluster_new(mock_rk, 3))) {
                fprintf(stderr, "no mock cluster: %s\n", errstr);
                exit(2);
        }
        rd_kafka_mock_topic_create(mock, topic, partitions, 1);
        if (topic2)
                rd_kafka_mock_topic_create(mock, topic2, partitions2, 1);
        return rd_kafka_mock_cluster_bootstraps(mock);
}

static void mock_destroy(void) {
        rd_kafka_mock_cluster_destroy(mock);
        rd_kafka_destroy(mock_rk);
}

/* A producer's conf: on the given mock bootstraps (NULL: an embedded
 * cluster of its own), with the plugin when strategy is not NULL. */
static rd_kafka_conf_t *producer_conf(const char *bootstraps, const char *strategy) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (bootstraps)
                rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, NULL, 0);
        else
                rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", NULL, 0);
        rd_kafka_conf_set(conf, "sticky.partitioning.linger.ms", "0", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        if (strategy) {
                if (rd_kafka_conf_set(conf, "plugin.library.paths", plugin, errstr,
                                      sizeof(errstr)) ||
                    rd_kafka_conf_set(conf, "rdpart.strategy", strategy, errstr, sizeof(errstr))) {
                        fprintf(stderr, "plugin: %s\n", errstr);
                        exit(2);
                }
        }
        return conf;
}

static rd_kafka_t *producer(rd_kafka_conf_t *conf) {
        char errstr[512];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                exit(2);
        }
        return rk;
}

/* One keyless message, flushed: the topic's metadata is known after. */
static void warm(rd_kafka_t *rk, const char *topic) {
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE("w", 1),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        rd_kafka_flush(rk, 10000);
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double rss_mb(void) {
        long size = 0, resident = 0;
        FILE *f = fopen("/proc/self/statm", "r");
        if (f) {
                if (fscanf(f, "%ld %ld", &size, &resident) != 2)
                        resident = 0;
                fclose(f);
        }
        return (double)resident * (double)sysconf(_SC_PAGESIZE) / (1024.0 * 1024.0);
}

/* rd_kafka_destroy(rk) on a thread with a 128 KB stack. */
static void *destroy_main(void *rk) {
        rd_kafka_destroy(rk);
        return NULL;
}

static int destroy_on_small_stack(rd_kafka_t *rk) {
        pthread_attr_t attr;
        pthread_t t;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 128 * 1024);
        int r = pthread_create(&t, &attr, destroy_main, rk);
        pthread_attr_destroy(&attr);
        if (r)
                return 0;
        pthread_join(t, NULL);
        return 1;
}

/* ---- 2. topic handles reused by a later producer ---- */

static void reused_handles(void) {
        char errstr[512];
        const int32_t n = 6;
        const char *bootstraps = mock_cluster("orders", n, "events", n);
        rdpart_conf_t *pc = rdpart_conf_new();
        CHECK(rdpart_conf_set(pc, "strategy", "murmur2", errstr, sizeof(errstr)) ==
                      RD_KAFKA_CONF_OK &&
                  rdpart_conf_set(pc, "topic.strategy", "orders:jump", errstr, sizeof(errstr)) ==
                      RD_KAFKA_CONF_OK,
              "%s", errstr);
        rdpart_t *part = rdpart_new(pc, errstr, sizeof(errstr));
        rdpart_conf_destroy(pc);
        if (!part) {
                CHECK(0, "rdpart_new: %s", errstr);
                return;
        }
        const int rounds = 40, per = 50;
        int wrong_topics = 0, reused = 0;
        const rd_kafka_topic_t *seen[40];
        for (int r = 0; r < rounds; r++) {
                const char *topic = r % 2 ? "events" : "orders";
                int jump = !(r % 2);
                reset_reports();
                rd_kafka_t *rk = producer(producer_conf(bootstraps, NULL));
                rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
                rd_kafka_topic_conf_set_partitioner_cb(tconf, rdpart_partition);
                rd_kafka_topic_conf_set_opaque(tconf, part);
                rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, tconf);
                int again = 0;
                for (int i = 0; i < r; i++)
                        again |= seen[i] == rkt;
                reused += again;
                seen[r] = rkt;
                for (int i = 0; i < per; i++) {
                        char key[32];
                        int len = snprintf(key, sizeof(key), "key-%d-%d", r, i);
                        rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, "v", 1,
                                         key, (size_t)len, NULL);
                }
                rd_kafka_flush(rk, 10000);
                int wrong = 0;
                for (long i = 0; i < nrec; i++) {
                        int32_t want = jump ? jump_oracle(recs[i].key, recs[i].len, n)
                                            : murmur2_oracle(recs[i].key, recs[i].len, n);
                        wrong += recs[i].partition != want;
                }
                if (wrong || delivered != per) {
                        wrong_topics++;
                        if (wrong_topics <= 3)
                                fprintf(stderr,
                                        "  producer %d, topic %s: %d of %ld keys not placed by "
                                        "%s (%ld of %d delivered)\n",
                                        r, topic, wrong, nrec, jump ? "jump" : "murmur2",
                                        delivered, per);
                }
                rd_kafka_topic_destroy(rkt);
                rd_kafka_destroy(rk);
        }
        CHECK(wrong_topics == 0, "%d of %d producers' topics placed by another topic's strategy",
              wrong_topics, rounds);
        /* The case exists for recycled addresses: it must have met some. */
        CHECK(reused > 0, "no producer got an earlier topic's handle address: nothing was tested");
        printf("  %d producers in turn, one rdpart_t (murmur2, orders:jump): %d topics misplaced "
               "(%d of them got the address of an earlier producer's topic)\n",
               rounds, wrong_topics, reused);
        rdpart_destroy(part);
        mock_destroy();
}

/* ---- 3. adaptive memory ---- */

static void adaptive_memory(void) {
        rd_kafka_t *rk = producer(producer_conf(NULL, "adaptive"));
        warm(rk, "mem");
        double rss0 = rss_mb(), worst = 0;
        int ok = 0;
        for (int32_t p = 0; p < 4000; p++) {
                double t0 = now_s();
                ok += !rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("mem"), RD_KAFKA_V_PARTITION(p),
                                         RD_KAFKA_V_VALUE("v", 1),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                double dt = now_s() - t0;
                if (dt > worst)
                        worst = dt;
                if (p % 256 == 0)
                        rd_kafka_poll(rk, 0);
        }
        double grown = rss_mb() - rss0;
        CHECK(grown < 64, "RSS grew %.0f MB for one produce to each of 4,000 partitions", grown);
        printf("  4,000 explicit partitions (%d accepted): RSS +%.1f MB, worst producev() %.3f "
               "ms\n",
               ok, grown, worst * 1e3);
        fflush(stdout);
        rd_kafka_flush(rk, 10000);
        CHECK(destroy_on_small_stack(rk), "no thread for rd_kafka_destroy");
        printf("  rd_kafka_destroy() on a 128 KB stack: returned\n");
}

/* Partition 2147483647 of 50 topics the producer has not seen yet (each
 * produce is accepted, and fails later for want of the partition). */
static void adaptive_max_partition(void) {
        rd_kafka_t *rk = producer(producer_conf(NULL, "adaptive"));
        warm(rk, "maxp");
        double rss0 = rss_mb(), worst = 0;
        int accepted = 0;
        for (int i = 0; i < 50; i++) {
                char topic[32];
                snprintf(topic, sizeof(topic), "maxp-%d", i);
                double t0 = now_s();
                accepted += !rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(INT32_MAX),
                    RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_END);
                double dt = now_s() - t0;
                if (dt > worst)
                        worst = dt;
        }
        double grown = rss_mb() - rss0;
        CHECK(grown < 16, "RSS grew %.0f MB for 50 produces to partition 2147483647", grown);
        printf("  partition 2147483647 of 50 new topics (%d accepted): RSS +%.1f MB, worst "
               "producev() %.3f ms\n",
               accepted, grown, worst * 1e3);
        fflush(stdout);
        rd_kafka_flush(rk, 10000);
        CHECK(destroy_on_small_stack(rk), "no thread for rd_kafka_destroy");
        printf("  rd_kafka_destroy() on a 128 KB stack: returned\n");
}

/* ---- 4. rdpart_in_flight() after flush ---- */

static void inflight_batch(void) {
        rd_kafka_t *rk = producer(producer_conf(NULL, "adaptive"));
        warm(rk, "batch");
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "batch", NULL);
        int64_t before = rdpart_in_flight(NULL);
        rd_kafka_message_t msgs[24];
        memset(msgs, 0, sizeof(msgs));
        for (int i = 0; i < 24; i++) {
                msgs[i].payload = "v";
                msgs[i].len = 1;
                /* 0..3 exist (an auto-created mock topic has 4); the rest not. */
                msgs[i].partition = i < 8 ? i % 4 : 100 + i;
        }
        int accepted = rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA,
                                              RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_PARTITION, msgs,
                                              24);
        int failed = 0;
        for (int i = 0; i < 24; i++)
                failed += msgs[i].err != 0;
        /* And a whole batch to one partition that does not exist. */
        int accepted2 = rd_kafka_produce_batch(rkt, 77, RD_KAFKA_MSG_F_COPY, msgs, 8);
        /* librdkafka (2.0.2, and its master as of this writing) leaks a
         * message that produce_batch() fails with F_PARTITION for want of
         * the partition: no acknowledgement ever comes, and rd_kafka_flush()
         * times out with them counted in rd_kafka_outq_len(). rdpart's count
         * must not wait for them either. */
        rd_kafka_flush(rk, 2000);
        int64_t left = rdpart_in_flight(NULL);
        CHECK(before == 0 && left == 0,
              "rdpart_in_flight(NULL) = %lld after flush (%lld before the batches)",
              (long long)left, (long long)before);
        printf("  produce_batch, F_PARTITION: %d of 24 accepted (%d failed), to partition 77: "
               "%d of 8; after flush rdpart_in_flight(NULL) = %lld\n",
               accepted, failed, accepted2, (long long)left);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
}

#define WIDE 2000
#define ROUNDS 6
#define PER_THREAD 4000
static rd_kafka_t *shared_rk;
static char wide_topic[32];
static volatile int explicit_at; /* how far the explicit thread got */

static void produce_retrying(rd_kafka_t *rk, int32_t partition) {
        while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(wide_topic), RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_VALUE("v", 1),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(rk, 1);
}

/* Keyless messages, from when the explicit thread is a quarter through
 * the partitions. */
static void *keyless_main(void *arg) {
        (void)arg;
        while (__atomic_load_n(&explicit_at, __ATOMIC_ACQUIRE) < WIDE / 4)
                nanosleep(&(struct timespec){0, 100 * 1000}, NULL);
        for (int i = 0; i < PER_THREAD; i++) {
                produce_retrying(shared_rk, RD_KAFKA_PARTITION_UA);
                if (i % 64 == 0)
                        rd_kafka_poll(shared_rk, 0);
        }
        return NULL;
}

/* Explicit partitions in turn, 1, 2, ...: a partition higher than any seen
 * so far, 2,000 times over, while earlier ones are acknowledged. */
static void *explicit_main(void *arg) {
        (void)arg;
        for (int i = 1; i <= PER_THREAD; i++) {
                produce_retrying(shared_rk, i % WIDE);
                rd_kafka_poll(shared_rk, 0);
                __atomic_store_n(&explicit_at, i, __ATOMIC_RELEASE);
        }
        return NULL;
}

static void inflight_threads(void) {
        const char *bootstraps = mock_cluster("wide-0", WIDE, NULL, 0);
        for (int r = 1; r < ROUNDS; r++) {
                snprintf(wide_topic, sizeof(wide_topic), "wide-%d", r);
                rd_kafka_mock_topic_create(mock, wide_topic, WIDE, 1);
        }
        rd_kafka_conf_t *conf = producer_conf(bootstraps, "adaptive");
        rd_kafka_conf_set(conf, "linger.ms", "0", NULL, 0);
        shared_rk = producer(conf);
        long sent = 0;
        int64_t worst = 0, busiest = 0;
        for (int r = 0; r < ROUNDS; r++) {
                /* A new topic each round, known to the producer (one message
                 * to partition 0, flushed) before the threads start. */
                snprintf(wide_topic, sizeof(wide_topic), "wide-%d", r);
                produce_retrying(shared_rk, 0);
                rd_kafka_flush(shared_rk, 10000);
                sent++;
                explicit_at = 0;
                pthread_t t[3];
                pthread_create(&t[0], NULL, explicit_main, NULL);
                pthread_create(&t[1], NULL, keyless_main, NULL);
                pthread_create(&t[2], NULL, keyless_main, NULL);
                for (int i = 0; i < 3; i++)
                        pthread_join(t[i], NULL);
                sent += 3 * PER_THREAD;
                /* Before the flush some are still in flight: the count counts. */
                int64_t busy = rdpart_in_flight(NULL);
                busiest = busy > busiest ? busy : busiest;
                rd_kafka_flush(shared_rk, 15000);
                int64_t left = rdpart_in_flight(NULL);
                if (left < 0 ? -left > worst : left > worst)
                        worst = left < 0 ? -left : left;
        }
        int64_t left = rdpart_in_flight(NULL);
        CHECK(delivered == sent, "%ld of %ld delivered", delivered, sent);
        CHECK(left == 0 && worst == 0,
              "rdpart_in_flight(NULL) = %lld after the last flush (up to %lld off after one)",
              (long long)left, (long long)worst);
        CHECK(busiest > 0, "rdpart_in_flight(NULL) was never above 0: it counts nothing");
        printf("  %d topics of %d partitions, 2 keyless threads + 1 explicit: %ld delivered, "
               "after flush rdpart_in_flight(NULL) = %lld\n",
               ROUNDS, WIDE, delivered, (long long)left);
        rd_kafka_destroy(shared_rk);
        mock_destroy();
}

static void inflight_delivered(void) {
        char errstr[512];
        rdpart_conf_t *pc = rdpart_conf_new();
        CHECK(rdpart_conf_set(pc, "strategy", "adaptive", errstr, sizeof(errstr)) ==
                  RD_KAFKA_CONF_OK,
              "%s", errstr);
        rdpart_t *part = rdpart_new(pc, errstr, sizeof(errstr));
        rdpart_conf_destroy(pc);
        if (!part) {
                CHECK(0, "rdpart_new: %s", errstr);
                return;
        }
        dr_part = part;
        rd_kafka_t *rk = producer(producer_conf(NULL, NULL));
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_partitioner_cb(tconf, rdpart_partition);
        rd_kafka_topic_conf_set_opaque(tconf, part);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "reported", tconf);
        const int keyless = 300, explicit = 40;
        for (int i = 0; i < keyless + explicit; i++) {
                int32_t p = i % 8 == 7 && i / 8 < explicit ? (i / 8) % 4 : RD_KAFKA_PARTITION_UA;
                rd_kafka_produce(rkt, p, RD_KAFKA_MSG_F_COPY, "v", 1, NULL, 0, NULL);
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 10000);
        int64_t left = rdpart_in_flight(part);
        CHECK(delivered == keyless + explicit, "%ld of %d delivered", delivered,
              keyless + explicit);
        CHECK(left == 0, "rdpart_in_flight(part) = %lld after flush", (long long)left);
        printf("  rdpart_new adaptive, rdpart_delivered() for every report, %d of %d to explicit "
               "partitions: after flush rdpart_in_flight(part) = %lld\n",
               explicit, keyless + explicit, (long long)left);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        dr_part = NULL;
        rdpart_destroy(part);
}

/* ---- 5. key.delimiter bytes ---- */

#define DKEYS 300
#define DPARTS 12

/* Produces keys "k<i>" 0xff "s<i>" (and every 10th without the byte) to
 * topic "delim"; returns how many were not placed as murmur2 of the bytes
 * before the first 0xff. */
static int delimited_misplaced(rd_kafka_t *rk, rd_kafka_topic_t *rkt) {
        reset_reports();
        for (int i = 0; i < DKEYS; i++) {
                char key[32];
                int len = i % 10 ? snprintf(key, sizeof(key), "k%d\xffs%d", i, i * 7)
                                 : snprintf(key, sizeof(key), "whole%d", i);
                if (rkt)
                        rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, "v", 1,
                                         key, (size_t)len, NULL);
                else
                        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("delim"),
                                          RD_KAFKA_V_KEY(key, (size_t)len),
                                          RD_KAFKA_V_VALUE("v", 1),
                                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                          RD_KAFKA_V_END);
        }
        rd_kafka_flush(rk, 10000);
        CHECK(delivered == DKEYS, "%ld of %d delivered", delivered, DKEYS);
        int wrong = 0;
        for (long i = 0; i < nrec; i++) {
                const char *cut = memchr(recs[i].key, 0xff, recs[i].len);
                size_t len = cut ? (size_t)(cut - recs[i].key) : recs[i].len;
                wrong += recs[i].partition != murmur2_oracle(recs[i].key, len, DPARTS);
        }
        return wrong;
}

static void delimiter_plugin(void) {
        char errstr[512];
        const char *bootstraps = mock_cluster("delim", DPARTS, NULL, 0);
        rd_kafka_conf_t *conf = producer_conf(bootstraps, "murmur2");
        rd_kafka_conf_res_t r =
            rd_kafka_conf_set(conf, "rdpart.key.delimiter", "\xff", errstr, sizeof(errstr));
        CHECK(r == RD_KAFKA_CONF_OK, "rdpart.key.delimiter = byte 0xff refused: %s", errstr);
        rd_kafka_t *rk = producer(conf);
        int wrong = delimited_misplaced(rk, NULL);
        CHECK(wrong == 0, "%d of %d keys not placed as murmur2 of the bytes before 0xff", wrong,
              DKEYS);
        printf("  plugin, rdpart.key.delimiter = byte 0xff: %d of %d keys misplaced\n", wrong,
               DKEYS);
        rd_kafka_destroy(rk);
        mock_destroy();
}

static void delimiter_conf(void) {
        char errstr[512] = "";
        const char *bootstraps = mock_cluster("delim", DPARTS, NULL, 0);
        rdpart_conf_t *pc = rdpart_conf_new();
        rd_kafka_conf_res_t r1 = rdpart_conf_set(pc, "strategy", "murmur2", errstr, sizeof(errstr));
        rd_kafka_conf_res_t r2 =
            rdpart_conf_set(pc, "key.delimiter", "\xff", errstr, sizeof(errstr));
        CHECK(r1 == RD_KAFKA_CONF_OK && r2 == RD_KAFKA_CONF_OK,
              "rdpart_conf_set(key.delimiter, byte 0xff) refused: %s", errstr);
        rdpart_t *part = rdpart_new(pc, errstr, sizeof(errstr));
        rdpart_conf_destroy(pc);
        if (!part) {
                CHECK(0, "rdpart_new: %s", errstr);
                mock_destroy();
                return;
        }
        rd_kafka_t *rk = producer(producer_conf(bootstraps, NULL));
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_partitioner_cb(tconf, rdpart_partition);
        rd_kafka_topic_conf_set_opaque(tconf, part);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "delim", tconf);
        int wrong = delimited_misplaced(rk, rkt);
        CHECK(wrong == 0, "%d of %d keys not placed as murmur2 of the bytes before 0xff", wrong,
              DKEYS);
        printf("  rdpart_conf_set key.delimiter = byte 0xff: %s; %d of %d keys misplaced\n",
               r2 == RD_KAFKA_CONF_OK ? "accepted" : "refused", wrong, DKEYS);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        rdpart_destroy(part);
        mock_destroy();
}

/* RDPART_CONFIG gives way to sticky.partitioning.linger.ms set on the
 * conf before the plugin: every property set on the conf wins (issue 26:
 * the environment's 60 s won, 30 messages 20 ms apart on one partition). */
static void env_order(void) {
        const char *bootstraps = mock_cluster("env-order", 6, NULL, 0);
        setenv("RDPART_CONFIG", "sticky.linger.ms=60000", 1);
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, NULL, 0);
        rd_kafka_conf_set(conf, "sticky.partitioning.linger.ms", "1", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        if (rd_kafka_conf_set(conf, "plugin.library.paths", plugin, errstr, sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "rdpart.strategy", "sticky", errstr, sizeof(errstr))) {
                fprintf(stderr, "plugin: %s\n", errstr);
                exit(2);
        }
        unsetenv("RDPART_CONFIG");
        rd_kafka_t *rk = producer(conf);
        warm(rk, "env-order");
        reset_reports();
        for (int i = 0; i < 30; i++) {
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("env-order"), RD_KAFKA_V_VALUE("x", 1),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                rd_kafka_poll(rk, 20);
        }
        rd_kafka_flush(rk, 10000);
        int runs = nkeyless > 0;
        for (int i = 1; i < nkeyless; i++)
                runs += keyless_parts[i] != keyless_parts[i - 1];
        printf("  %d keyless messages 20 ms apart, sticky time 1 ms on the conf, 60 s in "
               "RDPART_CONFIG: %d runs\n", nkeyless, runs);
        CHECK(nkeyless == 30 && runs >= 10, "the environment won over the conf: %d runs of %d", runs,
              nkeyless);
        rd_kafka_destroy(rk);
        mock_destroy();
}

/* Messages failed for a partition the topic lacks cost nothing per
 * partition named (issue 26: 200 to partition 65000 cost +153 MB). */
static void unknown_partition_memory(void) {
        const char *bootstraps = mock_cluster("far", 4, NULL, 0);
        rd_kafka_t *rk = producer(producer_conf(bootstraps, "adaptive"));
        warm(rk, "far");
        double before = rss_mb();
        int failed = 0;
        for (int i = 0; i < 200; i++)
                failed += rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("far"), RD_KAFKA_V_PARTITION(65000 - i),
                                            RD_KAFKA_V_VALUE("x", 1),
                                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                            RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
        rd_kafka_flush(rk, 10000);
        char *stats = malloc(1 << 16);
        rdpart_stats(stats, 1 << 16);
        double grew = rss_mb() - before;
        printf("  200 messages to partitions 64801-65000 of 4: %d failed, RSS +%.1f MB\n", failed, grew);
        CHECK(failed == 200, "%d of 200 failed", failed);
        /* Nothing is kept for a partition that does not exist. */
        CHECK(strstr(stats, "\"partition\":6") == NULL, "stats name missing partitions: %.300s", stats);
        CHECK(grew < 20, "RSS grew %.1f MB", grew);
        free(stats);
        rd_kafka_destroy(rk);
        mock_destroy();
}

/* 2,000 keyed messages to `topic`, every other one with the key "tenant-7". */
static void produce_tenant_burst(rd_kafka_t *rk, const char *topic) {
        for (int i = 0; i < 2000; i++) {
                char key[16];
                snprintf(key, sizeof key, i % 2 ? "tenant-7" : "k%d", i);
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                                  RD_KAFKA_V_VALUE("x", 1), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END);
        }
}

/* An rdpart_new() partitioner says a hot key on stderr, naming the topic
 * as docs/hot_keys.md shows (issue 26: the topic was left out). */
static void hot_key_topic(void) {
        const char *bootstraps = mock_cluster("hot-topic", 6, NULL, 0);
        char errstr[512];
        rdpart_conf_t *pc = rdpart_conf_new();
        CHECK(rdpart_conf_set(pc, "strategy", "murmur2", errstr, sizeof errstr) == 0 &&
                  rdpart_conf_set(pc, "hot.key.share", "0.2", errstr, sizeof errstr) == 0,
              "%s", errstr);
        rdpart_t *part = rdpart_new(pc, errstr, sizeof errstr);
        rdpart_conf_destroy(pc);
        rd_kafka_conf_t *conf = producer_conf(bootstraps, NULL);
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_partitioner_cb(tconf, rdpart_partition);
        rd_kafka_topic_conf_set_opaque(tconf, part);
        rd_kafka_conf_set_default_topic_conf(conf, tconf);
        rd_kafka_t *rk = producer(conf);
        warm(rk, "hot-topic");
        /* stderr into a file while the key turns hot */
        fflush(stderr);
        FILE *cap = tmpfile();
        int saved = dup(2);
        dup2(fileno(cap), 2);
        produce_tenant_burst(rk, "hot-topic");
        rd_kafka_flush(rk, 10000);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        char text[8192] = {0};
        rewind(cap);
        size_t got = fread(text, 1, sizeof text - 1, cap);
        fclose(cap);
        text[got] = 0;
        CHECK(strstr(text, "rdpart: topic \"hot-topic\": key \"tenant-7\" is hot") != NULL,
              "stderr says: %s", text);
        rd_kafka_destroy(rk);
        rdpart_destroy(part);
        mock_destroy();
}

/* ---- an application partitioner that wraps rdpart's ---- */

static rdpart_t *wrapped;
static int32_t wrapped_random[6];
static int leaderless_seen; /* placements that saw partition 2 without a leader */

/* What an application writes to log, count or override placements. */
static int32_t wrap_partition(const rd_kafka_topic_t *rkt, const void *key, size_t len, int32_t n,
                              void *rkt_opaque, void *msg_opaque) {
        return rdpart_partition(rkt, key, len, n, rkt_opaque, msg_opaque);
}

static int32_t wrap_random(const rd_kafka_topic_t *rkt, const void *key, size_t len, int32_t n,
                           void *rkt_opaque, void *msg_opaque) {
        int32_t p = rdpart_random(rkt, key, len, n, rkt_opaque, msg_opaque);
        if (!rd_kafka_topic_partition_available(rkt, 2))
                __atomic_add_fetch(&leaderless_seen, 1, __ATOMIC_RELAXED);
        if (p >= 0 && p < 6)
                __atomic_add_fetch(&wrapped_random[p], 1, __ATOMIC_RELAXED);
        return p;
}

/* rdpart_partition() wrapped by an application partitioner, and called
 * directly with a real topic (to know where a key goes): "orders" placed
 * by orders:jump (the topic's name is read), and rdpart_random() wrapped
 * never places on a partition without a leader (availability is asked). */
static void wrapping_partitioner(void) {
        char errstr[512];
        const int32_t n = 6;
        const char *bootstraps = mock_cluster("orders", n, "events", n);
        rd_kafka_mock_partition_set_leader(mock, "events", 2, -1);
        rdpart_conf_t *pc = rdpart_conf_new();
        CHECK(rdpart_conf_set(pc, "strategy", "murmur2", errstr, sizeof errstr) == 0 &&
                  rdpart_conf_set(pc, "topic.strategy", "orders:jump", errstr, sizeof errstr) == 0,
              "%s", errstr);
        wrapped = rdpart_new(pc, errstr, sizeof errstr);
        rdpart_conf_destroy(pc);
        if (!wrapped) {
                CHECK(0, "rdpart_new: %s", errstr);
                return;
        }
        rd_kafka_t *rk = producer(producer_conf(bootstraps, NULL));
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_partitioner_cb(tconf, wrap_partition);
        rd_kafka_topic_conf_set_opaque(tconf, wrapped);
        rd_kafka_topic_t *orders = rd_kafka_topic_new(rk, "orders", tconf);
        tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_partitioner_cb(tconf, wrap_random);
        rd_kafka_topic_t *events = rd_kafka_topic_new(rk, "events", tconf);
        reset_reports();
        const int keys = 200;
        int direct_wrong = 0;
        for (int i = 0; i < keys; i++) {
                char key[32];
                int len = snprintf(key, sizeof key, "order-%d", i);
                rd_kafka_produce(orders, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, "v", 1, key,
                                 (size_t)len, NULL);
                direct_wrong += rdpart_partition(orders, key, (size_t)len, n, wrapped, NULL) !=
                                jump_oracle(key, (size_t)len, n);
        }
        rd_kafka_flush(rk, 10000);
        int wrong = 0;
        for (long i = 0; i < nrec; i++)
                wrong += recs[i].partition != jump_oracle(recs[i].key, recs[i].len, n);
        CHECK(delivered == keys && wrong == 0,
              "wrapped rdpart_partition: %d of %ld keys of \"orders\" not where orders:jump puts "
              "them (%ld of %d delivered)",
              wrong, nrec, delivered, keys);
        CHECK(direct_wrong == 0,
              "rdpart_partition called directly: %d of %d keys not where orders:jump puts them",
              direct_wrong, keys);
        /* Keyless, after the metadata (partition 2 without a leader) is
         * known and rdpart's warm-up of a new topic (100 ms, while leaders
         * may not be known yet) is over. */
        rd_kafka_produce(events, 0, RD_KAFKA_MSG_F_COPY, "w", 1, NULL, 0, NULL);
        rd_kafka_flush(rk, 10000);
        rd_kafka_produce(events, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, "w", 1, NULL, 0, NULL);
        nanosleep(&(struct timespec){0, 300 * 1000 * 1000}, NULL);
        memset(wrapped_random, 0, sizeof wrapped_random);
        leaderless_seen = 0;
        for (int i = 0; i < 600; i++)
                rd_kafka_produce(events, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, "v", 1, NULL, 0,
                                 NULL);
        int others = 0;
        for (int p = 0; p < n; p++)
                others += p != 2 && wrapped_random[p] > 0;
        CHECK(leaderless_seen == 600, "librdkafka saw partition 2 without a leader in %d of 600",
              leaderless_seen);
        CHECK(wrapped_random[2] == 0 && others == 5,
              "wrapped rdpart_random placed %d of 600 on the partition without a leader (%d "
              "others used)",
              wrapped_random[2], others);
        printf("  wrapped: %d of %d keys misplaced; direct: %d; random on the leaderless "
               "partition: %d of 600\n",
               wrong, keys, direct_wrong, wrapped_random[2]);
        rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(rk, 1000);
        rd_kafka_topic_destroy(orders);
        rd_kafka_topic_destroy(events);
        rd_kafka_destroy(rk);
        rdpart_destroy(wrapped);
        mock_destroy();
}

/* ---- a key turning hot while librdkafka places parked messages ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_text[16384];

static void capture_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        (void)rk, (void)fac;
        pthread_mutex_lock(&log_lock);
        size_t at = strlen(log_text);
        if (at + strlen(buf) + 16 < sizeof log_text)
                snprintf(log_text + at, sizeof log_text - at, "%d|%s\n", level, buf);
        pthread_mutex_unlock(&log_lock);
}

/* 2,000 keyed messages (half of them "tenant-7") produced at once after
 * rd_kafka_new(), while the brokers take 1 s to answer: every message
 * waits for the metadata and librdkafka places them all on its own thread,
 * with no produce() after. The key's turn to hot is on the log (NOTICE). */
static void hot_key_parked(void) {
        const char *bootstraps = mock_cluster("parked", 6, NULL, 0);
        for (int b = 1; b <= 3; b++)
                rd_kafka_mock_broker_set_rtt(mock, b, 1000);
        char errstr[512];
        rd_kafka_conf_t *conf = producer_conf(bootstraps, "murmur2");
        CHECK(rd_kafka_conf_set(conf, "rdpart.hot.key.share", "0.2", errstr, sizeof errstr) == 0,
              "%s", errstr);
        rd_kafka_conf_set_log_cb(conf, capture_log);
        log_text[0] = 0;
        rd_kafka_t *rk = producer(conf);
        reset_reports();
        double t0 = now_s();
        produce_tenant_burst(rk, "parked");
        double took = now_s() - t0;
        CHECK(took < 0.8, "producing took %.0f ms: not all before the metadata", took * 1000);
        CHECK(rd_kafka_flush(rk, 20000) == 0, "flush timed out");
        /* Placed by librdkafka's thread, every message delivered; the keys
         * that are not hot where murmur2 puts them. */
        int wrong = 0;
        for (long i = 0; i < nrec; i++)
                wrong += recs[i].key[0] == 'k' &&
                         recs[i].partition != murmur2_oracle(recs[i].key, recs[i].len, 6);
        CHECK(delivered == 2000 && wrong == 0, "%ld of 2000 delivered, %d keys not where murmur2 "
              "puts them", delivered, wrong);
        pthread_mutex_lock(&log_lock);
        int said = strstr(log_text, "5|rdpart: topic \"parked\": key \"tenant-7\" is hot") != NULL;
        pthread_mutex_unlock(&log_lock);
        CHECK(said, "the hot key was not on the log: %s", log_text);
        printf("  2000 messages parked (produced in %.0f ms), \"tenant-7\" hot on the log: %s\n",
               took * 1000, said ? "yes" : "no");
        rd_kafka_destroy(rk);
        mock_destroy();
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: audit PLUGIN_PATH CASE ...\n");
                return 2;
        }
        plugin = argv[1];
        /* The oracles, against vectors from tests/python/oracle.py's
         * definitions (the Java client: murmur2 "21" is -973932308). */
        CHECK(murmur2_oracle("21", 2, 1 << 30) == (-973932308 & 0x7fffffff) % (1 << 30),
              "librdkafka's murmur2 is not Kafka's");
        /* murmur64a and jump: values of tests/python/oracle.py. */
        CHECK(murmur64a((const unsigned char *)"", 0, 0x9747b28cULL) == 0x8397626cd6895052ULL &&
                  murmur64a((const unsigned char *)"kafka", 5, 0x9747b28cULL) ==
                      0xcb19234d1658256aULL &&
                  murmur64a((const unsigned char *)"a-little-bit-long-string", 24,
                            0x9747b28cULL) == 0x40253a2044c33617ULL &&
                  jump_oracle("key-3-17", 8, 6) == 5 && jump_oracle("key-3-17", 8, 1000) == 332 &&
                  jump_oracle("kafka", 5, 1000) == 211 &&
                  jump_oracle("a-little-bit-long-string", 24, 1000) == 186,
              "the C jump oracle differs from tests/python/oracle.py");
        static const struct {
                const char *name;
                void (*run)(void);
        } cases[] = {{"reused_handles", reused_handles},
                     {"adaptive_memory", adaptive_memory},
                     {"adaptive_max_partition", adaptive_max_partition},
                     {"inflight_batch", inflight_batch},
                     {"inflight_threads", inflight_threads},
                     {"inflight_delivered", inflight_delivered},
                     {"delimiter_plugin", delimiter_plugin},
                     {"delimiter_conf", delimiter_conf},
                     {"env_order", env_order},
                     {"unknown_partition_memory", unknown_partition_memory},
                     {"hot_key_topic", hot_key_topic},
                     {"wrapping_partitioner", wrapping_partitioner},
                     {"hot_key_parked", hot_key_parked}};
        for (int a = 2; a < argc; a++) {
                size_t i = 0;
                while (i < sizeof(cases) / sizeof(cases[0]) && strcmp(cases[i].name, argv[a]))
                        i++;
                if (i == sizeof(cases) / sizeof(cases[0])) {
                        fprintf(stderr, "unknown case %s\n", argv[a]);
                        return 2;
                }
                printf("%s\n", cases[i].name);
                fflush(stdout);
                cases[i].run();
        }
        return finish("audit");
}
