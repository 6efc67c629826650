/*
 * rdpart's messages on the application's log, the way librdkafka delivers
 * its own, with the system librdkafka and its embedded mock cluster:
 *
 * - without log.queue, through the producer's log_cb, from any thread, as
 *   librdkafka does (case direct);
 * - with log.queue=true and rd_kafka_set_log_queue(rk, NULL), log_cb is
 *   called only from the thread that polls (inside rd_kafka_poll() or
 *   rd_kafka_flush()): never inside rd_kafka_new(), never on a broker
 *   thread, rdpart's lines included (cases queue, queue_all, queue_quiet).
 *   rdpart's lines arrive at the latest in the poll/flush that follows the
 *   producer's next produce().
 *
 * Each line of rdpart's has facility RDPART and text starting "rdpart: ",
 * the debug line (debug=plugin or all) at level 7, the warning about a topic
 * with a topic conf of its own at level 4; no ICFAIL line about rdpart ever
 * reaches log_cb.
 *
 *   log_hosts PLUGIN_PATH [CASE ...]
 *
 * Without CASE, every case runs; CASE is one of direct, queue, queue_all,
 * queue_quiet, quiet (log.queue=true with log_level=3: rdpart's ERR line
 * arrives at level 3, nothing above it does).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "check.h"

static const char *plugin;

#define DEBUG_LINE "rdpart: rdpart "
#define DEBUG_WHAT "places this producer's messages"
#define OWN_TCONF "rdpart: topic \"t\" was created with a topic configuration of its own"
#define ERR_LINE "the partitioner returned partition 1000"

/* ---- every call of the application's log_cb ---- */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_t main_thread;
static int in_new;     /* set around rd_kafka_new() */
static int queue_mode; /* the producer has log.queue=true */
static struct {
        int calls, off_main, in_new;           /* all facilities */
        int above[8];                          /* calls per level */
        int err_lines;                         /* rdpart's ERR_LINE, at level 3 */
        int rdpart_off_main, rdpart_in_new;    /* facility RDPART */
        int debug_lines, debug_bad, warnings, warnings_bad, other_rdpart, icfail_rdpart;
        char first_bad[1024];
} seen;

static void note_bad(const char *fac, int level, const char *buf, const char *why) {
        if (!seen.first_bad[0])
                snprintf(seen.first_bad, sizeof(seen.first_bad), "%s: %d|%s|%s", why, level, fac, buf);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        (void)rk;
        pthread_mutex_lock(&log_lock);
        int on_main = pthread_equal(pthread_self(), main_thread);
        seen.calls++;
        if (level >= 0 && level < 8)
                seen.above[level]++;
        seen.off_main += !on_main;
        seen.in_new += in_new;
        if (queue_mode && !on_main)
                note_bad(fac, level, buf, "off the main thread");
        else if (queue_mode && in_new)
                note_bad(fac, level, buf, "inside rd_kafka_new()");
        if (!strcmp(fac, "RDPART")) {
                seen.rdpart_off_main += !on_main;
                seen.rdpart_in_new += in_new;
                if (!strncmp(buf, DEBUG_LINE, strlen(DEBUG_LINE)) && strstr(buf, DEBUG_WHAT)) {
                        seen.debug_lines++;
                        if (level != 7) {
                                seen.debug_bad++;
                                note_bad(fac, level, buf, "the debug line's level");
                        }
                } else if (!strncmp(buf, OWN_TCONF, strlen(OWN_TCONF))) {
                        seen.warnings++;
                        if (level != 4) {
                                seen.warnings_bad++;
                                note_bad(fac, level, buf, "the warning's level");
                        }
                } else if (strstr(buf, ERR_LINE) && level == 3) {
                        seen.err_lines++;
                } else if (strncmp(buf, "rdpart: ", 8)) {
                        seen.other_rdpart++;
                        note_bad(fac, level, buf, "an RDPART line not starting \"rdpart: \"");
                }
        } else if (!strcmp(fac, "ICFAIL") && strstr(buf, "rdpart")) {
                seen.icfail_rdpart++;
                note_bad(fac, level, buf, "ICFAIL about rdpart");
        } else if (strstr(buf, "rdpart: ")) {
                seen.other_rdpart++;
                note_bad(fac, level, buf, "rdpart's text under another facility");
        }
        pthread_mutex_unlock(&log_lock);
}

static void log_clear(void) {
        pthread_mutex_lock(&log_lock);
        memset(&seen, 0, sizeof(seen));
        pthread_mutex_unlock(&log_lock);
}

