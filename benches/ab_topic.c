/*
 * A/B of librdpart builds in one process, with a real topic handle: per
 * call of rdpart_random, rdpart_sticky and rdpart_round_robin on NULL keys,
 * 6 partitions, best of 9 alternating runs of 5 million calls. The topic
 * is an rd_kafka_topic_t of a producer with no cluster, so its partitions
 * have no leader: each call asks librdkafka for the topic's name (to find
 * its state) and which partitions have a leader, as a placement does.
 *
 *   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release --lib)
 *   cargo build --release --lib
 *   cc -O2 -o target/ab_topic benches/ab_topic.c -ldl $(pkg-config --cflags --libs rdkafka)
 *   target/ab_topic /tmp/old/target/release/librdpart.so target/release/librdpart.so
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <librdkafka/rdkafka.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
typedef int32_t (*part_f)(const void *, const void *, size_t, int32_t, void *, void *);
static double now(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1e9 + t.tv_nsec;
}
#define LIBS 4
#define FNS 3
static const char *names[FNS] = {"rdpart_random", "rdpart_sticky", "rdpart_round_robin"};
int main(int argc, char **argv) {
        int libs = argc - 1;
        if (libs < 1 || libs > LIBS) {
                fprintf(stderr, "usage: ab_topic LIB.so [LIB.so ...] (at most %d)\n", LIBS);
                return 2;
        }
        char e[256];
        rd_kafka_conf_t *c = rd_kafka_conf_new();
        rd_kafka_conf_set(c, "log_level", "0", e, sizeof e);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
        if (!rk) {
                fprintf(stderr, "%s\n", e);
                return 1;
        }
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "orders-and-more-events", NULL);
        part_f f[LIBS][FNS];
        for (int i = 0; i < libs; i++) {
                void *h = dlopen(argv[1 + i], RTLD_NOW | RTLD_LOCAL);
                if (!h) {
                        fprintf(stderr, "%s\n", dlerror());
                        return 1;
                }
                for (int w = 0; w < FNS; w++)
                        if (!(f[i][w] = (part_f)dlsym(h, names[w]))) {
                                fprintf(stderr, "%s: no %s\n", argv[1 + i], names[w]);
                                return 1;
                        }
        }
        double best[LIBS][FNS];
        for (int i = 0; i < libs; i++)
                for (int w = 0; w < FNS; w++)
                        best[i][w] = 1e18;
        const int n = 5000000;
        volatile int32_t sink = 0;
        for (int r = 0; r < 9; r++)
                for (int i = 0; i < libs; i++)
                        for (int w = 0; w < FNS; w++) {
                                double a = now();
                                for (int k = 0; k < n; k++)
                                        sink += f[i][w](rkt, NULL, 0, 6, NULL, NULL);
                                double ns = (now() - a) / n;
                                if (ns < best[i][w])
                                        best[i][w] = ns;
                        }
        printf("| function |");
        for (int i = 0; i < libs; i++)
                printf(" %s |", argv[1 + i]);
        printf("\n|---|");
        for (int i = 0; i < libs; i++)
                printf("---:|");
        printf("\n");
        for (int w = 0; w < FNS; w++) {
                printf("| %s, NULL keys, a topic |", names[w]);
                for (int i = 0; i < libs; i++)
                        printf(" %.2f ns |", best[i][w]);
                printf("\n");
        }
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return 0;
}
