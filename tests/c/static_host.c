/*
 * A program with librdkafka linked in statically, and a second librdkafka
 * (the shared one) loaded with RTLD_GLOBAL, as a host may end up with.
 * Built without -rdynamic, its own librdkafka is invisible to dlsym, and
 * rdpart must refuse to load rather than call the other copy with this
 * copy's objects (heap corruption). Built with -rdynamic, the plugin binds
 * to the program's own copy and places messages.
 *
 *   static_host PLUGIN_PATH refuse|place
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "check.h"

static int delivered;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk, (void)opaque;
        delivered += !m->err;
}

int main(int argc, char **argv) {
        char errstr[512];
        if (argc < 3)
                return 2;
        if (!dlopen("librdkafka.so.1", RTLD_NOW | RTLD_GLOBAL)) {
                fprintf(stderr, "cannot load the shared librdkafka: %s\n", dlerror());
                return 2;
        }
        int refuse = !strcmp(argv[2], "refuse");
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "test.mock.num.brokers", "3", NULL, 0);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_conf_res_t r =
            rd_kafka_conf_set(conf, "plugin.library.paths", argv[1], errstr, sizeof(errstr));
        if (refuse) {
                CHECK(r != RD_KAFKA_CONF_OK, "the plugin loaded into a program whose librdkafka "
                                             "it cannot see");
                CHECK(strstr(errstr, "rdpart") && strstr(errstr, "-rdynamic"), "message: %s",
                      errstr);
                printf("  refused: %s\n", errstr);
                rd_kafka_conf_destroy(conf);
                return finish("static_host (no -rdynamic)");
        }
        CHECK(r == RD_KAFKA_CONF_OK, "%s", errstr);
        rd_kafka_conf_set(conf, "rdpart.strategy", "round_robin", NULL, 0);
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        CHECK(rk, "%s", errstr);
        for (int i = 0; i < 100; i++)
                rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("static"), RD_KAFKA_V_VALUE("v", 1),
                                  RD_KAFKA_V_END);
        rd_kafka_flush(rk, 15000);
        CHECK(delivered == 100, "%d of 100 delivered", delivered);
        rd_kafka_destroy(rk);
        printf("  -rdynamic: %d of 100 delivered through the plugin\n", delivered);
        return finish("static_host (-rdynamic)");
}