static int delivered, delivery_errors;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk, (void)opaque;
        if (m->err)
                delivery_errors++;
        else
                delivered++;
}

/* A producer with rdpart (strategy jump), `debug` (NULL: none), log_cb, and
 * log.queue=true when `queue`; with the queue, rd_kafka_set_log_queue(rk,
 * NULL) sends the log to the main queue, served by rd_kafka_poll(). */
static rd_kafka_t *producer(const char *debug, int queue) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", NULL, 0);
        rd_kafka_conf_set_log_cb(conf, log_cb);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        if (queue && rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof(errstr))) {
                CHECK(0, "log.queue: %s", errstr);
                exit(2);
        }
        if (rd_kafka_conf_set(conf, "plugin.library.paths", plugin, errstr, sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "rdpart.strategy", "jump", errstr, sizeof(errstr)) ||
            (debug && rd_kafka_conf_set(conf, "debug", debug, errstr, sizeof(errstr)))) {
                fprintf(stderr, "cannot configure the producer: %s\n", errstr);
                exit(2);
        }
        pthread_mutex_lock(&log_lock);
        in_new = 1;
        pthread_mutex_unlock(&log_lock);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        pthread_mutex_lock(&log_lock);
        in_new = 0;
        pthread_mutex_unlock(&log_lock);
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                exit(2);
        }
        if (queue) {
                rd_kafka_resp_err_t err = rd_kafka_set_log_queue(rk, NULL);
                CHECK(!err, "rd_kafka_set_log_queue: %s", rd_kafka_err2str(err));
        }
        return rk;
}

/* `n` NULL-key messages to `rkt`, then flush. */
static void produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int n) {
        for (int i = 0; i < n; i++)
                CHECK(rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, "v", 1, NULL,
                                       0, NULL) == 0,
                      "produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
        CHECK(rd_kafka_flush(rk, 15000) == 0, "flush timed out");
}

/* The producer's life: a topic with a topic conf of its own (rdpart does
 * not place it and says so once), three rounds of 3 messages and a flush. */
static void run(const char *name, const char *debug, int queue) {
        log_clear();
        queue_mode = queue;
        delivered = delivery_errors = 0;
        rd_kafka_t *rk = producer(debug, queue);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "t", rd_kafka_topic_conf_new());
        produce(rk, rkt, 3);
        pthread_mutex_lock(&log_lock);
        int debug_after_first_flush = seen.debug_lines;
        pthread_mutex_unlock(&log_lock);
        produce(rk, rkt, 3); /* the warning (from the first acknowledgement) rides on these */
        produce(rk, rkt, 3);
        pthread_mutex_lock(&log_lock);
        int warned_before_destroy = seen.warnings;
        pthread_mutex_unlock(&log_lock);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);

        pthread_mutex_lock(&log_lock);
        int want_debug = debug != NULL;
        CHECK(delivered == 9 && delivery_errors == 0, "%s: %d of 9 delivered, %d errors", name,
              delivered, delivery_errors);
        CHECK(seen.debug_lines == want_debug,
              "%s: the debug line \"" DEBUG_LINE "... " DEBUG_WHAT "\" reached log_cb %d times, "
              "not %d",
              name, seen.debug_lines, want_debug);
        CHECK(!want_debug || debug_after_first_flush == 1,
              "%s: the debug line had not arrived by the flush after the first produce()", name);
        CHECK(seen.warnings == 1 && warned_before_destroy == 1,
              "%s: the warning \"" OWN_TCONF "\" reached log_cb %d times (%d before "
              "rd_kafka_destroy()), not once",
              name, seen.warnings, warned_before_destroy);
        CHECK(!seen.debug_bad && !seen.warnings_bad, "%s: wrong level: %s", name, seen.first_bad);
        CHECK(!seen.icfail_rdpart, "%s: %d ICFAIL lines about rdpart reached log_cb: %s", name,
              seen.icfail_rdpart, seen.first_bad);
        CHECK(!seen.other_rdpart, "%s: %d misplaced rdpart lines: %s", name, seen.other_rdpart,
              seen.first_bad);
        if (queue) {
                CHECK(!seen.rdpart_in_new && !seen.rdpart_off_main,
                      "%s: log.queue=true, yet rdpart called log_cb %d times inside rd_kafka_new() "
                      "and %d times off the polling (main) thread: %s",
                      name, seen.rdpart_in_new, seen.rdpart_off_main, seen.first_bad);
                CHECK(!seen.in_new && !seen.off_main,
                      "%s: log.queue=true, yet log_cb ran %d times inside rd_kafka_new() and %d "
                      "times off the polling (main) thread (of %d calls): %s",
                      name, seen.in_new, seen.off_main, seen.calls, seen.first_bad);
        }
        printf("  %s (debug=%s, log.queue=%s): %d log_cb calls, debug line %d, warning %d, "
               "rdpart inside rd_kafka_new %d, rdpart off the main thread %d, ICFAIL about "
               "rdpart %d\n",
               name, debug ? debug : "(none)", queue ? "true" : "false", seen.calls,
               seen.debug_lines, seen.warnings, seen.rdpart_in_new, seen.rdpart_off_main,
               seen.icfail_rdpart);
        pthread_mutex_unlock(&log_lock);
}

