/*
 * rdpart.partitioner.cb from C: the application's own partitioner, set on
 * the producer's conf, on librdkafka's mock cluster with the system
 * librdkafka. Checked against what the function said for each message,
 * against librdkafka's own murmur2 partitioner for routing keys, and by
 * the partitions the delivery reports give:
 *
 * - called on the thread that called rd_kafka_producev(), once per message,
 *   with the topic, key, value, headers, partition count and available
 *   partitions, from 4 threads at once from the first message on;
 * - a partition, a routing key, the strategy, a failure (producev fails
 *   with _UNKNOWN_PARTITION), a partition out of range (fails too);
 * - rd_kafka_produce_batch() fails every message and never calls it;
 * - its close callback runs once, in rd_kafka_destroy().
 *
 *   custom_partitioner PLUGIN_PATH
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "check.h"
#include "rdpart.h"

#define PARTITIONS 5
#define THREADS 4
#define PER_THREAD 500
#define N (THREADS * PER_THREAD)

static __thread int producing; /* set around rd_kafka_producev() */
static __thread char route[16];
static int calls, off_thread, bad_view, closes;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int32_t said[N];      /* what the function answered, by index */
static int32_t delivered[N]; /* where the delivery report says it went */
static int dr_errors;

static int32_t place(const rdpart_message_t *m, rdpart_placement_t *out, void *opaque) {
        pthread_mutex_lock(&lock);
        calls++;
        if (!producing)
                off_thread++;
        pthread_mutex_unlock(&lock);
        if (opaque != (void *)&said || strcmp(m->topic, "c_orders") || m->partition_cnt != PARTITIONS ||
            m->available_cnt > PARTITIONS || !m->value || m->value_len < 3 || m->header_cnt != 1 ||
            strcmp(m->headers[0].name, "h") || m->headers[0].size != 2 ||
            memcmp(m->headers[0].value, "hv", 2)) {
                pthread_mutex_lock(&lock);
                bad_view++;
                pthread_mutex_unlock(&lock);
        }
        /* value: "<kind>:<index>" */
        char v[32];
        size_t len = m->value_len < sizeof(v) - 1 ? m->value_len : sizeof(v) - 1;
        memcpy(v, m->value, len);
        v[len] = 0;
        int i = atoi(v + 2);
        switch (v[0]) {
        case 'p':
                said[i] = i % PARTITIONS;
                return i % PARTITIONS;
        case 'k':
                /* The index's digits: valid after the return, until rdpart copies them. */
                snprintf(route, sizeof route, "%d", i);
                out->key = route;
                out->key_len = strlen(route);
                said[i] = -2;
                return RDPART_PLACE_KEY;
        case 's':
                said[i] = -1;
                return RDPART_PLACE_STRATEGY;
        case 'f':
                out->error = "refused by the test";
                said[i] = -3;
                return RDPART_PLACE_FAIL;
        default:
                said[i] = 99;
                return 99;
        }
}

static char logbuf[1 << 15];
static size_t loglen;

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        (void)rk;
        if (strcmp(fac, "RDPART"))
                return;
        pthread_mutex_lock(&lock);
        int n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%d|%s\n", level, buf);
        if (n > 0 && loglen + (size_t)n < sizeof(logbuf))
                loglen += (size_t)n;
        pthread_mutex_unlock(&lock);
}

static void on_close(void *opaque) {
        (void)opaque;
        closes++;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk, (void)opaque;
        intptr_t i = (intptr_t)m->_private;
        if (m->err)
                dr_errors++;
        else if (i >= 0 && i < N)
                delivered[i] = m->partition;
}

static rd_kafka_t *rk;
static const char kinds[] = "pkskpsppkf" "r";

static char kind_of(int i) {
        return kinds[i % (int)(sizeof(kinds) - 1)];
}

