/*
 * The callback API without a broker: rdpart_set_available() hands rdpart a
 * stand-in availability function, and fake topic handles (rdpart only
 * compares them and passes them back) stand for topics.
 *
 *   callbacks [CASE ...]   (topics, outage, fork, conf_set; default: all)
 *
 * Run under valgrind too: conf_set must be clean there.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rdpart.h"

#include "check.h"

/* Weak, so this program also runs against a librdpart without it (to show
 * these checks fail there). */
#pragma weak rdpart_set_available

typedef int32_t (*cb_t)(const rd_kafka_topic_t *, const void *, size_t, int32_t, void *, void *);

static long calls;
static int up = 1; /* every partition has a leader, or none */

static int fake_available(const rd_kafka_topic_t *rkt, int32_t partition) {
        (void)rkt, (void)partition;
        calls++;
        return up;
}

static const rd_kafka_topic_t *fake_topic(uintptr_t i) {
        return (const rd_kafka_topic_t *)(uintptr_t)(0x10000000 + 64 * i);
}

static int32_t keyless(cb_t cb, const rd_kafka_topic_t *rkt, int32_t n) {
        return cb(rkt, NULL, 0, n, NULL, NULL);
}

/* More topics than the old 255-slot table: each keeps its own cycle. */
static void every_topic_its_own_state(void) {
        /* Warm 300 topics, then alternate the last two: each must cycle
         * 0,1,0,1 on its own. */
        for (uintptr_t t = 0; t < 300; t++)
                keyless(rdpart_round_robin, fake_topic(t), 2);
        long counts[2][2] = {{0, 0}, {0, 0}};
        for (int i = 0; i < 10000; i++) {
                counts[0][keyless(rdpart_round_robin, fake_topic(298), 2)]++;
                counts[1][keyless(rdpart_round_robin, fake_topic(299), 2)]++;
        }
        CHECK(counts[0][0] == 5000 && counts[0][1] == 5000 && counts[1][0] == 5000 &&
                  counts[1][1] == 5000,
              "two topics past 255 share a cycle: [%ld, %ld] and [%ld, %ld]", counts[0][0],
              counts[0][1], counts[1][0], counts[1][1]);
        /* 100,000 topics, each called once, then each once again: a topic
         * with a cycle of its own moves to its other partition (a cycle
         * shared by all would give each topic the same parity twice). */
        static int32_t first[100000];
        int shared = 0;
        for (uintptr_t t = 0; t < 100000; t++)
                first[t] = keyless(rdpart_round_robin, fake_topic(1000 + t), 2);
        for (uintptr_t t = 0; t < 100000; t++)
                shared += keyless(rdpart_round_robin, fake_topic(1000 + t), 2) == first[t];
        CHECK(shared == 0, "%d of 100000 topics without a cycle of their own", shared);
        printf("  300 and 100,000 topics: each its own cycle\n");
}

/* Every leader lost: a keyless message must not scan all partitions. */
static void outage_is_cheap(void) {
        const int32_t n = 1000;
        struct {
                const char *name;
                cb_t cb;
        } cbs[] = {{"random", rdpart_random},
                   {"round_robin", rdpart_round_robin},
                   {"sticky", rdpart_sticky},
                   {"murmur2_random", rdpart_murmur2_random}};
        for (size_t i = 0; i < sizeof(cbs) / sizeof(cbs[0]); i++) {
                const rd_kafka_topic_t *rkt = fake_topic(200000 + i);
                up = 1;
                keyless(cbs[i].cb, rkt, n); /* every leader known: settled */
                up = 0;
                calls = 0;
                int bad = 0;
                for (int m = 0; m < 1000; m++)
                        bad += (uint32_t)keyless(cbs[i].cb, rkt, n) >= (uint32_t)n;
                double per = calls / 1000.0;
                CHECK(bad == 0 && per <= 64, "%s: %.1f availability calls per message in an outage",
                      cbs[i].name, per);
                printf("  outage, %s, %d partitions: %.1f availability calls per message\n",
                       cbs[i].name, n, per);
        }
        up = 1;
}

