/*
 * A/B of librdpart builds in one process: per call, on 6 partitions, best
 * of 15 alternating runs: with no topic (rkt NULL, 20 million calls a run),
 * rdpart_murmur2 and rdpart_partition (an rdpart_new() partitioner,
 * strategy murmur2, no other option) on 16-byte keys, and rdpart_sticky,
 * rdpart_random and rdpart_round_robin on NULL keys; then the last three
 * again with a real topic handle (5 million calls a run: an rd_kafka_topic_t
 * of a producer with no cluster, so each call also asks librdkafka for the
 * topic's name and which partitions have a leader). Each figure also as a
 * ratio to rdpart_murmur2 of the same build in the same run.
 *
 *   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release --lib)
 *   cargo build --release --lib
 *   cc -O2 -o target/ab_partition benches/ab_partition.c -ldl $(pkg-config --cflags --libs rdkafka)
 *   target/ab_partition /tmp/old/target/release/librdpart.so target/release/librdpart.so
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef int32_t (*part_f)(const void *, const void *, size_t, int32_t, void *, void *);
typedef void *(*conf_new_f)(void);
typedef int (*conf_set_f)(void *, const char *, const char *, char *, size_t);
typedef void *(*new_f)(void *, char *, size_t);
static double now(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1e9 + t.tv_nsec;
}
#define LIBS 4
#define FNS 5
static const char *names[FNS] = {"rdpart_murmur2", "rdpart_partition", "rdpart_sticky",
                                 "rdpart_random", "rdpart_round_robin"};
/* What is timed: a function, with 16-byte keys or NULL keys, with no topic
 * or the topic handle. */
#define ROWS 8
static const struct {
        int fn, keyed, topic;
} rows[ROWS] = {{0, 1, 0}, {1, 1, 0}, {2, 0, 0}, {3, 0, 0},
                {4, 0, 0}, {2, 0, 1}, {3, 0, 1}, {4, 0, 1}};
int main(int argc, char **argv) {
        int libs = argc - 1;
        if (libs < 1 || libs > LIBS) {
                fprintf(stderr, "usage: ab_partition LIB.so [LIB.so ...] (at most %d)\n", LIBS);
                return 2;
        }
        part_f f[LIBS][FNS];
        void *p[LIBS];
        for (int i = 0; i < libs; i++) {
                void *h = dlopen(argv[1 + i], RTLD_NOW | RTLD_LOCAL);
                if (!h) {
                        fprintf(stderr, "%s\n", dlerror());
                        return 1;
                }
                conf_new_f cn = (conf_new_f)dlsym(h, "rdpart_conf_new");
                conf_set_f cs = (conf_set_f)dlsym(h, "rdpart_conf_set");
                new_f nw = (new_f)dlsym(h, "rdpart_new");
                void *c = cn();
                char e[256];
                cs(c, "strategy", "murmur2", e, sizeof e);
                p[i] = nw(c, e, sizeof e);
                if (!p[i]) {
                        fprintf(stderr, "%s: rdpart_new: %s\n", argv[1 + i], e);
                        return 1;
                }
                for (int w = 0; w < FNS; w++)
                        if (!(f[i][w] = (part_f)dlsym(h, names[w]))) {
                                fprintf(stderr, "%s: no %s\n", argv[1 + i], names[w]);
                                return 1;
                        }
        }
        static uint8_t keys[256 * 16];
        uint64_t x = 88172645463325252ull;
        for (size_t i = 0; i < sizeof keys; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                keys[i] = (uint8_t)x;
        }
        /* Every build places the keys alike (keyed functions) before any is timed. */
        for (int i = 1; i < libs; i++)
                for (int w = 0; w < 2; w++)
                        for (int k = 0; k < 256; k++)
                                if (f[i][w](NULL, keys + k * 16, 16, 6, w ? p[i] : NULL, NULL) !=
                                    f[0][w](NULL, keys + k * 16, 16, 6, w ? p[0] : NULL, NULL)) {
                                        fprintf(stderr, "%s and %s place key %d apart (%s)\n",
                                                argv[1], argv[1 + i], k, names[w]);
                                        return 1;
                                }
        char e[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "log_level", "0", e, sizeof e);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, e, sizeof e);
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", e);
                return 1;
        }
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "orders-and-more-events", NULL);
        double best[LIBS][ROWS];
        for (int i = 0; i < libs; i++)
                for (int w = 0; w < ROWS; w++)
                        best[i][w] = 1e99;
        volatile long acc = 0;
        for (int r = 0; r < 15; r++)
                for (int i = 0; i < libs; i++)
                        for (int w = 0; w < ROWS; w++) {
                                part_f fn = f[i][rows[w].fn];
                                void *opaque = rows[w].fn == 1 ? p[i] : NULL;
                                const void *topic = rows[w].topic ? rkt : NULL;
                                const long n = rows[w].topic ? 5000000 : 20000000;
                                double t = now();
                                long a = 0;
                                if (rows[w].keyed)
                                        for (long k = 0; k < n; k++)
                                                a += fn(topic, keys + (k & 255) * 16, 16, 6,
                                                        opaque, NULL);
                                else
                                        for (long k = 0; k < n; k++)
                                                a += fn(topic, NULL, 0, 6, opaque, NULL);
                                acc += a;
                                t = (now() - t) / n;
                                if (t < best[i][w])
                                        best[i][w] = t;
                        }
        printf("| function |");
        for (int i = 0; i < libs; i++)
                printf(" %s |", argv[1 + i]);
        printf("\n|---|");
        for (int i = 0; i < libs; i++)
                printf("---:|");
        printf("\n");
        for (int w = 0; w < ROWS; w++) {
                printf("| %s%s%s |", names[rows[w].fn],
                       rows[w].keyed ? ", 16 B keys" : ", NULL keys",
                       rows[w].topic ? ", a topic" : "");
                for (int i = 0; i < libs; i++)
                        printf(" %.2f ns (%.2fx) |", best[i][w], best[i][w] / best[i][0]);
                printf("\n");
        }
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return 0;
}
