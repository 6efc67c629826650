/*
 * A/B of two librdpart builds in one process: rdpart_murmur2 and
 * rdpart_partition (an rdpart_new() partitioner, strategy murmur2, no other
 * option) on 16-byte keys, and rdpart_sticky on NULL keys (keyless, no
 * topic), 6 partitions, best of 15 alternating runs. Made to show that
 * key.delimiter and topic.strategy cost nothing when unset, and sticky's
 * keyless cost against murmur2's:
 *
 *   git worktree add /tmp/old <commit> && (cd /tmp/old && cargo build --release --lib)
 *   cargo build --release --lib
 *   cc -O2 -o target/ab_partition benches/ab_partition.c -ldl
 *   target/ab_partition /tmp/old/target/release/librdpart.so target/release/librdpart.so
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
typedef int32_t (*part_f)(const void *, const void *, size_t, int32_t, void *, void *);
typedef void *(*conf_new_f)(void);
typedef int (*conf_set_f)(void *, const char *, const char *, char *, size_t);
typedef void *(*new_f)(void *, char *, size_t);
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(int argc, char **argv) {
        part_f f[2]; void *p[2]; part_f m[2]; part_f st[2];
        for (int i = 0; i < 2; i++) {
                void *h = dlopen(argv[1 + i], RTLD_NOW | RTLD_LOCAL);
                if (!h) { fprintf(stderr, "%s\n", dlerror()); return 1; }
                conf_new_f cn = dlsym(h, "rdpart_conf_new"); conf_set_f cs = dlsym(h, "rdpart_conf_set"); new_f nw = dlsym(h, "rdpart_new");
                void *c = cn(); char e[256]; cs(c, "strategy", "murmur2", e, sizeof e);
                p[i] = nw(c, e, sizeof e); f[i] = dlsym(h, "rdpart_partition"); m[i] = dlsym(h, "rdpart_murmur2"); st[i] = dlsym(h, "rdpart_sticky");
        }
        static uint8_t keys[256 * 16]; uint64_t x = 88172645463325252ull;
        for (size_t i = 0; i < sizeof keys; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; keys[i] = x; }
        const long N = 20000000; double best[2][3] = {{1e99, 1e99, 1e99}, {1e99, 1e99, 1e99}}; volatile long acc = 0;
        for (int r = 0; r < 15; r++)
                for (int i = 0; i < 2; i++)
                        for (int which = 0; which < 3; which++) {
                                double t = now(); long a = 0;
                                for (long k = 0; k < N; k++)
                                        a += which == 2 ? st[i](NULL, NULL, 0, 6, NULL, NULL)
                                             : which ? f[i](NULL, keys + (k & 255) * 16, 16, 6, p[i], NULL)
                                                     : m[i](NULL, keys + (k & 255) * 16, 16, 6, NULL, NULL);
                                acc += a; t = (now() - t) / N;
                                if (t < best[i][which]) best[i][which] = t;
                        }
        printf("old: murmur2 %.2f ns, rdpart_partition %.2f ns (%.2fx)\n", best[0][0], best[0][1], best[0][1] / best[0][0]);
        printf("new: murmur2 %.2f ns, rdpart_partition %.2f ns (%.2fx)\n", best[1][0], best[1][1], best[1][1] / best[1][0]);
        printf("new/old rdpart_partition: %.3fx\n", best[1][1] / best[0][1]);
        printf("old: rdpart_sticky keyless %.2f ns (%.2fx murmur2)\n", best[0][2], best[0][2] / best[0][0]);
        printf("new: rdpart_sticky keyless %.2f ns (%.2fx murmur2)\n", best[1][2], best[1][2] / best[1][0]);
        return 0;
}