/* Forked workers must not draw the same random sequence. */
static void fork_reseeds(void) {
        for (int i = 0; i < 5; i++)
                keyless(rdpart_random, NULL, 1000000);
        int32_t seqs[3][8];
        for (int c = 0; c < 3; c++) {
                int fd[2];
                if (pipe(fd))
                        return;
                pid_t pid = fork();
                if (pid == 0) {
                        int32_t s[8];
                        for (int i = 0; i < 8; i++)
                                s[i] = keyless(rdpart_random, NULL, 1000000);
                        ssize_t w = write(fd[1], s, sizeof(s));
                        _exit(w == sizeof(s) ? 0 : 1);
                }
                close(fd[1]);
                ssize_t r = read(fd[0], seqs[c], sizeof(seqs[c]));
                close(fd[0]);
                waitpid(pid, NULL, 0);
                CHECK(r == sizeof(seqs[c]), "child %d wrote %zd bytes", c, r);
        }
        int same = !memcmp(seqs[0], seqs[1], sizeof(seqs[0])) ||
                   !memcmp(seqs[1], seqs[2], sizeof(seqs[0])) ||
                   !memcmp(seqs[0], seqs[2], sizeof(seqs[0]));
        CHECK(!same, "forked children drew the same sequence: %d %d %d ...", seqs[0][0],
              seqs[1][0], seqs[2][0]);
        printf("  fork: children draw %d, %d, %d ...\n", seqs[0][0], seqs[1][0], seqs[2][0]);
}

/* rdpart_conf_set with NULL, "" and real values (valgrind: no error). */
static void conf_set_values(void) {
        char errstr[256];
        rdpart_conf_t *c = rdpart_conf_new();
        CHECK(rdpart_conf_set(c, "strategy", NULL, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK,
              "NULL resets: %s", errstr);
        CHECK(rdpart_conf_set(c, "strategy", "", errstr, sizeof(errstr)) == RD_KAFKA_CONF_INVALID &&
                  strstr(errstr, "round_robin"),
              "\"\" refused with the allowed values: %s", errstr);
        CHECK(rdpart_conf_set(c, "rdpart.strategy", "jump", errstr, sizeof(errstr)) ==
                  RD_KAFKA_CONF_OK,
              "%s", errstr);
        CHECK(rdpart_conf_set(c, "sticky.messages", NULL, NULL, 0) == RD_KAFKA_CONF_OK, "NULL");
        CHECK(rdpart_conf_set(c, "sticky.linger.ms", "", errstr, sizeof(errstr)) ==
                  RD_KAFKA_CONF_INVALID,
              "\"\" linger");
        CHECK(rdpart_conf_set(NULL, "strategy", NULL, errstr, sizeof(errstr)) ==
                  RD_KAFKA_CONF_INVALID,
              "NULL conf");
        CHECK(rdpart_conf_set(c, NULL, NULL, errstr, sizeof(errstr)) == RD_KAFKA_CONF_INVALID,
              "NULL name");
        rdpart_conf_destroy(c);
}

static int wants(int argc, char **argv, const char *name) {
        if (argc < 2)
                return 1;
        for (int i = 1; i < argc; i++)
                if (!strcmp(argv[i], name))
                        return 1;
        return 0;
}

int main(int argc, char **argv) {
        if (rdpart_set_available)
                rdpart_set_available(fake_available);
        else
                printf("  (this librdpart has no rdpart_set_available)\n");
        if (wants(argc, argv, "topics"))
                every_topic_its_own_state();
        if (wants(argc, argv, "outage"))
                outage_is_cheap();
        if (wants(argc, argv, "fork"))
                fork_reseeds();
        if (wants(argc, argv, "conf_set"))
                conf_set_values();
        if (rdpart_set_available)
                rdpart_set_available(NULL);
        return finish("callbacks");
}
