"""rdpart's lines on the producer's log, the way librdkafka's own get there.

confluent-kafka with a ``logger=`` sets ``log.queue=true``: its log callback
may run only inside poll() or flush() (elsewhere the process aborts in
``CallState_get``), so rdpart's lines must come through the log queue, in the
thread that polls, at the latest in the poll/flush after the next produce().
Without a logger (librdkafka's printer on stderr) and in kcat, librdkafka
calls the log callback directly, and rdpart's lines go the same way.

Every producer runs in a fresh interpreter: an abort must fail the test, not
take pytest down. The run's findings come back as JSON on stdout.
"""

import json
import logging
import re
import shutil
import subprocess
import sys

import pytest

import rdpart

DEBUG_LINE = "rdpart: rdpart "
DEBUG_WHAT = "places this producer's messages"

CHILD = r'''
import json, logging, sys, threading
from confluent_kafka import Producer

lib, debug, use_logger, first = sys.argv[1:5]
records = []


class Collect(logging.Handler):
    def emit(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        fac, text = (args[0], args[2]) if len(args) == 3 else ("", record.getMessage())
        records.append({"fac": str(fac), "text": str(text), "level": record.levelno,
                        "main": threading.current_thread() is threading.main_thread()})


conf = {"test.mock.num.brokers": 3, "plugin.library.paths": lib, "rdpart.strategy": "jump"}
if debug:
    conf["debug"] = debug
if use_logger == "1":
    logger = logging.getLogger("rdpart-test")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    logger.addHandler(Collect())
    p = Producer(conf, logger=logger)
else:
    p = Producer(conf)
delivered = []
on_delivery = lambda err, msg: delivered.append(err is None)


def debug_lines():
    return sum(1 for r in records if r["text"].startswith("rdpart: rdpart ")
               and "places this producer's messages" in r["text"])


if first == "poll":
    p.poll(0)
p.produce("t", b"0", on_delivery=on_delivery)
p.poll(0)
after_first_poll = debug_lines()
for i in range(1, 10):
    p.produce("t", b"%d" % i, key=b"k%d" % i, on_delivery=on_delivery)
left = p.flush(30)
print(json.dumps({"left": left, "delivered": delivered, "records": records,
                  "after_first_poll": after_first_poll}))
'''


def run_producer(debug, logger, first="produce"):
    r = subprocess.run([sys.executable, "-c", CHILD, rdpart.library_path(), debug or "",
                        "1" if logger else "0", first],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (
        f"the producer's process ended with {r.returncode}"
        + (f" (signal {-r.returncode})" if r.returncode < 0 else "")
        + ": " + r.stderr[-3000:])
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["left"] == 0 and out["delivered"] == [True] * 10, out["delivered"]
    return out, r.stderr


def is_debug_line(text):
    return text.startswith(DEBUG_LINE) and DEBUG_WHAT in text


def no_icfail_about_rdpart(records):
    bad = [r for r in records if r["fac"] == "ICFAIL" and "rdpart" in r["text"]]
    assert not bad, bad


@pytest.mark.parametrize("first", ["produce", "poll"])
@pytest.mark.parametrize("debug", ["plugin", "all"])
def test_logger_gets_the_debug_line_in_the_polling_thread(debug, first):
    """Producer(..., logger=) with debug=plugin used to abort the process
    (rdpart called the log callback inside rd_kafka_new())."""
    out, _ = run_producer(debug, logger=True, first=first)
    records = out["records"]
    mine = [r for r in records if is_debug_line(r["text"])]
    assert len(mine) == 1, [r for r in records if "rdpart" in r["text"]]
    line = mine[0]
    assert line["fac"] == "RDPART" and line["level"] == logging.DEBUG, line
    assert "strategy jump" in line["text"], line
    assert line["main"], "the logger was called off the main thread"
    assert all(r["main"] for r in records), [r for r in records if not r["main"]]
    # At the latest in the poll after the first produce().
    assert out["after_first_poll"] == 1, out["after_first_poll"]
    no_icfail_about_rdpart(records)
    others = [r for r in records if "rdpart: " in r["text"] and not is_debug_line(r["text"])]
    assert all(r["fac"] == "RDPART" and r["text"].startswith("rdpart: ") for r in others), others


def test_logger_without_debug_hears_nothing_from_rdpart():
    out, _ = run_producer(None, logger=True)
    said = [r for r in out["records"] if "rdpart" in r["text"] or r["fac"] in ("RDPART", "ICFAIL")]
    assert not said, said


STDERR_DEBUG = re.compile(r"^%7\|[0-9.]+\|RDPART\|[^|]*\| ?rdpart: rdpart .*places this producer's messages",
                          re.M)


@pytest.mark.parametrize("debug", ["plugin", "all"])
def test_without_logger_the_debug_line_is_on_stderr_once(debug):
    """No logger: librdkafka's own printer (stderr), called directly."""
    _, err = run_producer(debug, logger=False)
    assert len(STDERR_DEBUG.findall(err)) == 1, [l for l in err.splitlines() if "rdpart" in l]
    assert not [l for l in err.splitlines() if "|ICFAIL|" in l and "rdpart" in l]


def test_kcat_shows_the_debug_line_and_the_own_topic_conf_warning_once():
    """kcat: no log queue, librdkafka's printer on stderr; its topic has a
    topic conf of its own, which rdpart reports (from an acknowledgement)."""
    assert shutil.which("kcat"), "kcat is not installed (.ci/setup.sh --test installs it)"
    lines = "".join("line-%d\n" % i for i in range(20))
    r = subprocess.run(["kcat", "-P", "-b", "127.0.0.1:1", "-t", "kcat-log",
                        "-X", "test.mock.num.brokers=3",
                        "-X", "plugin.library.paths=" + rdpart.library_path(),
                        "-X", "debug=plugin"],
                       input=lines, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(STDERR_DEBUG.findall(r.stderr)) == 1, r.stderr[-3000:]
    warning = re.compile(r'^%4\|[0-9.]+\|RDPART\|[^|]*\| ?rdpart: topic "kcat-log" was created with a '
                         r"topic configuration of its own", re.M)
    assert len(warning.findall(r.stderr)) == 1, r.stderr[-3000:]
    assert "|ICFAIL|" not in r.stderr
