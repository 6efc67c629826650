/*
 * adaptive's keyless cost per call when every message ends its run
 * (adaptive.run.bytes=1, so each call chooses a partition), by partition
 * count, for one or more librdpart builds in one process (an rdpart_new()
 * partitioner, NULL keys, no topic). Before the audit fix a choice weighed
 * every partition up to 1,024 (O(n) per call); now above 16 partitions it
 * does so at most once per millisecond and samples otherwise.
 *
 *   cc -O2 -o target/adaptive_run_bytes benches/adaptive_run_bytes.c -ldl
 *   target/adaptive_run_bytes OLD/librdpart.so target/release/librdpart.so
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>
typedef int32_t (*part_f)(const void *, const void *, size_t, int32_t, void *, void *);
static double now(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1e9 + t.tv_nsec;
}
int main(int argc, char **argv) {
        static const int ns[] = {16, 64, 256, 1024, 1025, 4096};
        printf("| build |");
        for (int i = 0; i < 6; i++)
                printf(" %d partitions |", ns[i]);
        printf("\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (int l = 1; l < argc; l++) {
                void *h = dlopen(argv[l], RTLD_NOW | RTLD_LOCAL);
                if (!h) {
                        fprintf(stderr, "%s\n", dlerror());
                        return 1;
                }
                void *(*conf_new)(void) = (void *(*)(void))dlsym(h, "rdpart_conf_new");
                int (*conf_set)(void *, const char *, const char *, char *, size_t) =
                    (int (*)(void *, const char *, const char *, char *, size_t))dlsym(h, "rdpart_conf_set");
                void *(*make)(void *, char *, size_t) = (void *(*)(void *, char *, size_t))dlsym(h, "rdpart_new");
                part_f place = (part_f)dlsym(h, "rdpart_partition");
                char e[256];
                void *c = conf_new();
                conf_set(c, "strategy", "adaptive", e, sizeof e);
                conf_set(c, "adaptive.run.bytes", "1", e, sizeof e);
                void *p = make(c, e, sizeof e);
                printf("| %s |", argv[l]);
                for (int i = 0; i < 6; i++) {
                        volatile int32_t sink = 0;
                        long iters = 200000;
                        double best = 1e18;
                        for (int r = 0; r < 5; r++) {
                                double t = now();
                                for (long k = 0; k < iters; k++)
                                        sink += place(NULL, NULL, 0, ns[i], p, NULL);
                                double d = (now() - t) / iters;
                                best = d < best ? d : best;
                        }
                        printf(" %.0f ns |", best);
                }
                printf("\n");
        }
        return 0;
}
