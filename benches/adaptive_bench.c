/*
 * Keyless delivery latency with a slow broker, from C, on librdkafka's
 * mock cluster (3 brokers; a 6-partition topic, partition p led by broker
 * 1 + p % 3). Run by benches/adaptive.py, which compares the modes.
 *
 *   adaptive_bench MODE SCENARIO SECONDS RATE [RUN_BYTES]
 *     MODE:     builtin (librdkafka's default partitioner and its sticky
 *               step) | sticky | adaptive (rdpart, through the plugin)
 *     SCENARIO: none | slow (broker 2 answers after 1000 ms throughout) |
 *               recover (slow for the first half, then fast) |
 *               max (no slow broker, produce as fast as possible)
 *
 * Produces keyless 200-byte messages at RATE per second (acks=all,
 * idempotence on) and prints one JSON object: per-message latency
 * percentiles (rd_kafka_message_latency), throughput, per-partition counts
 * (all, and after the first second), what the brokers appended (high
 * watermarks), and per-500-ms buckets (by produce time: messages, those on
 * the slow broker, p99 and max latency in ms, per partition) for a plot.
 *
 * On another cluster (benches/side_by_side.py): BENCH_BOOTSTRAP=host:port,
 * BENCH_TOPIC (6 partitions), BENCH_SLOW=the partitions on the slow broker
 * ("1,4"), BENCH_CONF="name=value;..." for more properties. The cluster is
 * then the caller's: SCENARIO only names the run. BENCH_RECORDS=PATH also
 * writes one line per message, "intended sent done partition" (seconds
 * from the producer's creation; message i is intended at i / RATE; done
 * -1 when it failed), for a summary computed alike for every client, and
 * prints "t0 T" (CLOCK_MONOTONIC seconds) first on stdout.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define NP 6
#define SLOW_BROKER 2
#define BUCKET_MS 500
#define MAXB 1024

static double t0;
static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long delivered, failed, cap, nlat, nlate;
static int slow_part[NP];
static int64_t *lat_us, *late_us;
static long per_part[NP], per_part_late[NP];
/* Per bucket (by produce time): count, slow-broker count, max latency. */
static long b_count[MAXB], b_slow[MAXB];
static int64_t b_max[MAXB];
static int64_t *b_lat[MAXB];
static long b_n[MAXB], b_cap[MAXB];
static long b_part[MAXB][NP];
/* Per message, for BENCH_RECORDS: when produce() took it, when its report
 * came (-1: failed), its partition. */
struct rec {
        double sent, done;
        int partition;
};
static struct rec *recs;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        struct rec *r = m->_private;
        double sent = r->sent;
        r->done = m->err ? -1 : now_s() - t0;
        r->partition = m->partition;
        if (m->err) {
                failed++;
                return;
        }
        delivered++;
        int64_t l = rd_kafka_message_latency(m);
        if (nlat < cap)
                lat_us[nlat++] = l;
        if (sent > 1.0 && nlate < cap)
                late_us[nlate++] = l;
        if (m->partition >= 0 && m->partition < NP) {
                per_part[m->partition]++;
                if (sent > 1.0)
                        per_part_late[m->partition]++;
        }
        long b = (long)(sent * 1000 / BUCKET_MS);
        if (b >= 0 && b < MAXB) {
                b_count[b]++;
                b_slow[b] += m->partition >= 0 && m->partition < NP && slow_part[m->partition];
                if (m->partition >= 0 && m->partition < NP)
                        b_part[b][m->partition]++;
                if (l > b_max[b])
                        b_max[b] = l;
                if (b_n[b] == b_cap[b]) {
                        b_cap[b] = b_cap[b] ? 2 * b_cap[b] : 1024;
                        b_lat[b] = realloc(b_lat[b], b_cap[b] * sizeof(int64_t));
                }
                b_lat[b][b_n[b]++] = l;
        }
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
        char err[512];
        if (rd_kafka_conf_set(c, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s=%s: %s\n", k, v, err);
                exit(2);
        }
}

