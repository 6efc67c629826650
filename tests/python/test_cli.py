"""The rdpart command as users get it: from the wheel installed in a fresh
venv (tests/wheel.sh leaves it at target/cli-venv), run from another
directory with a clean environment. Each subcommand against an independent
computation: place against the oracles, growth against a direct count,
verify against the partitions the brokers report for what was produced."""

import collections
import itertools
import json
import os
import pty
import random
import re
import shutil
import ssl
import subprocess
import sys
import time

import confluent_kafka
import pytest
from confluent_kafka import Producer

import rdpart
import rdpart.cli
from conftest import new_topic
from oracle import jump, kafka_go_hash, kafkajs_legacy, murmur64a, sarama_crc, sarama_reference

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, "target", "cli-venv")
ORACLES = {
    "murmur2": confluent_kafka.murmur2,
    "consistent": confluent_kafka.consistent,
    "fnv1a": confluent_kafka.fnv1a,
    "jump": lambda k, n: jump(murmur64a(k), n),
    "kafkajs": confluent_kafka.murmur2,
    "kafkajs_legacy": kafkajs_legacy,
    "sarama_reference": sarama_reference,
    "sarama_crc": sarama_crc,
    "kafka_go_hash": kafka_go_hash,
}


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    exe = os.path.join(VENV, "bin", "rdpart")
    if not os.path.exists(exe):
        pytest.fail(f"{exe} missing: tests/wheel.sh installs the wheel there (make test runs it first)")
    cwd = tmp_path_factory.mktemp("elsewhere")
    env = {"PATH": f"{VENV}/bin:/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}

    def run(*args, input=None, timeout=120, stderr=subprocess.PIPE):
        return subprocess.run([exe, *map(str, args)], input=input, cwd=cwd, env=env, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=stderr)
    run.cwd, run.env = cwd, env
    return run


def keys_file(path, keys, hex_=True):
    path.write_bytes(b"".join((k.hex().encode() if hex_ else k) + b"\n" for k in keys))
    return path


@pytest.mark.parametrize("strategy", sorted(ORACLES))
def test_place_equals_the_oracles(cli, tmp_path, strategy):
    rng = random.Random(strategy)
    keys = [rng.randbytes(rng.randrange(0, 40)) for _ in range(1500)]
    f = keys_file(tmp_path / "keys.hex", keys)
    for n in (1, 6, 7, 1000, 10007):
        r = cli("place", strategy, n, "--file", f, "--hex", "--json")
        assert r.returncode == 0, r.stderr
        got = json.loads(r.stdout)
        assert got["strategy"] == strategy and got["partitions"] == n
        assert [bytes.fromhex(p["key"]) for p in got["placements"]] == keys
        assert [p["partition"] for p in got["placements"]] == [ORACLES[strategy](k, n) for k in keys]


def test_place_keys_from_arguments_and_stdin_as_a_table(cli):
    r = cli("place", "murmur2", 6, "order-1", "order-2")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0].split() == ["key", "partition"]
    assert [ln.split() for ln in lines[1:]] == [["order-1", str(confluent_kafka.murmur2(b"order-1", 6))],
                                               ["order-2", str(confluent_kafka.murmur2(b"order-2", 6))]]
    r = cli("place", "fnv1a", 12, "--json", input=b"a\nb\n")
    assert [p["partition"] for p in json.loads(r.stdout)["placements"]] == \
        [confluent_kafka.fnv1a(b"a", 12), confluent_kafka.fnv1a(b"b", 12)]
    # python -m rdpart is the same command.
    r = subprocess.run([os.path.join(VENV, "bin", "python"), "-m", "rdpart", "place", "murmur2", "6", "x"],
                       cwd=cli.cwd, env=cli.env, capture_output=True, timeout=60)
    assert r.returncode == 0 and r.stdout.split()[-1] == str(confluent_kafka.murmur2(b"x", 6)).encode()


