/*
 * hot.key.share's cost per call: an rdpart_new() partitioner, strategy
 * murmur2, 6 partitions, 16-byte keys (40% one key, 60% over 2,000), against
 * the same partitioner without hot keys, in one process, best of 15
 * alternating runs. One topic handle (NULL: the calls without a topic).
 *
 *   cc -O2 -o target/hot_keys benches/hot_keys.c -ldl
 *   target/hot_keys target/release/librdpart.so
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
typedef int32_t (*part_f)(const void *, const void *, size_t, int32_t, void *, void *);
typedef void *(*conf_new_f)(void);
typedef int (*conf_set_f)(void *, const char *, const char *, char *, size_t);
typedef void *(*new_f)(void *, char *, size_t);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(int argc, char **argv) {
        void *h = dlopen(argc > 1 ? argv[1] : "target/release/librdpart.so", RTLD_NOW);
        if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
        conf_new_f cn = dlsym(h, "rdpart_conf_new"); conf_set_f cs = dlsym(h, "rdpart_conf_set");
        new_f nw = dlsym(h, "rdpart_new"); part_f f = dlsym(h, "rdpart_partition");
        char e[256]; void *p[3];
        const char *share[3] = {NULL, "0.2", "0.2"}, *spread[3] = {NULL, NULL, "6"};
        for (int i = 0; i < 3; i++) {
                void *c = cn(); cs(c, "strategy", "murmur2", e, sizeof e);
                if (share[i]) cs(c, "hot.key.share", share[i], e, sizeof e);
                if (spread[i]) cs(c, "hot.key.partitions", spread[i], e, sizeof e);
                p[i] = nw(c, e, sizeof e);
        }
        /* 5 keys in every 5 messages: 2 the hot key, 3 of 2,000 others. */
        static char keys[4096][16]; static int order[1 << 16];
        for (int k = 0; k < 2000; k++) snprintf(keys[k + 1], 16, "key-%011d", k);
        memcpy(keys[0], "the-hot-key-0001", 16);
        for (int i = 0; i < (1 << 16); i++) order[i] = i % 5 < 2 ? 0 : 1 + (i / 5 * 3 + i % 5 - 2) % 2000;
        const long N = 10000000; double best[3] = {1e99, 1e99, 1e99}; volatile long acc = 0;
        for (int r = 0; r < 15; r++)
                for (int i = 0; i < 3; i++) {
                        double t = now(); long a = 0;
                        for (long k = 0; k < N; k++) a += f(NULL, keys[order[k & 0xffff]], 16, 6, p[i], NULL);
                        acc += a; t = (now() - t) / N;
                        if (t < best[i]) best[i] = t;
                }
        printf("| partitioner (murmur2, 16 B keys, 40%% one key) | ns per call | ratio |\n|---|---:|---:|\n");
        printf("| hot.key.share unset | %.2f | |\n", best[0]);
        printf("| hot.key.share=0.2 | %.2f | %.2fx |\n", best[1], best[1] / best[0]);
        printf("| hot.key.share=0.2, hot.key.partitions=6 | %.2f | %.2fx |\n", best[2], best[2] / best[0]);
        return 0;
}