static int cmp64(const void *a, const void *b) {
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return (x > y) - (x < y);
}

static int64_t pct(int64_t *v, long n, double q) {
        if (n == 0)
                return -1;
        long i = (long)(q * n);
        return v[i >= n ? n - 1 : i];
}

int main(int argc, char **argv) {
        if (argc < 5) {
                fprintf(stderr, "usage: %s builtin|sticky|adaptive none|slow|recover|max SECONDS RATE [RUN_BYTES]\n",
                        argv[0]);
                return 2;
        }
        const char *mode = argv[1], *scenario = argv[2];
        double seconds = atof(argv[3]);
        long rate = atol(argv[4]);
        const char *run_bytes = argc > 5 ? argv[5] : NULL;
        int max = !strcmp(scenario, "max");
        char err[512];

        const char *bootstrap = getenv("BENCH_BOOTSTRAP");
        const char *topic = getenv("BENCH_TOPIC") ? getenv("BENCH_TOPIC") : "t";
        const char *slow = getenv("BENCH_SLOW");
        for (int p = 0; p < NP; p++)
                slow_part[p] = slow ? 0 : 1 + p % 3 == SLOW_BROKER;
        for (const char *c = slow; c && *c; c++)
                if (*c >= '0' && *c < '0' + NP)
                        slow_part[*c - '0'] = 1;
        rd_kafka_t *mrk = NULL;
        rd_kafka_mock_cluster_t *mc = NULL;
        if (!bootstrap) {
                rd_kafka_conf_t *mconf = rd_kafka_conf_new();
                set(mconf, "log_level", "0");
                mrk = rd_kafka_new(RD_KAFKA_PRODUCER, mconf, err, sizeof(err));
                mc = rd_kafka_mock_cluster_new(mrk, 3);
                rd_kafka_mock_topic_create(mc, topic, NP, 1);
                for (int p = 0; p < NP; p++)
                        rd_kafka_mock_partition_set_leader(mc, topic, p, 1 + p % 3);
                if (!strcmp(scenario, "slow") || !strcmp(scenario, "recover"))
                        rd_kafka_mock_broker_set_rtt(mc, SLOW_BROKER, 1000);
                bootstrap = rd_kafka_mock_cluster_bootstraps(mc);
        }

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", bootstrap);
        set(conf, "enable.idempotence", "true");
        set(conf, "acks", "all");
        set(conf, "linger.ms", "5");
        set(conf, "queue.buffering.max.messages", "1000000");
        set(conf, "log_level", "3");
        if (strcmp(mode, "builtin")) {
                set(conf, "plugin.library.paths", "librdpart");
                set(conf, "rdpart.strategy", mode);
                if (run_bytes && !strcmp(mode, "adaptive"))
                        set(conf, "rdpart.adaptive.run.bytes", run_bytes);
        }
        if (getenv("BENCH_CONF")) {
                char *extra = strdup(getenv("BENCH_CONF")), *save = NULL;
                for (char *kv = strtok_r(extra, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
                        char *eq = strchr(kv, '=');
                        if (eq) {
                                *eq = '\0';
                                set(conf, kv, eq + 1);
                        }
                }
                free(extra);
        }
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "%s\n", err);
                return 2;
        }
        cap = (long)(max ? rate : rate * seconds) + 16;
        lat_us = malloc(cap * sizeof(int64_t));
        late_us = malloc(cap * sizeof(int64_t));
        recs = calloc(cap, sizeof(*recs));
        char payload[200];
        memset(payload, 'x', sizeof(payload));

        long sent = 0;
        int healed = 0;
        t0 = now_s();
        if (getenv("BENCH_RECORDS")) {
                printf("t0 %.6f\n", t0); /* for a harness that acts at times of this run */
                fflush(stdout);
        }
        double t = 0;
        /* max: RATE messages as fast as the producer takes them. */
        while (max ? sent < rate : (t = now_s() - t0) < seconds) {
                if (mc && !max && !healed && !strcmp(scenario, "recover") && t > seconds / 2) {
                        rd_kafka_mock_broker_set_rtt(mc, SLOW_BROKER, 0);
                        healed = 1;
                }
                long target = max ? rate : (long)(t * rate);
                while (sent < target && sent < cap) {
                        struct rec *at = &recs[sent];
                        at->sent = now_s() - t0;
                        at->done = -1;
                        rd_kafka_resp_err_t e = rd_kafka_producev(
                            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, sizeof(payload)),
                            RD_KAFKA_V_OPAQUE(at), RD_KAFKA_V_END);
                        if (e) {
                                if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                                        rd_kafka_poll(rk, 1);
                                        continue;
                                }
                                fprintf(stderr, "produce: %s\n", rd_kafka_err2str(e));
                                return 1;
                        }
                        sent++;
                }
                rd_kafka_poll(rk, max ? 0 : 1);
        }
        double send_end = now_s() - t0;
        rd_kafka_flush(rk, 120000);
        double elapsed = now_s() - t0;
        if (getenv("BENCH_RECORDS")) {
                FILE *f = fopen(getenv("BENCH_RECORDS"), "w");
                if (!f) {
                        perror(getenv("BENCH_RECORDS"));
                        return 1;
                }
                fprintf(f, "# send_end %.6f flushed %.6f t0 %.6f\n", send_end, elapsed, t0);
                for (long i = 0; i < sent; i++)
                        fprintf(f, "%.6f %.6f %.6f %d\n", (double)i / rate, recs[i].sent, recs[i].done,
                                recs[i].partition);
                fclose(f);
        }

        /* The high watermarks: everything appended (the mock cluster keeps
         * only the last few MB of each partition, so the low ones move). */
        int64_t lo, hi, appended = 0;
        for (int p = 0; p < NP; p++)
                if (!rd_kafka_query_watermark_offsets(rk, topic, p, &lo, &hi, 10000))
                        appended += hi;
        qsort(lat_us, nlat, sizeof(int64_t), cmp64);
        qsort(late_us, nlate, sizeof(int64_t), cmp64);
        printf("{\"host\": \"C\", \"mode\": \"%s\", \"scenario\": \"%s\", \"sent\": %ld, \"delivered\": %ld, "
               "\"failed\": %ld, \"appended\": %lld, \"seconds\": %.3f, \"throughput\": %.0f, "
               "\"p50_ms\": %.1f, \"p99_ms\": %.1f, \"max_ms\": %.1f, \"p99_after_1s_ms\": %.1f, "
               "\"partitions\": [",
               mode, scenario, sent, delivered, failed, (long long)appended, elapsed, delivered / elapsed,
               pct(lat_us, nlat, 0.5) / 1e3, pct(lat_us, nlat, 0.99) / 1e3, pct(lat_us, nlat, 1.0) / 1e3,
               pct(late_us, nlate, 0.99) / 1e3);
        for (int p = 0; p < NP; p++)
                printf("%s%ld", p ? ", " : "", per_part[p]);
        printf("], \"partitions_after_1s\": [");
        for (int p = 0; p < NP; p++)
                printf("%s%ld", p ? ", " : "", per_part_late[p]);
        printf("], \"buckets\": [");
        int first = 1;
        for (long b = 0; b < MAXB; b++) {
                if (!b_count[b])
                        continue;
                qsort(b_lat[b], b_n[b], sizeof(int64_t), cmp64);
                printf("%s[%.1f, %ld, %ld, %.1f, %.1f, [", first ? "" : ", ", b * BUCKET_MS / 1000.0, b_count[b],
                       b_slow[b], pct(b_lat[b], b_n[b], 0.99) / 1e3, b_max[b] / 1e3);
                for (int p = 0; p < NP; p++)
                        printf("%s%ld", p ? ", " : "", b_part[b][p]);
                printf("]]");
                first = 0;
        }
        printf("]}\n");
        rd_kafka_destroy(rk);
        if (mc) {
                rd_kafka_mock_cluster_destroy(mc);
                rd_kafka_destroy(mrk);
        }
        return 0;
}