def test_place_with_delimiter_and_topic_strategy(cli):
    keys = ["tenant-%d:order-%d" % (t, o) for t in range(20) for o in range(5)]
    r = cli("place", "murmur2", 6, *keys, "--key-delimiter", ":", "--json")
    got = [p["partition"] for p in json.loads(r.stdout)["placements"]]
    assert got == [confluent_kafka.murmur2(k.split(":")[0].encode(), 6) for k in keys]
    pairs = "orders:jump,events-*:fnv1a"
    for topic, oracle in [("orders", ORACLES["jump"]), ("events-eu", confluent_kafka.fnv1a),
                          ("other", confluent_kafka.murmur2)]:
        r = cli("place", "murmur2", 6, *keys, "--topic-strategy", pairs, "--topic", topic, "--json")
        got = [p["partition"] for p in json.loads(r.stdout)["placements"]]
        assert got == [oracle(k.encode(), 6) for k in keys], topic


@pytest.mark.parametrize("args, words", [
    (["place", "murmur3", 6, "k"], ["murmur3", "kafka_go_hash", "round_robin"]),
    (["place", "murmur2", 0, "k"], ["PARTITIONS"]),
    (["place", "murmur2", 6, "k", "--topic-strategy", "orders:jump"], ["--topic"]),
    (["place", "murmur2", 6, "k", "--topic-strategy", "orders:jmp", "--topic", "orders"],
     ["\"jmp\"", "kafka_go_hash"]),
    (["place", "murmur2", 6, "zz", "--hex"], ["--hex", "zz"]),
    (["place", "murmur2", 6, "k", "--key-delimiter", "123456789"], ["key.delimiter", "1 to 8 bytes"]),
    (["growth", "--from", 6, "--to", 7, "-s", "round_robin"], ["round_robin", "ignore keys"]),
    (["verify", "-b", "x:1", "-t", "t", "-s", "random"], ["random", "ignores keys"]),
    # Numbers out of range, each named with what is allowed (a negative
    # --timeout was infinite: list_topics never returned).
    *[(["place", "murmur2", n, "k"], ["PARTITIONS", "1 to 2147483647"])
      for n in ["2147483648", "-1", "x", "1.5"]],
    *[(["growth", *args], [opt, "1 to 2147483647"])
      for args, opt in [(["--from", 6, "--to", 2147483648], "--to"), (["--from", 0, "--to", 6], "--from"),
                        (["--from", -3, "--to", 6], "--from"), (["--from", "9" * 30, "--to", 6], "--from")]],
    *[(["growth", "--from", 6, "--to", 7, "--keys", k], ["--keys", "a positive integer"]) for k in [0, -5, "x"]],
    *[(["verify", "-b", "x:1", "-t", "t", "-s", "murmur2", *opt], ["--timeout", "positive number of seconds"])
      for opt in [["--timeout", -1], ["--timeout", 0], ["--timeout", "nan"], ["--timeout", "inf"],
                  ["--timeout=-inf"], ["--timeout", "1e12"], ["--timeout", "x"]]],
    *[(["verify", "-b", "x:1", "-t", "t", "-s", "murmur2", "--max-messages", k],
       ["--max-messages", "a positive integer"]) for k in [-1, 0, "1.5"]],
    (["verify", "-b", "x:1", "-t", "t", "-s", "murmur2", "--examples", -1], ["--examples", "0 or more"]),
])
def test_bad_input_says_what_is_allowed(cli, args, words):
    r = cli(*args, input=b"", timeout=30)
    err = r.stderr.decode()
    assert r.returncode == 2 and r.stdout == b"", (r.returncode, r.stdout, err)
    for w in words:
        assert w in err, err
    assert "Traceback" not in err, err


def test_help_everywhere_with_examples(cli):
    for sub in ([], ["place"], ["growth"], ["verify"]):
        r = cli(*sub, "--help")
        assert r.returncode == 0 and b"examples:" in r.stdout, sub


