/*
 * No dynamic-loader call on a partitioner's path. A partitioner runs under
 * librdkafka's topic lock; the loader's locks taken there deadlock against
 * a concurrent dlopen (NSS, SASL, OpenSSL, Python imports). This program
 * interposes the loader's entry points (it is linked with -rdynamic, so
 * librdpart's calls bind to the functions below), counts the calls made by
 * this thread while it calls every rdpart partitioner with a real topic,
 * and expects none.
 *
 *   no_loader
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "rdpart.h"

#include "check.h"

static __thread int hot;
static __thread long loader_calls;

static void *real(const char *name) {
        const char *versions[] = {"GLIBC_2.34", "GLIBC_2.3.3", "GLIBC_2.2.5"};
        for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
                void *p = dlvsym(RTLD_NEXT, name, versions[i]);
                if (p)
                        return p;
        }
        return NULL;
}

#define COUNT() (loader_calls += hot)

void *dlopen(const char *file, int mode) {
        static void *(*f)(const char *, int);
        COUNT();
        if (!f)
                *(void **)&f = real("dlopen");
        return f(file, mode);
}

void *dlsym(void *handle, const char *name) {
        static void *(*f)(void *, const char *);
        COUNT();
        if (!f)
                *(void **)&f = real("dlsym");
        return f(handle, name);
}

int dlclose(void *handle) {
        static int (*f)(void *);
        COUNT();
        if (!f)
                *(void **)&f = real("dlclose");
        return f(handle);
}

int dladdr(const void *addr, Dl_info *info) {
        static int (*f)(const void *, Dl_info *);
        COUNT();
        if (!f)
                *(void **)&f = real("dladdr");
        return f(addr, info);
}

int dl_iterate_phdr(int (*cb)(struct dl_phdr_info *, size_t, void *), void *data) {
        static int (*f)(int (*)(struct dl_phdr_info *, size_t, void *), void *);
        COUNT();
        if (!f)
                *(void **)&f = real("dl_iterate_phdr");
        return f(cb, data);
}

typedef int32_t (*cb_t)(const rd_kafka_topic_t *, const void *, size_t, int32_t, void *, void *);

int main(void) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "%s\n", errstr);
                return 2;
        }
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "loader", NULL);
        const struct rd_kafka_metadata *md;
        if (!rd_kafka_metadata(rk, 0, rkt, &md, 5000))
                rd_kafka_metadata_destroy(md);
        rdpart_t *part = rdpart_new(NULL, errstr, sizeof(errstr));
        /* A strategy per topic (resolved by name on first sight) and a key
         * delimiter: rdpart_new may call the loader, placements may not. */
        rdpart_conf_t *pconf = rdpart_conf_new();
        CHECK(rdpart_conf_set(pconf, "topic.strategy", "x*:jump,*:kafkajs_legacy", errstr,
                              sizeof(errstr)) == RD_KAFKA_CONF_OK &&
                  rdpart_conf_set(pconf, "key.delimiter", ":", errstr, sizeof(errstr)) ==
                      RD_KAFKA_CONF_OK,
              "%s", errstr);
        rdpart_t *per_topic = rdpart_new(pconf, errstr, sizeof(errstr));
        CHECK(per_topic != NULL, "rdpart_new with topic.strategy: %s", errstr);
        rdpart_conf_destroy(pconf);
        struct {
                const char *name;
                cb_t cb;
                void *opaque;
        } cbs[] = {{"murmur2", rdpart_murmur2, NULL},
                   {"murmur2_random", rdpart_murmur2_random, NULL},
                   {"consistent", rdpart_consistent, NULL},
                   {"consistent_random", rdpart_consistent_random, NULL},
                   {"fnv1a", rdpart_fnv1a, NULL},
                   {"fnv1a_random", rdpart_fnv1a_random, NULL},
                   {"jump", rdpart_jump, NULL},
                   {"random", rdpart_random, NULL},
                   {"round_robin", rdpart_round_robin, NULL},
                   {"sticky", rdpart_sticky, NULL},
                   {"kafkajs", rdpart_kafkajs, NULL},
                   {"kafkajs_legacy", rdpart_kafkajs_legacy, NULL},
                   {"sarama_reference", rdpart_sarama_reference, NULL},
                   {"sarama_crc", rdpart_sarama_crc, NULL},
                   {"kafka_go_hash", rdpart_kafka_go_hash, NULL},
                   {"adaptive", rdpart_adaptive, NULL},
                   {"partition", rdpart_partition, part},
                   {"partition (topic.strategy, key.delimiter)", rdpart_partition, per_topic}};
        long all = 0;
        for (size_t i = 0; i < sizeof(cbs) / sizeof(cbs[0]); i++) {
                loader_calls = 0;
                hot = 1;
                int bad = 0;
                for (int m = 0; m < 100; m++) {
                        bad += (uint32_t)cbs[i].cb(rkt, NULL, 0, 4, cbs[i].opaque, NULL) >= 4;
                        bad += (uint32_t)cbs[i].cb(rkt, "k", 1, 4, cbs[i].opaque, NULL) >= 4;
                }
                hot = 0;
                CHECK(loader_calls == 0 && bad == 0,
                      "rdpart_%s: %ld dynamic-loader calls in 200 placements", cbs[i].name,
                      loader_calls);
                all += loader_calls;
        }
        printf("  200 placements with each of %zu partitioners: %ld dynamic-loader calls\n",
               sizeof(cbs) / sizeof(cbs[0]), all);
        rdpart_destroy(part);
        rdpart_destroy(per_topic);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return finish("no_loader");
}