/* The application's partitioner (rdpart.partitioner.cb): out of range. */
static int32_t out_of_range(const void *m, void *placement, void *opaque) {
        (void)m, (void)placement, (void)opaque;
        return 1000;
}

/* log.queue=true with log_level=3: rdpart's ERR line (a partitioner that
 * returns a partition out of range: produce() fails with _UNKNOWN_PARTITION)
 * reaches log_cb at level 3, in the polling thread; nothing above level 3
 * does (rdpart's carrier is a WARNING, which librdkafka would drop at this
 * level). */
static void run_quiet(void) {
        char errstr[512], addr[32];
        log_clear();
        queue_mode = 1;
        delivered = delivery_errors = 0;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", NULL, 0);
        rd_kafka_conf_set_log_cb(conf, log_cb);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        snprintf(addr, sizeof addr, "%p", (void *)(uintptr_t)out_of_range);
        if (rd_kafka_conf_set(conf, "log.queue", "true", errstr, sizeof errstr) ||
            rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) ||
            rd_kafka_conf_set(conf, "plugin.library.paths", plugin, errstr, sizeof errstr) ||
            rd_kafka_conf_set(conf, "rdpart.partitioner.cb", addr, errstr, sizeof errstr)) {
                fprintf(stderr, "cannot configure the producer: %s\n", errstr);
                exit(2);
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                exit(2);
        }
        CHECK(!rd_kafka_set_log_queue(rk, NULL), "rd_kafka_set_log_queue");
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, "t", NULL);
        int failed = 0;
        for (int round = 0; round < 2; round++) { /* the second carries the first's line */
                for (int i = 0; i < 3; i++)
                        failed += rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY,
                                                   "v", 1, "k", 1, NULL) != 0;
                rd_kafka_flush(rk, 5000);
        }
        rd_kafka_poll(rk, 100);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        pthread_mutex_lock(&log_lock);
        int above = seen.above[4] + seen.above[5] + seen.above[6] + seen.above[7];
        CHECK(failed == 6, "quiet: %d of 6 produce() calls failed (the partition is out of range)",
              failed);
        CHECK(seen.err_lines >= 1, "quiet: rdpart's ERR line (\"" ERR_LINE "\") never reached log_cb "
              "(%d calls)", seen.calls);
        CHECK(above == 0, "quiet: log_level=3, yet %d lines above level 3 reached log_cb: %s", above,
              seen.first_bad);
        CHECK(!seen.icfail_rdpart && !seen.off_main, "quiet: ICFAIL %d, off the main thread %d: %s",
              seen.icfail_rdpart, seen.off_main, seen.first_bad);
        printf("  quiet (log.queue=true, log_level=3): %d log_cb calls, rdpart's ERR line %d, "
               "above level 3: %d\n",
               seen.calls, seen.err_lines, above);
        pthread_mutex_unlock(&log_lock);
}

static int wants(int argc, char **argv, const char *name) {
        for (int i = 2; i < argc; i++)
                if (!strcmp(argv[i], name))
                        return 1;
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: log_hosts PLUGIN_PATH [CASE ...]\n");
                return 2;
        }
        plugin = argv[1];
        main_thread = pthread_self();
#define CASE(name) (argc == 2 || wants(argc, argv, name))
        if (CASE("direct"))
                run("direct", "plugin", 0);
        if (CASE("queue"))
                run("queue", "plugin", 1);
        if (CASE("queue_all"))
                run("queue_all", "all", 1);
        if (CASE("queue_quiet"))
                run("queue_quiet", NULL, 1);
        if (CASE("quiet"))
                run_quiet();
        return finish("log_hosts");
}
