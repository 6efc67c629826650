/*
 * The plugin in C hosts, written the way C programs use librdkafka, with
 * the system librdkafka and its embedded mock cluster. For every case,
 * rdpart either places every message (strategy fnv1a, checked against
 * librdkafka's own fnv1a partitioner, which differs on most keys from both
 * the default consistent_random and the murmur2 of a fallback to sticky)
 * or says so once on the producer's log, naming the topic.
 *
 *   plugin_hosts PLUGIN_PATH COPY_OF_PLUGIN_PATH [CASE ...]
 *
 * Without CASE, every case runs; CASE is one of unload, default_tconf,
 * own_tconf, opaque, before, two_files, refused, debug.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "check.h"

static const char *plugin, *plugin_copy;

/* ---- the producer's log, as the application's log_cb sees it ---- */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char logbuf[1 << 16];
static size_t loglen;

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        (void)rk;
        if (strcmp(fac, "RDPART"))
                return;
        pthread_mutex_lock(&log_lock);
        int n = snprintf(logbuf + loglen, sizeof(logbuf) - loglen, "%d|%s|%s\n", level, fac, buf);
        if (n > 0 && loglen + (size_t)n < sizeof(logbuf))
                loglen += (size_t)n;
        pthread_mutex_unlock(&log_lock);
}

static int log_count(const char *what) {
        int n = 0;
        pthread_mutex_lock(&log_lock);
        for (const char *p = logbuf; (p = strstr(p, what)); p++)
                n++;
        pthread_mutex_unlock(&log_lock);
        return n;
}

static void log_clear(void) {
        pthread_mutex_lock(&log_lock);
        loglen = 0;
        logbuf[0] = 0;
        pthread_mutex_unlock(&log_lock);
}

/* ---- producing and checking placement ---- */
#define MAXREC 4096
static struct {
        char key[24];
        size_t len;
        int32_t partition;
} recs[MAXREC];
static int nrec, delivery_errors;
/* Keyless messages produced with their index as message opaque. */
static int32_t keyless_part[64];

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk, (void)opaque;
        if (m->err) {
                delivery_errors++;
                return;
        }
        if (!m->key && (uintptr_t)m->_private < 64)
                keyless_part[(uintptr_t)m->_private] = m->partition;
        if (nrec < MAXREC && m->key && m->key_len < sizeof(recs[0].key)) {
                memcpy(recs[nrec].key, m->key, m->key_len);
                recs[nrec].len = m->key_len;
                recs[nrec].partition = m->partition;
                nrec++;
        }
}

static rd_kafka_conf_t *base_conf(void) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", NULL, 0);
        rd_kafka_conf_set(conf, "log_level", "4", NULL, 0);
        rd_kafka_conf_set_log_cb(conf, log_cb);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        return conf;
}

static int load(rd_kafka_conf_t *conf, const char *paths, char *errstr, size_t size) {
        return rd_kafka_conf_set(conf, "plugin.library.paths", paths, errstr, size);
}

static rd_kafka_conf_t *plugin_conf(const char *strategy) {
        char errstr[512];
        rd_kafka_conf_t *conf = base_conf();
        if (load(conf, plugin, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "rdpart.strategy", strategy, errstr, sizeof(errstr)) !=
                RD_KAFKA_CONF_OK) {
                fprintf(stderr, "cannot load the plugin: %s\n", errstr);
                exit(2);
        }
        return conf;
}

/* Produce `n` keyed messages at once to `rkt` (or by name when rkt is
 * NULL), flush, and count those not where fnv1a puts them. */
static int produce_misplaced(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const char *topic, int n) {
        nrec = delivery_errors = 0;
        for (int i = 0; i < n; i++) {
                char key[24], value[24];
                int klen = snprintf(key, sizeof(key), "key-%d", i);
                snprintf(value, sizeof(value), "v%d", i);
                rd_kafka_resp_err_t err;
                if (rkt)
                        err = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, value,
                                               strlen(value), key, (size_t)klen, NULL)
                                  ? rd_kafka_last_error()
                                  : RD_KAFKA_RESP_ERR_NO_ERROR;
                else
                        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                                RD_KAFKA_V_KEY(key, (size_t)klen),
                                                RD_KAFKA_V_VALUE(value, strlen(value)),
                                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                RD_KAFKA_V_END);
                if (err)
                        fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err));
        }
        rd_kafka_flush(rk, 15000);
        rd_kafka_topic_t *mrkt = rkt ? rkt : rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md = NULL;
        int cnt = 0;
        if (rd_kafka_metadata(rk, 0, mrkt, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                cnt = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
                rd_kafka_metadata_destroy(md);
        }
        if (!rkt)
                rd_kafka_topic_destroy(mrkt);
        int misplaced = 0;
        for (int i = 0; i < nrec; i++)
                if (recs[i].partition != rd_kafka_msg_partitioner_fnv1a(
                                            NULL, recs[i].key, recs[i].len, cnt, NULL, NULL))
                        misplaced++;
        CHECK(cnt > 1 && nrec == n && delivery_errors == 0,
              "%s: %d of %d delivered, %d errors, %d partitions", topic, nrec, n, delivery_errors,
              cnt);
        return misplaced;
}

