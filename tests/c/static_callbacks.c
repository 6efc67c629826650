/*
 * rdpart's plain callbacks (not the plugin) in a program that links
 * librdkafka statically, without -rdynamic, while a second, different
 * librdkafka sits in the global scope (loaded RTLD_GLOBAL, before or after
 * librdpart). The program's own rd_kafka_topic_partition_available is
 * invisible to dlsym; the one in the global scope belongs to the other
 * copy and must never be called with this copy's topics (it reads them
 * with another layout: a crash, most runs). Without rdpart_set_available()
 * rdpart must place every message and say once on stderr that it cannot
 * tell partitions' availability (naming rdpart_set_available); with it,
 * place every message and say nothing.
 *
 *   static_callbacks RDPART_SO SECOND_LIBRDKAFKA after|before [set_available]
 *
 * after: the second librdkafka is loaded first, then librdpart; before:
 * librdpart first. Keyless messages, sticky.partitioning.linger.ms=0, the
 * embedded mock cluster; rdpart_round_robin as the topic's partitioner.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "check.h"

typedef int32_t (*cb_t)(const rd_kafka_topic_t *, const void *, size_t, int32_t, void *, void *);
typedef void (*set_available_t)(int (*)(const rd_kafka_topic_t *, int32_t));

#define MSGS 300
static int delivered, dr_errors;
static int per_partition[4];

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk, (void)opaque;
        if (m->err) {
                dr_errors++;
                return;
        }
        delivered++;
        if (m->partition >= 0 && m->partition < 4)
                per_partition[m->partition]++;
}

static void *load(const char *path, int mode) {
        void *h = dlopen(path, mode);
        if (!h) {
                fprintf(stderr, "cannot load %s: %s\n", path, dlerror());
                exit(2);
        }
        return h;
}

static int count(const char *hay, const char *needle) {
        int n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

int main(int argc, char **argv) {
        char errstr[512];
        if (argc < 4 || (strcmp(argv[3], "after") && strcmp(argv[3], "before"))) {
                fprintf(stderr, "usage: static_callbacks RDPART_SO SECOND_LIBRDKAFKA "
                                "after|before [set_available]\n");
                return 2;
        }
        int after = !strcmp(argv[3], "after");
        int give = argc > 4 && !strcmp(argv[4], "set_available");

        /* Everything on stderr from here on goes to a file, read back at
         * the end (rdpart's warning may come at load or at the first
         * placement). */
        fflush(stderr);
        int saved = dup(2);
        FILE *cap = tmpfile();
        if (saved < 0 || !cap || dup2(fileno(cap), 2) < 0)
                return 2;

        void *rdpart;
        if (after) {
                load(argv[2], RTLD_NOW | RTLD_GLOBAL);
                rdpart = load(argv[1], RTLD_NOW | RTLD_LOCAL);
        } else {
                rdpart = load(argv[1], RTLD_NOW | RTLD_LOCAL);
                load(argv[2], RTLD_NOW | RTLD_GLOBAL);
        }
        cb_t rr;
        set_available_t set_available;
        *(void **)&rr = dlsym(rdpart, "rdpart_round_robin");
        *(void **)&set_available = dlsym(rdpart, "rdpart_set_available");
        if (!rr || !set_available)
                return 2;
        if (give)
                set_available(rd_kafka_topic_partition_available);

        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", NULL, 0);
        rd_kafka_conf_set(conf, "sticky.partitioning.linger.ms", "0", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "%s\n", errstr);
                return 2;
        }
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_partitioner_cb(tconf, rr);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "static-rr", tconf);
        int refused = 0;
        for (int i = 0; i < MSGS; i++) {
                refused += rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, "v", 1,
                                            NULL, 0, NULL) != 0;
                rd_kafka_poll(rk, 0);
                if (i == 20)
                        nanosleep(&(struct timespec){0, 200 * 1000 * 1000}, NULL); /* metadata in: later ones placed here */
        }
        /* An rdpart_new() partitioner with topic.strategy on a second topic:
         * it cannot read this librdkafka's topic names, and must say so
         * (once) rather than place by `strategy` silently. */
        void *(*conf_new)(void);
        int (*conf_set)(void *, const char *, const char *, char *, size_t);
        void *(*part_new)(void *, char *, size_t);
        cb_t part_cb;
        *(void **)&conf_new = dlsym(rdpart, "rdpart_conf_new");
        *(void **)&conf_set = dlsym(rdpart, "rdpart_conf_set");
        *(void **)&part_new = dlsym(rdpart, "rdpart_new");
        *(void **)&part_cb = dlsym(rdpart, "rdpart_partition");
        void *pc = conf_new();
        conf_set(pc, "topic.strategy", "static-*:jump", errstr, sizeof(errstr));
        void *part = part_new(pc, errstr, sizeof(errstr));
        CHECK(part != NULL, "rdpart_new: %s", errstr);
        rd_kafka_topic_conf_t *tconf2 = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set_partitioner_cb(tconf2, part_cb);
        rd_kafka_topic_conf_set_opaque(tconf2, part);
        rd_kafka_topic_t *rkt2 = rd_kafka_topic_new(rk, "static-jump", tconf2);
        for (int i = 0; i < 50; i++) {
                char key[16];
                int len = snprintf(key, sizeof(key), "k%d", i);
                refused += rd_kafka_produce(rkt2, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, "v", 1,
                                            key, (size_t)len, NULL) != 0;
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 15000);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_topic_destroy(rkt2);
        rd_kafka_destroy(rk);

        /* stderr back, and what was said on it. */
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        static char said[1 << 16];
        rewind(cap);
        size_t n = fread(said, 1, sizeof(said) - 1, cap);
        said[n] = 0;
        fclose(cap);
        int warned = count(said, "rdpart_set_available");
        int no_names = count(said, "topic.strategy cannot read topic names");
        for (char *line = strtok(said, "\n"); line; line = strtok(NULL, "\n"))
                if (!strncmp(line, "rdpart", 6))
                        printf("  stderr: %s\n", line);

        CHECK(refused == 0 && delivered == MSGS + 50, "%d of %d delivered (%d refused, %d failed)",
              delivered, MSGS + 50, refused, dr_errors);
        CHECK(no_names == 1, "stderr says topic.strategy cannot read topic names %d time(s), not once",
              no_names);
        int spread = 0;
        for (int p = 0; p < 4; p++)
                spread += per_partition[p] > 0;
        CHECK(spread == 4, "round_robin used %d of 4 partitions", spread);
        if (give)
                CHECK(warned == 0, "rdpart_set_available() was called, yet stderr names it %d "
                                   "time(s)", warned);
        else
                CHECK(warned == 1, "stderr names rdpart_set_available %d time(s), not once",
                      warned);
        printf("  librdpart loaded %s the second librdkafka%s: %d of %d delivered, "
               "partitions %d/%d/%d/%d\n",
               after ? "after" : "before", give ? ", rdpart_set_available() called" : "",
               delivered, MSGS, per_partition[0], per_partition[1], per_partition[2],
               per_partition[3]);
        return finish("static_callbacks");
}
