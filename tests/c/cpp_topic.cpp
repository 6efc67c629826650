/*
 * The plugin in a C++ producer that creates its topic the common C++ way,
 * RdKafka::Topic::create() with a topic conf of its own: such a topic keeps
 * librdkafka's partitioner, and rdpart must say so once on the log (here,
 * the application's EventCb), naming the topic.
 *
 * With a NULL topic conf instead ("null"), rdpart places the messages and
 * says nothing (the caller reads them back: murmur2 keyed placement).
 *
 *   cpp_topic PLUGIN_PATH [BOOTSTRAP TOPIC [own|null]]
 *
 * Without BOOTSTRAP, librdkafka's mock cluster; TOPIC defaults to
 * cpp-own-tconf, the topic conf to its own.
 */
#include <iostream>
#include <librdkafka/rdkafkacpp.h>
#include <memory>
#include <mutex>
#include <string>

static std::mutex lock;
static std::string rdpart_log;

class Events : public RdKafka::EventCb {
      public:
        void event_cb(RdKafka::Event &e) override {
                if (e.type() == RdKafka::Event::EVENT_LOG && e.fac() == "RDPART") {
                        std::lock_guard<std::mutex> g(lock);
                        rdpart_log += e.str() + "\n";
                }
        }
};

int main(int argc, char **argv) {
        if (argc < 2)
                return 2;
        const bool real = argc >= 4;
        const std::string name = real ? argv[3] : "cpp-own-tconf";
        const bool own = !(argc >= 5 && std::string(argv[4]) == "null");
        std::string err;
        Events events;
        std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
        if ((real ? conf->set("bootstrap.servers", argv[2], err)
                  : conf->set("test.mock.num.brokers", "3", err)) != RdKafka::Conf::CONF_OK ||
            conf->set("plugin.library.paths", argv[1], err) != RdKafka::Conf::CONF_OK ||
            conf->set("rdpart.strategy", "murmur2", err) != RdKafka::Conf::CONF_OK ||
            conf->set("event_cb", &events, err) != RdKafka::Conf::CONF_OK) {
                std::cerr << err << "\n";
                return 2;
        }
        std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
        if (!p) {
                std::cerr << err << "\n";
                return 2;
        }
        std::unique_ptr<RdKafka::Conf> tconf(RdKafka::Conf::create(RdKafka::Conf::CONF_TOPIC));
        std::unique_ptr<RdKafka::Topic> topic(
            RdKafka::Topic::create(p.get(), name, own ? tconf.get() : nullptr, err));
        for (int i = 0; i < 200; i++) {
                std::string key = "key-" + std::to_string(i);
                p->produce(topic.get(), RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                           const_cast<char *>("v"), 1, &key, nullptr);
                p->poll(0);
        }
        p->flush(15000);
        p->poll(100);
        std::lock_guard<std::mutex> g(lock);
        size_t n = 0;
        const std::string want = "topic \"" + name + "\" was created with a topic configuration";
        for (size_t at = rdpart_log.find(want); at != std::string::npos;
             at = rdpart_log.find(want, at + 1))
                n++;
        std::cout << "cpp_topic: rdpart told the application " << n << " time(s)\n";
        if (n != (own ? 1u : 0u)) {
                std::cerr << "FAIL: expected rdpart's message " << (own ? "once" : "never") << "; log: \""
                          << rdpart_log << "\"\n";
                return 1;
        }
        return 0;
}