/* ---- the cases ---- */

static void unloaded_plugin_stays_mapped(void) {
        char errstr[512];
        /* The property set again: librdkafka dlclose()s the plugin while its
         * interceptors stay registered. */
        rd_kafka_conf_t *conf = plugin_conf("jump");
        CHECK(load(conf, "", errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK, "%s", errstr);
        CHECK(rd_kafka_conf_set(conf, "rdpart.strategy", "fnv1a", errstr, sizeof(errstr)) ==
                  RD_KAFKA_CONF_OK,
              "%s", errstr);
        rd_kafka_conf_set(conf, "acks", "all", NULL, 0);
        rd_kafka_conf_t *dup = rd_kafka_conf_dup(conf);
        rd_kafka_conf_destroy(conf);
        rd_kafka_conf_destroy(dup);
        /* A later plugin in the list fails to load: all are dlclose()d. */
        conf = base_conf();
        char paths[1024];
        snprintf(paths, sizeof(paths), "%s;monitoring-interceptor", plugin);
        CHECK(load(conf, paths, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK,
              "a missing second plugin was accepted");
        rd_kafka_conf_set(conf, "acks", "all", NULL, 0);
        rd_kafka_conf_destroy(conf);
        printf("  unloaded plugin: no crash\n");
}

static void default_topic_conf_replaced_after_loading(void) {
        char errstr[512];
        rd_kafka_conf_t *conf = plugin_conf("fnv1a");
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set(tconf, "acks", "all", NULL, 0);
        rd_kafka_conf_set_default_topic_conf(conf, tconf);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        CHECK(rk, "%s", errstr);
        if (!rk)
                return;
        int bad = produce_misplaced(rk, NULL, "replaced-tconf", 400);
        CHECK(bad == 0, "default topic conf replaced after the plugin: %d of 400 misplaced", bad);
        rd_kafka_destroy(rk);
        printf("  rd_kafka_conf_set_default_topic_conf() after the plugin: %d misplaced\n", bad);

        /* A replacement that names another partitioner is reported. */
        log_clear();
        conf = plugin_conf("fnv1a");
        tconf = rd_kafka_topic_conf_new();
        rd_kafka_topic_conf_set(tconf, "partitioner", "fnv1a", NULL, 0);
        rd_kafka_conf_set_default_topic_conf(conf, tconf);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        CHECK(rk, "%s", errstr);
        if (!rk)
                return;
        CHECK(log_count("partitioner=fnv1a") == 1 && log_count("rdpart.strategy") >= 1,
              "no message about the replaced partitioner: log \"%s\"", logbuf);
        rd_kafka_destroy(rk);
}

static void topic_with_its_own_conf_is_reported(void) {
        char errstr[512];
        log_clear();
        rd_kafka_conf_t *conf = plugin_conf("fnv1a");
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        CHECK(rk, "%s", errstr);
        if (!rk)
                return;
        rd_kafka_topic_t *own = rd_kafka_topic_new(rk, "own-tconf", rd_kafka_topic_conf_new());
        int bad = produce_misplaced(rk, own, "own-tconf", 400);
        rd_kafka_flush(rk, 5000);
        int said = log_count("rdpart: topic \"own-tconf\" was created with a topic configuration");
        CHECK(bad == 0 || said == 1, "%d misplaced and %d messages: log \"%s\"", bad, said, logbuf);
        CHECK(said == 1, "told %d times", said);
        /* The default topic conf's copy places; nothing is said about it. */
        rd_kafka_topic_t *dflt =
            rd_kafka_topic_new(rk, "dflt-tconf", rd_kafka_default_topic_conf_dup(rk));
        bad = produce_misplaced(rk, dflt, "dflt-tconf", 400);
        CHECK(bad == 0, "rd_kafka_default_topic_conf_dup(): %d misplaced", bad);
        CHECK(log_count("dflt-tconf") == 0, "log \"%s\"", logbuf);
        rd_kafka_topic_destroy(own);
        rd_kafka_topic_destroy(dflt);
        rd_kafka_destroy(rk);
        printf("  own topic conf: told %d time(s); default_topic_conf_dup: %d misplaced\n", said,
               bad);
}

static void application_opaque_is_kept(void *opaque, int before) {
        char errstr[512];
        rd_kafka_conf_t *conf;
        if (before) {
                conf = base_conf();
                rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
                rd_kafka_topic_conf_set_opaque(tconf, opaque);
                rd_kafka_conf_set_default_topic_conf(conf, tconf);
                if (load(conf, plugin, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
                    rd_kafka_conf_set(conf, "rdpart.strategy", "fnv1a", errstr,
                                      sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                        CHECK(0, "%s", errstr);
                        rd_kafka_conf_destroy(conf);
                        return;
                }
        } else {
                conf = plugin_conf("fnv1a");
                rd_kafka_topic_conf_set_opaque(rd_kafka_conf_get_default_topic_conf(conf), opaque);
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        CHECK(rk, "%s", errstr);
        if (!rk)
                return;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, before ? "opaque-before" : "opaque-after", NULL);
        int bad = produce_misplaced(rk, rkt, rd_kafka_topic_name(rkt), 400);
        CHECK(bad == 0, "opaque %p set %s the plugin: %d misplaced", opaque,
              before ? "before" : "after", bad);
        CHECK(rd_kafka_topic_opaque(rkt) == opaque, "the topic opaque is %p, not the app's %p",
              rd_kafka_topic_opaque(rkt), opaque);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        printf("  topic opaque %p set %s the plugin: kept, %d misplaced\n", opaque,
               before ? "before" : "after", bad);
}

/* 13 keyless messages 15 ms apart through rdpart's sticky with runs of a
 * million messages: how many runs (partition changes + 1)? With a sticky
 * time of 60 s, one; with rdpart's default 10 ms, each message switches.
 * The topic's metadata is known first (one message, flushed): on a busy
 * machine, messages parked until it arrives would be placed at once on
 * librdkafka's thread, in one run (seen: 1 run where >= 8 were due). */
static int sticky_runs(const char *linger_before) {
        char errstr[512];
        rd_kafka_conf_t *conf = base_conf();
        if (linger_before)
                rd_kafka_conf_set(conf, "sticky.partitioning.linger.ms", linger_before, NULL, 0);
        if (load(conf, plugin, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "rdpart.sticky.messages", "1000000", errstr, sizeof(errstr))) {
                CHECK(0, "%s", errstr);
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        CHECK(rk, "%s", errstr);
        if (!rk)
                return -1;
        const char *topic = linger_before ? "linger-60s" : "linger-dflt";
        rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE("w", 1),
                          RD_KAFKA_V_OPAQUE((void *)(intptr_t)63), RD_KAFKA_V_END);
        rd_kafka_flush(rk, 15000);
        nrec = delivery_errors = 0;
        const int n = 13;
        for (int i = 0; i < n; i++) {
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                  RD_KAFKA_V_VALUE("v", 1), RD_KAFKA_V_OPAQUE((void *)(intptr_t)i),
                                  RD_KAFKA_V_END);
                rd_kafka_poll(rk, 0);
                struct timespec ms15 = {0, 15 * 1000 * 1000};
                nanosleep(&ms15, NULL);
        }
        rd_kafka_flush(rk, 15000);
        rd_kafka_destroy(rk);
        CHECK(delivery_errors == 0, "%d delivery errors", delivery_errors);
        int runs = 1;
        for (int i = 1; i < n; i++)
                runs += keyless_part[i] != keyless_part[i - 1];
        return runs;
}

static void properties_set_before_the_plugin(void) {
        char errstr[512], v[64];
        size_t size = sizeof(v);
        rd_kafka_conf_t *conf = base_conf();
        rd_kafka_conf_set(conf, "partitioner", "murmur2", NULL, 0);
        CHECK(load(conf, plugin, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK,
              "partitioner set before the plugin was silently overridden");
        CHECK(strstr(errstr, "partitioner=murmur2") && strstr(errstr, "rdpart.strategy"),
              "message: %s", errstr);
        rd_kafka_conf_destroy(conf);

        conf = base_conf();
        rd_kafka_conf_set(conf, "sticky.partitioning.linger.ms", "25", NULL, 0);
        CHECK(load(conf, plugin, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK, "%s", errstr);
        rd_kafka_conf_get(conf, "sticky.partitioning.linger.ms", v, &size);
        CHECK(!strcmp(v, "0"), "librdkafka's sticky step is %s, not off", v);
        rd_kafka_conf_destroy(conf);
        /* ... and the value set before the plugin is rdpart's sticky time. */
        int with = sticky_runs("60000"), without = sticky_runs(NULL);
        CHECK(with >= 1 && with <= 2 && without >= 8,
              "sticky.partitioning.linger.ms=60000 before the plugin: %d runs (default: %d)", with,
              without);
        printf("  sticky.partitioning.linger.ms=60000 set before the plugin: %d run(s) of 13 "
               "messages 15 ms apart (rdpart's default 10 ms: %d)\n",
               with, without);
}

static void two_files_of_rdpart(void) {
        char errstr[512], paths[2048];
        rd_kafka_conf_t *conf = base_conf();
        snprintf(paths, sizeof(paths), "%s;%s", plugin, plugin_copy);
        CHECK(load(conf, paths, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK,
              "two different files of rdpart were accepted");
        CHECK(strstr(errstr, "another copy of rdpart"), "message: %s", errstr);
        rd_kafka_conf_destroy(conf);
        /* The same file under two spellings is one library: fine. */
        conf = base_conf();
        snprintf(paths, sizeof(paths), "%s;%s", plugin, plugin);
        CHECK(load(conf, paths, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK, "%s", errstr);
        rd_kafka_conf_destroy(conf);
}

static void refused_properties(void) {
        char errstr[512];
        rd_kafka_conf_t *conf = plugin_conf("fnv1a");
        CHECK(rd_kafka_conf_set(conf, "topic.partitioner", "murmur2", errstr, sizeof(errstr)) ==
                      RD_KAFKA_CONF_INVALID &&
                  strstr(errstr, "rdpart.strategy"),
              "topic.partitioner: %s", errstr);
        CHECK(rd_kafka_conf_set(conf, "rdpart.strategy", "", errstr, sizeof(errstr)) ==
                      RD_KAFKA_CONF_INVALID &&
                  strstr(errstr, "rdpart.strategy") && strstr(errstr, "round_robin"),
              "empty rdpart.strategy: %s", errstr);
        rd_kafka_conf_destroy(conf);
}

static void debug_says_rdpart_is_active(void) {
        char errstr[512], want[128];
        log_clear();
        rd_kafka_conf_t *conf = plugin_conf("jump");
        rd_kafka_conf_set(conf, "debug", "plugin", NULL, 0);
        rd_kafka_conf_set(conf, "log_level", "7", NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        CHECK(rk, "%s", errstr);
        if (!rk)
                return;
        snprintf(want, sizeof(want), "bound to librdkafka %s", rd_kafka_version_str());
        CHECK(log_count("strategy jump") == 1 && log_count(want) == 1, "debug=plugin: log \"%s\"",
              logbuf);
        rd_kafka_destroy(rk);
        log_clear();
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, plugin_conf("jump"), errstr, sizeof(errstr));
        CHECK(log_count("strategy jump") == 0, "said without debug: \"%s\"", logbuf);
        rd_kafka_destroy(rk);
}

static int wants(int argc, char **argv, const char *name) {
        for (int i = 3; i < argc; i++)
                if (!strcmp(argv[i], name))
                        return 1;
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: plugin_hosts PLUGIN_PATH COPY_OF_PLUGIN_PATH\n");
                return 2;
        }
        plugin = argv[1];
        plugin_copy = argv[2];
#define CASE(name) (argc == 3 || wants(argc, argv, name))
        if (CASE("unload"))
                unloaded_plugin_stays_mapped();
        if (CASE("default_tconf"))
                default_topic_conf_replaced_after_loading();
        if (CASE("own_tconf"))
                topic_with_its_own_conf_is_reported();
        if (CASE("opaque")) {
                static int marker;
                application_opaque_is_kept(&marker, 1);
                application_opaque_is_kept(&marker, 0);
                application_opaque_is_kept((void *)4096, 0);
                application_opaque_is_kept((void *)4096, 1);
        }
        if (CASE("before"))
                properties_set_before_the_plugin();
        if (CASE("two_files"))
                two_files_of_rdpart();
        if (CASE("refused"))
                refused_properties();
        if (CASE("debug"))
                debug_says_rdpart_is_active();
        return finish("plugin_hosts");
}