static void *producer_thread(void *arg) {
        int t = (int)(intptr_t)arg;
        for (int j = 0; j < PER_THREAD; j++) {
                int i = t * PER_THREAD + j;
                char key[16], value[32];
                snprintf(key, sizeof key, "key-%d", i);
                snprintf(value, sizeof value, "%c:%d", kind_of(i), i);
                producing = 1;
                rd_kafka_resp_err_t err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC("c_orders"), RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE(value, strlen(value)), RD_KAFKA_V_HEADER("h", "hv", 2),
                    RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_END);
                producing = 0;
                char k = kind_of(i);
                if (k == 'f' || k == 'r')
                        CHECK(err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, "message %d (%c): %s", i, k,
                              rd_kafka_err2name(err));
                else
                        CHECK(err == 0, "message %d (%c): %s", i, k, rd_kafka_err2name(err));
                delivered[i] = -9;
                if (err)
                        delivered[i] = -8;
        }
        return NULL;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: %s PLUGIN_PATH\n", argv[0]);
                return 2;
        }
        char errstr[512], addr[64];
        rd_kafka_conf_t *mconf = rd_kafka_conf_new();
        rd_kafka_t *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, errstr, sizeof errstr);
        rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(mrk, 3);
        rd_kafka_mock_topic_create(mc, "c_orders", PARTITIONS, 1);

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        const char *props[][2] = {{"bootstrap.servers", rd_kafka_mock_cluster_bootstraps(mc)},
                                  {"plugin.library.paths", argv[1]},
                                  {"rdpart.strategy", "murmur2"},
                                  {"linger.ms", "5"}};
        for (size_t i = 0; i < sizeof(props) / sizeof(props[0]); i++)
                if (rd_kafka_conf_set(conf, props[i][0], props[i][1], errstr, sizeof errstr)) {
                        fprintf(stderr, "%s: %s\n", props[i][0], errstr);
                        return 1;
                }
        /* The hook: function addresses as %p prints them. */
        snprintf(addr, sizeof addr, "%p", (void *)(uintptr_t)place);
        CHECK(!rd_kafka_conf_set(conf, "rdpart.partitioner.cb", addr, errstr, sizeof errstr), "%s", errstr);
        snprintf(addr, sizeof addr, "%p", (void *)&said);
        CHECK(!rd_kafka_conf_set(conf, "rdpart.partitioner.opaque", addr, errstr, sizeof errstr), "%s", errstr);
        snprintf(addr, sizeof addr, "%p", (void *)(uintptr_t)on_close);
        CHECK(!rd_kafka_conf_set(conf, "rdpart.partitioner.close.cb", addr, errstr, sizeof errstr), "%s",
              errstr);
        CHECK(rd_kafka_conf_set(conf, "rdpart.partitioner.cb", "place", errstr, sizeof errstr) ==
                      RD_KAFKA_CONF_INVALID &&
                  strstr(errstr, "rdpart.partitioner.cb"),
              "a bad address was taken: %s", errstr);
        CHECK(rd_kafka_conf_set(conf, "rdpart.partitioner.fallback", "maybe", errstr, sizeof errstr) ==
                      RD_KAFKA_CONF_INVALID &&
                  strstr(errstr, "fail or strategy"),
              "a bad fallback was taken: %s", errstr);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_conf_set_log_cb(conf, log_cb);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }

        /* From the first message on, 4 threads at once. */
        pthread_t th[THREADS];
        for (int t = 0; t < THREADS; t++)
                pthread_create(&th[t], NULL, producer_thread, (void *)(intptr_t)t);
        for (int t = 0; t < THREADS; t++)
                pthread_join(th[t], NULL);
        CHECK(rd_kafka_flush(rk, 30000) == 0, "flush timed out");
        CHECK(off_thread == 0, "%d calls off the producing thread", off_thread);
        CHECK(bad_view == 0, "%d calls saw a wrong message view", bad_view);
        CHECK(calls == N, "%d calls for %d messages", calls, N);
        CHECK(dr_errors == 0, "%d delivery errors", dr_errors);
        int wrong = 0, placed = 0;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "c_orders", NULL);
        for (int i = 0; i < N; i++) {
                char k = kind_of(i);
                if (k == 'f' || k == 'r')
                        continue;
                char key[16];
                const char *route = key;
                snprintf(key, sizeof key, "key-%d", i);
                char digits[16];
                if (k == 'k') {
                        snprintf(digits, sizeof digits, "%d", i);
                        route = digits;
                }
                /* librdkafka's own murmur2 partitioner as the oracle. */
                int32_t want = k == 'p' ? i % PARTITIONS
                                        : rd_kafka_msg_partitioner_murmur2(rkt, route, strlen(route),
                                                                           PARTITIONS, NULL, NULL);
                placed++;
                if (delivered[i] != want && wrong++ < 5)
                        fprintf(stderr, "message %d (%c): partition %" PRId32 ", want %" PRId32 "\n", i, k,
                                delivered[i], want);
        }
        CHECK(wrong == 0, "%d of %d messages not where the function said", wrong, placed);

        /* produce_batch: the topic lock is held; the function never runs. */
        int before = calls;
        rd_kafka_message_t batch[10];
        memset(batch, 0, sizeof batch);
        for (int i = 0; i < 10; i++) {
                batch[i].payload = (void *)"p:1";
                batch[i].len = 3;
                batch[i]._private = (void *)(intptr_t)-1;
        }
        int good = rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, batch, 10);
        CHECK(good == 0, "produce_batch queued %d of 10", good);
        CHECK(batch[0].err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, "produce_batch: %s",
              rd_kafka_err2name(batch[0].err));
        CHECK(calls == before, "the function ran %d times inside produce_batch", calls - before);
        pthread_mutex_lock(&lock);
        CHECK(strstr(logbuf, "3|rdpart: topic \"c_orders\": rd_kafka_produce_batch()") != NULL,
              "no ERR line about produce_batch: %s", logbuf);
        CHECK(strstr(logbuf, "3|rdpart: topic \"c_orders\": refused by the test") != NULL,
              "no ERR line with the function's reason: %s", logbuf);
        CHECK(strstr(logbuf, "returned partition 99, but the topic has 5 partitions") != NULL,
              "no ERR line about the partition out of range: %s", logbuf);
        pthread_mutex_unlock(&lock);
        rd_kafka_topic_destroy(rkt);

        CHECK(closes == 0, "closed before rd_kafka_destroy()");
        rd_kafka_destroy(rk);
        CHECK(closes == 1, "close ran %d times", closes);
        printf("custom_partitioner: %d messages from %d threads, %d placed as the function said, %d calls\n",
               N, THREADS, placed - wrong, calls);
        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(mrk);
        return finish("custom_partitioner");
}