def test_growth_equals_a_direct_count(cli, tmp_path):
    rng = random.Random(7)
    keys = [rng.randbytes(rng.randrange(1, 30)) for _ in range(4000)]
    f = keys_file(tmp_path / "keys.hex", keys)
    for n, m in [(6, 7), (6, 12), (10, 8)]:
        r = cli("growth", "--from", n, "--to", m, "-s", "murmur2", "-s", "jump", "-s", "sarama_crc",
                f, "--hex", "--json")
        assert r.returncode == 0, r.stderr
        got = {s["strategy"]: s for s in json.loads(r.stdout)["strategies"]}
        assert set(got) == {"murmur2", "jump", "sarama_crc"}
        for s, res in got.items():
            before = [ORACLES[s](k, n) for k in keys]
            after = [ORACLES[s](k, m) for k in keys]
            moved = [(a, b) for a, b in zip(before, after) if a != b]
            assert res["keys"] == len(keys) and res["moved"] == len(moved), (s, n, m)
            assert res["to_new_partitions"] == sum(b >= n for _, b in moved), (s, n, m)
            top = collections.Counter(moved).most_common(1)[0]
            assert res["top_moves"][0]["keys"] == top[1]
        if m == n + 1:
            # Why jump exists: only the keys the new partition needs move, all to it.
            assert got["jump"]["to_old_partitions"] == 0
            assert abs(got["jump"]["moved_share"] - 1 / m) < 0.02
            assert got["murmur2"]["moved_share"] > 0.8


def test_growth_table_on_generated_keys(cli):
    r = cli("growth", "--from", 6, "--to", 7, "--keys", 20000)
    out = r.stdout.decode()
    assert r.returncode == 0 and "20000 keys, 6 -> 7 partitions" in out, out
    rows = {ln.split()[0]: ln.split() for ln in out.splitlines()[2:]}
    assert set(rows) == set(rdpart.STRATEGIES) - {"random", "round_robin"}
    # Counted with the oracle written from jump's definition, not rdpart.
    moved = sum(jump(murmur64a(b"key-%d" % i), 6) != jump(murmur64a(b"key-%d" % i), 7) for i in range(20000))
    assert int(rows["jump"][1]) == moved


def produce_topic(broker, strategy, n=6, messages=3000):
    """A topic produced through the plugin; returns its name and the
    (key, partition) of each delivered message, as the broker assigned it."""
    topic = new_topic(broker, n)
    p = Producer({"bootstrap.servers": broker.bootstrap_servers, "enable.idempotence": True,
                  **rdpart.config(strategy)})
    delivered = []
    for i in range(messages):
        key = None if i % 5 == 0 else b"key-%d" % (i % 700)
        p.produce(topic, key=key, value=b"v%d" % i,
                  on_delivery=lambda e, m: delivered.append((e, m.key(), m.partition())))
        p.poll(0)
    assert p.flush(60) == 0
    assert len(delivered) == messages and not any(e for e, _, _ in delivered)
    return topic, [(k, pa) for _, k, pa in delivered]


def test_verify_matching_and_mismatching_strategy(cli, broker):
    topic, delivered = produce_topic(broker, "murmur2")
    keyed = [(k, pa) for k, pa in delivered if k is not None]
    r = cli("verify", "-b", broker.bootstrap_servers, "-t", topic, "-s", "murmur2", "--json")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert (got["messages"], got["placed"], got["misplaced"], got["keyless"]) == \
        (len(delivered), len(keyed), 0, len(delivered) - len(keyed))
    per = collections.Counter(pa for _, pa in delivered)
    assert {int(p): s["messages"] for p, s in got["per_partition"].items() if s["messages"]} == dict(per)

    # Checked against another strategy: exactly the keys the oracle moves.
    want = sum(kafka_go_hash(k, 6) != pa for k, pa in keyed)
    r = cli("verify", "-b", broker.bootstrap_servers, "-t", topic, "-s", "kafka_go_hash", "--json",
            "--examples", 4)
    assert r.returncode == 1, r.stderr
    got = json.loads(r.stdout)
    assert got["misplaced"] == want > 0 and got["placed"] == len(keyed) - want
    assert len(got["examples"]) == 4
    for e in got["examples"]:
        assert e["expected"] == kafka_go_hash(e["key"].encode(), 6) != e["partition"]
    # The table, and a limit on what is read.
    r = cli("verify", "-b", broker.bootstrap_servers, "-t", topic, "-s", "kafka_go_hash", "--max-messages", 500)
    out = r.stdout.decode()
    assert r.returncode == 1 and "500 messages read" in out and "not where kafka_go_hash puts them" in out, out


def test_verify_unreachable_brokers_fail_within_the_timeout(cli):
    t = time.monotonic()
    r = cli("verify", "-b", "127.0.0.1:1", "-t", "orders", "-s", "murmur2", "--timeout", 3)
    assert r.returncode == 2 and b"cannot reach 127.0.0.1:1 within 3 s" in r.stderr, r.stderr
    assert time.monotonic() - t < 20


def test_verify_unknown_topic(cli, mock_broker):
    r = cli("verify", "-b", mock_broker.bootstrap_servers, "-t", "no-such-topic", "-s", "murmur2", "--timeout", 5)
    assert r.returncode == 2 and b"no-such-topic" in r.stderr, r.stderr


def test_progress_bar_on_a_terminal_only(cli, mock_broker):
    topic, _ = produce_topic(mock_broker, "murmur2", messages=2000)
    args = ["verify", "-b", mock_broker.bootstrap_servers, "-t", topic, "-s", "murmur2"]
    r = cli(*args)
    assert r.returncode == 0 and r.stderr == b"", r.stderr  # piped: quiet
    # stderr on a terminal: read the terminal while the command runs.
    master, slave = pty.openpty()
    proc = subprocess.Popen([os.path.join(VENV, "bin", "rdpart"), *args], cwd=cli.cwd, env=cli.env,
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the command closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.wait(60) == 0
    assert b"reading" in seen and b"msg" in seen, seen


def test_arguments_are_the_bytes_typed(cli, tmp_path):
    # Keys and --key-delimiter as arguments place exactly as the same bytes
    # from a file, UTF-8 or not (subprocess passes os.fsencode of each).
    keys = [b"\xff", b"caf\xc3\xa9", b"t-1\xfeorder-1", b"t-2\xfe\xff", b"plain", b"\xc3"]
    args = [os.fsdecode(k) for k in keys]
    f = keys_file(tmp_path / "keys.txt", keys, hex_=False)
    for delim in [[], ["--key-delimiter", os.fsdecode(b"\xfe")]]:
        r = cli("place", "murmur2", 6, *args, *delim, "--json")
        assert r.returncode == 0, r.stderr
        assert r.stdout == cli("place", "murmur2", 6, "--file", f, *delim, "--json").stdout
        cut = (lambda k: k.split(b"\xfe")[0]) if delim else (lambda k: k)
        assert [p["partition"] for p in json.loads(r.stdout)["placements"]] == \
            [confluent_kafka.murmur2(cut(k), 6) for k in keys]
    r = cli("place", "murmur2", 6, os.fsdecode(b"\xff"), "--hex")
    assert r.returncode == 2 and b"--hex" in r.stderr, r.stderr
    # Text that goes on as text (topics, brokers, properties) cannot be
    # anything but UTF-8: refused, naming the option.
    for args, opt in [(["place", "murmur2", 6, "k", "--topic-strategy", "o:jump", "--topic", b"\xff"], "--topic"),
                      (["place", "murmur2", 6, "k", "--topic-strategy", b"\xff:jump", "--topic", "o"],
                       "--topic-strategy"),
                      (["verify", "-b", "x:1", "-t", b"\xff", "-s", "murmur2"], "--topic"),
                      (["verify", "-b", b"\xff", "-t", "t", "-s", "murmur2"], "--bootstrap-servers"),
                      (["verify", "-b", "x:1", "-t", "t", "-s", "murmur2", "-X", b"client.id=\xff"], "-X")]:
        r = cli(*[os.fsdecode(a) if isinstance(a, bytes) else a for a in args], timeout=30)
        err = r.stderr.decode(errors="replace")
        assert r.returncode == 2 and opt in err and "UTF-8" in err and "Traceback" not in err, (args, err)


def test_verify_key_delimiter_is_the_bytes_typed(cli, mock_broker):
    # Produced on whole keys, checked against their part before b"\xfe".
    topic = new_topic(mock_broker, 6)
    p = Producer({"bootstrap.servers": mock_broker.bootstrap_servers, **rdpart.config("murmur2")})
    keys = [b"t-%d\xfeo-%d" % (i % 13, i) for i in range(500)]
    for k in keys:
        p.produce(topic, key=k, value=b"v")
    assert p.flush(30) == 0
    want = sum(confluent_kafka.murmur2(k.split(b"\xfe")[0], 6) != confluent_kafka.murmur2(k, 6) for k in keys)
    r = cli("verify", "-b", mock_broker.bootstrap_servers, "-t", topic, "-s", "murmur2", "--json",
            "--key-delimiter", os.fsdecode(b"\xfe"))
    assert r.returncode == 1, r.stderr
    got = json.loads(r.stdout)
    assert (got["messages"], got["misplaced"]) == (len(keys), want) and want > 0


def test_key_delimiter_bytes_exactly_and_no_nul(capsys):
    m2 = confluent_kafka.murmur2
    assert rdpart.partition("murmur2", b"ab:c", 6, key_delimiter=b":") == m2(b"ab", 6)
    assert rdpart.partition("murmur2", b"ab:c", 6, key_delimiter=":") == m2(b"ab", 6)
    assert rdpart.partition("murmur2", b"ab\xffc", 6, key_delimiter=b"\xff") == m2(b"ab", 6)
    assert rdpart.partition("murmur2", "abéc", 6, key_delimiter="é") == m2(b"ab", 6)
    assert rdpart.partition("murmur2", b"x12345678y", 6, key_delimiter=b"12345678") == m2(b"x", 6)
    assert rdpart.partition("murmur2", "xééééy", 6, key_delimiter="éééé") == m2(b"x", 6)  # 8 bytes
    with pytest.raises(rdpart.RdpartError, match="1 to 8 bytes"):
        rdpart.partition("murmur2", b"k", 6, key_delimiter="ééééé")  # 5 characters, 10 bytes
    assert rdpart.config("murmur2", key_delimiter=b":")["rdpart.key.delimiter"] == ":"
    # A C string ends at NUL: "a\0b" was taken as "a".
    for d in ["a\0b", b"a\0b", "\0", b":\0"]:
        with pytest.raises(ValueError, match=r"key\.delimiter.*NUL bytes are not allowed"):
            rdpart.partition("murmur2", b"xa", 6, key_delimiter=d)
        with pytest.raises(ValueError, match=r"key\.delimiter.*NUL bytes are not allowed"):
            rdpart.config("murmur2", key_delimiter=d)
    # argv cannot carry NUL; main() can.
    for sub in (["place", "murmur2", "6", "k"], ["verify", "-b", "x:1", "-t", "t", "-s", "murmur2"]):
        assert rdpart.cli.main([*sub, "--key-delimiter", "a\0b"]) == 2
        err = capsys.readouterr().err
        assert "key.delimiter" in err and "NUL bytes are not allowed" in err, err


# The documents whose `$ rdpart ...` examples must run as written.
DOCUMENTS = ("README.md", os.path.join("docs", "cli.md"))


def shown_commands():
    """(where, command line, the output the document shows or None) for every
    rdpart command in the --help examples and in DOCUMENTS."""
    shown = [(f"rdpart {sub} --help", ln.strip(), None)
             for sub, text in rdpart.cli.EXAMPLES.items() for ln in text.splitlines() if "rdpart " in ln]
    for doc in DOCUMENTS:
        with open(os.path.join(ROOT, doc)) as f:
            lines = f.read().splitlines()
        found = 0
        for i, ln in enumerate(lines):
            if ln.strip().startswith("$ rdpart "):
                out = itertools.takewhile(lambda s: (not s or s.startswith("    ")) and not s.strip().startswith("$"),
                                          lines[i + 1:])
                shown.append((doc, ln.strip()[2:], "\n".join(s[4:] for s in out).strip()))
                found += 1
        assert found, f"{doc} shows no rdpart command"
    return shown


def test_every_shown_example_runs_as_written(cli, mock_broker, tmp_path):
    shown = shown_commands()
    assert len(shown) >= 15 and all(cmd.startswith(("rdpart ", "printf ")) for _, cmd, _ in shown), shown
    for sub in rdpart.cli.EXAMPLES:
        help_ = cli(sub, "--help").stdout.decode()
        assert all(cmd in help_ for where, cmd, _ in shown if where == f"rdpart {sub} --help"), help_
    # What the examples name: keys.txt, ca.pem, and (docs/cli.md) a topic of
    # 3,000 messages, a fifth keyless, produced through rdpart murmur2.
    (tmp_path / "keys.txt").write_bytes(b"".join(b"order-%d\n" % i for i in range(300)))
    shutil.copy(ssl.get_default_verify_paths().cafile or ssl.get_default_verify_paths().openssl_cafile,
                tmp_path / "ca.pem")
    topic, _ = produce_topic(mock_broker, "murmur2")
    for where, cmd, doc_out in shown:
        status = 0
        if " skew " in cmd:
            cmd = re.sub(r"\bbroker:\d+", mock_broker.bootstrap_servers, cmd)
            cmd = re.sub(r"(-t|--topic) orders\b", rf"\1 {topic}", cmd)
        if " verify " in cmd:
            cmd = re.sub(r"\bbroker:\d+", mock_broker.bootstrap_servers, cmd)
            cmd = re.sub(r"(-t|--topic) orders\b", rf"\1 {topic}", cmd)
            if "security.protocol=SSL" in cmd:
                status = 2  # the mock cluster has no SSL listener: reaches the connection step only
            elif not re.search(r"(-s|--strategy) (murmur2|kafkajs)\b", cmd):
                status = 1  # checked against a strategy the topic was not produced with
        r = subprocess.run(["bash", "-c", cmd], input=b"", cwd=tmp_path, env=cli.env, capture_output=True,
                           timeout=120)
        out, err = r.stdout.decode(), r.stderr.decode()
        assert r.returncode == status, (where, cmd, r.returncode, err)
        if status == 2:
            assert f"cannot reach {mock_broker.bootstrap_servers}" in err, (where, cmd, err)
            continue
        assert out and "Traceback" not in err, (where, cmd, err)
        if doc_out and " skew " in cmd:
            # Timings, keyless placements and the order of equal keys vary;
            # what each strategy makes of the keys does not.
            table = doc_out.split("what each strategy")[1]
            assert out.strip().endswith(table.strip()), (cmd, out)
        elif doc_out and " verify " in cmd:
            # Timings and keyless placements vary; what the keys say does not.
            assert out.strip().splitlines()[-1] == doc_out.splitlines()[-1], (cmd, out)
        elif doc_out:
            assert out.strip() == doc_out, (cmd, out)


PARTITIONER = '''
def place(topic, key, value, headers, cluster):
    if key is not None and key.startswith(b"vip"):
        return cluster.partition_count - 1
    if key is not None and b"/" in key:
        return key.split(b"/")[0]  # a routing key
    return None  # the strategy


def other(topic, key, value, headers, cluster):
    return 0


def broken(topic, key, value, headers, cluster):
    raise KeyError("no tenant")
'''


def mypart(key, n):
    """place() above, written again: the expected partition."""
    if key.startswith(b"vip"):
        return n - 1
    return confluent_kafka.murmur2(key.split(b"/")[0] if b"/" in key else key, n)


def test_place_with_your_own_partitioner(cli):
    (cli.cwd / "mypart.py").write_text(PARTITIONER)
    keys = ["vip-1", "tenant-a/1", "tenant-a/2", "plain", "vip-2"]
    r = cli("place", "murmur2", 6, *keys, "--partitioner", "mypart:place", "--json")
    assert r.returncode == 0, r.stderr
    got = [p["partition"] for p in json.loads(r.stdout)["placements"]]
    assert got == [mypart(k.encode(), 6) for k in keys]
    r = cli("place", "murmur2", 6, "x", "--partitioner", "mypart:broken")
    assert r.returncode == 2 and b"KeyError" in r.stderr and b"no tenant" in r.stderr, r.stderr
    for spec, says in (("nosuchmodule:place", b"cannot import"), ("mypart:nothing", b"has no"),
                       ("mypart", b"MODULE:FUNCTION")):
        r = cli("place", "murmur2", 6, "x", "--partitioner", spec)
        assert r.returncode == 2 and says in r.stderr and b"Traceback" not in r.stderr, r.stderr


def test_verify_with_your_own_partitioner(cli, mock_broker, tmp_path):
    (cli.cwd / "mypart.py").write_text(PARTITIONER)
    sys.path.insert(0, str(cli.cwd))
    try:
        import mypart as module
    finally:
        sys.path.pop(0)
    topic = new_topic(mock_broker, 6)
    p = Producer({"bootstrap.servers": mock_broker.bootstrap_servers,
                  **rdpart.config("murmur2", partitioner=module.place)})
    keys = [b"vip-%d" % i for i in range(50)] + [b"t%d/%d" % (i % 7, i) for i in range(300)] + \
        [b"k%d" % i for i in range(300)]
    for k in keys:
        p.produce(topic, key=k, value=b"v")
    assert p.flush(30) == 0
    r = cli("verify", "-b", mock_broker.bootstrap_servers, "-t", topic, "-s", "murmur2", "--json",
            "--partitioner", "mypart:place")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert (got["messages"], got["placed"], got["misplaced"]) == (len(keys), len(keys), 0)
    r = cli("verify", "-b", mock_broker.bootstrap_servers, "-t", topic, "-s", "murmur2", "--json",
            "--partitioner", "mypart:other")
    assert r.returncode == 1
    assert json.loads(r.stdout)["misplaced"] == sum(mypart(k, 6) != 0 for k in keys)


@pytest.mark.parametrize("shell, says", [
    ("rdpart place murmur2 6 --file /proc/self/mem", b"cannot read keys from /proc/self/mem"),
    ("rdpart growth --from 6 --to 7 /proc/self/mem", b"cannot read keys from /proc/self/mem"),
    ("rdpart place murmur2 6 <&-", b"no keys"),
    ("rdpart place murmur2 6 --file - <&-", b"stdin is closed"),
    ("rdpart place murmur2 6 k >&-", b"stdout is closed"),
    ("rdpart verify -b 127.0.0.1:1 -t t -s murmur2 -X error_cb=x", b"-X error_cb: a callback"),
    ("rdpart skew -b 127.0.0.1:1 -t t -X stats_cb=1", b"-X stats_cb: a callback"),
    ("RDPART_LIBRARY=/nonexistent rdpart --version", b"RDPART_LIBRARY=/nonexistent: no such file"),
])
def test_the_command_fails_with_a_message_never_a_traceback(cli, shell, says):
    """Issue 26: each of these exited 1 with a traceback."""
    r = subprocess.run(["sh", "-c", shell], cwd=cli.cwd, env=cli.env, capture_output=True, timeout=60)
    assert r.returncode == 2 and says in r.stderr and b"Traceback" not in r.stderr, (r.returncode, r.stderr)


def test_help_needs_no_library(cli):
    r = subprocess.run(["sh", "-c", "RDPART_LIBRARY=/nonexistent rdpart --help"], cwd=cli.cwd, env=cli.env,
                       capture_output=True, timeout=60)
    assert r.returncode == 0 and b"usage: rdpart" in r.stdout, r.stderr
