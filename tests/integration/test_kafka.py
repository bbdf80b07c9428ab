"""synthfeed against a real Apache Kafka broker (KRaft, single node, started by scripts/kafka-broker),
checked with an independent client (confluent-kafka)."""

import collections
import json
import socket
import threading
import time

from helpers import GOLDEN, PROFILES, file_identities, identities, read_topic, run_synthfeed, unique

COLD_CHAIN = PROFILES / "cold_chain.toml"
START = "2026-01-01T00:00:00Z"


def test_every_message_exactly_once_with_labels_episodes_and_headers(kafka_broker, synthfeed_bin, tmp_path):
    data, labels, episodes = unique("data"), unique("labels"), unique("episodes")
    b = kafka_broker.bootstrap
    common = ["--duration", "90s", "--start", START, "--progress", "off"]
    run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *common, "--sink", f"kafka://{b}/{data}",
                  "--labels", f"kafka://{b}/{labels}", "--episodes", f"kafka://{b}/{episodes}",
                  "--label-headers", "--summary-json", tmp_path / "summary.json", check=0)
    # The same run to a file is the reference: deterministic, so the sets must match exactly.
    run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *common, "--sink", f"file:{tmp_path / 'ref.jsonl'}", check=0)
    expected = file_identities(tmp_path / "ref.jsonl")

    got_messages = read_topic(b, data)
    got = identities(got_messages)
    assert len(got) == len(set(got)), "duplicates on the topic"
    assert set(got) == set(expected)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["messages_generated"] == summary["messages_delivered"] == len(got)
    assert summary["messages_failed"] == 0

    # Keyed by device id: each device lives in one partition, in seq order.
    partitions = collections.defaultdict(set)
    last_seq = {}
    for m, (device, seq) in zip(got_messages, got):
        assert m.key().decode() == device
        partitions[device].add(m.partition())
        assert seq > last_seq.get(device, -1), f"{device} out of order"
        last_seq[device] = seq
    assert all(len(p) == 1 for p in partitions.values())

    # Label topic: one label per tick; every message joins its label; headers agree with it.
    label_by_id = {}
    for m in read_topic(b, labels):
        line = json.loads(m.value())
        label_by_id[(line["device_id"], line["seq"])] = line
    assert summary["label_lines"] == len(label_by_id)
    for m, ident in zip(got_messages, got):
        label = label_by_id[ident]
        assert label["emitted"] is True
        headers = {k: v.decode() for k, v in m.headers()}
        assert headers["seq"] == str(ident[1])
        assert headers["label"] == label["label"]
        assert headers["episode"] == (label["episode"] or "")
    silenced = [k for k, v in label_by_id.items() if not v["emitted"]]
    assert set(got) | set(silenced) == set(label_by_id)

    episode_ids = {json.loads(m.value())["episode"] for m in read_topic(b, episodes)}
    assert len(episode_ids) == summary["anomaly_episodes"] > 0
    for label in label_by_id.values():
        assert set(label["episodes"]) <= episode_ids


def test_verify_reads_the_topics_back(kafka_broker, synthfeed_bin, tmp_path):
    data, labels = unique("vdata"), unique("vlabels")
    b = kafka_broker.bootstrap
    run_synthfeed(synthfeed_bin, "run", GOLDEN, "--duration", "30m", "--progress", "off",
                  "--sink", f"kafka://{b}/{data}", "--labels", f"kafka://{b}/{labels}", check=0)
    result = run_synthfeed(synthfeed_bin, "verify", f"kafka://{b}/{data}", "--labels", f"kafka://{b}/{labels}",
                           "--json", tmp_path / "report.json", check=0)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["missing"] == report["duplicates"] == report["out_of_order"] == 0
    assert report["messages"] > 5000 and report["labels"] > report["messages"]
    assert "missing 0" in result.stdout


def test_topic_templates_route_by_group(kafka_broker, synthfeed_bin):
    prefix = unique("hvac")
    b = kafka_broker.bootstrap
    run_synthfeed(synthfeed_bin, "run", PROFILES / "smart_building_hvac.toml", "--duration", "1m",
                  "--start", START, "--progress", "off", "--sink", f"kafka://{b}/{prefix}-{{group}}", check=0)
    zones = identities(read_topic(b, f"{prefix}-zone"))
    ahus = identities(read_topic(b, f"{prefix}-ahu"))
    assert zones and all("/zone-" in d for d, _ in zones)
    assert ahus and all("/ahu-" in d for d, _ in ahus)


def test_broker_restart_mid_run_loses_and_duplicates_nothing(kafka_broker, synthfeed_bin, tmp_path):
    topic = unique("fault")
    b = kafka_broker.bootstrap
    args = ["run", COLD_CHAIN, "--duration", "3m", "--start", START, "--speed", "12x", "--progress", "1s",
            "--sink", f"kafka://{b}/{topic}", "--summary-json", tmp_path / "summary.json", "--grace", "120s"]
    outcome = {}

    def generate():
        outcome["result"] = run_synthfeed(synthfeed_bin, *args, timeout=300)

    runner = threading.Thread(target=generate)
    runner.start()
    time.sleep(4)           # let it produce for a while
    kafka_broker.stop()     # the broker goes away for several seconds...
    time.sleep(6)
    kafka_broker.restart()  # ...and comes back on the same port with the same data
    runner.join()
    result = outcome["result"]
    assert result.returncode == 0, result.stderr[-4000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    got = identities(read_topic(kafka_broker.bootstrap, topic))
    run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, "--duration", "3m", "--start", START, "--progress", "off",
                  "--sink", f"file:{tmp_path / 'ref.jsonl'}", check=0)
    expected = file_identities(tmp_path / "ref.jsonl")
    assert len(got) == len(set(got)), f"{len(got) - len(set(got))} duplicates"
    assert set(got) == set(expected)
    assert summary["messages_delivered"] == summary["messages_generated"] == len(expected)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_broker_fails_fast_with_exit_1(synthfeed_bin):
    started = time.monotonic()
    result = run_synthfeed(synthfeed_bin, "run", GOLDEN, "--count", "10", "--progress", "off",
                           "--sink", f"kafka://127.0.0.1:{free_port()}/t?connect_timeout=3s")
    assert result.returncode == 1
    assert "cannot reach Kafka at 127.0.0.1:" in result.stderr
    assert time.monotonic() - started < 60  # bounded by the connect timeout, not by the test's patience


def test_invalid_properties_exit_2_and_never_print_secrets(kafka_broker, synthfeed_bin):
    b = kafka_broker.bootstrap
    bad = run_synthfeed(synthfeed_bin, "run", GOLDEN, "--count", "1", "--sink", f"kafka://{b}/t", "-X", "linger.ms=soon")
    assert bad.returncode == 2 and "linger.ms" in bad.stderr
    unknown = run_synthfeed(synthfeed_bin, "run", GOLDEN, "--count", "1", "--sink", f"kafka://{b}/t",
                            "-X", "sasl.password=hunter2", "-X", "no.such.property=1")
    assert unknown.returncode == 2 and "no.such.property" in unknown.stderr
    assert "hunter2" not in unknown.stderr + unknown.stdout


def test_sigterm_with_the_broker_gone_drains_within_grace_and_exits_1(kafka_broker, synthfeed_bin, tmp_path):
    """Readiness drops as soon as draining starts; undelivered messages are counted, exit 1."""
    import os
    import signal
    import subprocess

    from helpers import free_port, get, wait_until_up

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    summary_path = tmp_path / "summary.json"
    proc = subprocess.Popen([str(synthfeed_bin), "run", str(COLD_CHAIN), "--rate", "5000", "--progress", "off",
                             "--sink", f"kafka://{kafka_broker.bootstrap}/{unique('drain')}", "--grace", "6s",
                             "--http", f"127.0.0.1:{port}", "--summary-json", str(summary_path)],
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_until_up(base)
        time.sleep(1.5)
        assert get(f"{base}/readyz")[0] == 200
        kafka_broker.stop()            # nothing can be delivered from now on
        time.sleep(1.0)
        stopped_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        saw_draining = False
        while proc.poll() is None and time.monotonic() - stopped_at < 30:
            try:
                status, body = get(f"{base}/readyz")
                if status == 503 and "draining" in body:
                    saw_draining = True
            except OSError:
                pass
            time.sleep(0.2)
        proc.wait(timeout=30)
        elapsed = time.monotonic() - stopped_at
    finally:
        if proc.poll() is None:
            proc.kill()
        kafka_broker.restart()
    assert saw_draining, "readiness did not drop while draining"
    assert proc.returncode == 1, proc.stderr.read()[-3000:]
    assert elapsed < 6 + 20  # the grace period plus a bounded purge, not the 5-minute message timeout
    summary = json.loads(summary_path.read_text())
    assert summary["interrupted"] is True
    assert summary["messages_failed"] > 0
    assert summary["messages_delivered"] + summary["messages_failed"] == summary["messages_generated"]


def test_sigterm_with_a_healthy_broker_delivers_everything_and_exits_0(kafka_broker, synthfeed_bin, tmp_path):
    """Graceful drain: SIGTERM stops generation, everything generated is delivered, exit 0. While
    it runs, /metrics shows broker acknowledgements in the delivery latency histogram."""
    import signal
    import subprocess

    from helpers import free_port, get, metric, wait_until_up

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    summary_path = tmp_path / "summary.json"
    topic = unique("graceful")
    proc = subprocess.Popen([str(synthfeed_bin), "run", str(COLD_CHAIN), "--rate", "5000", "--progress", "off",
                             "--sink", f"kafka://{kafka_broker.bootstrap}/{topic}", "--http", f"127.0.0.1:{port}",
                             "--summary-json", str(summary_path)], stderr=subprocess.PIPE, text=True)
    try:
        wait_until_up(base)
        time.sleep(2.0)
        text = get(f"{base}/metrics")[1]
        observed = metric(text, "synthfeed_delivery_latency_seconds_count", connector="kafka", stream="data")
        delivered = metric(text, "synthfeed_messages_delivered_total", connector="kafka", stream="data")
        assert 0 < observed <= delivered
        assert metric(text, "synthfeed_delivery_latency_seconds_bucket", connector="kafka", le="+Inf") == observed
        assert metric(text, "synthfeed_send_errors_total", connector="kafka", error_type="timed_out") == 0
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, proc.stderr.read()[-3000:]
    summary = json.loads(summary_path.read_text())
    assert summary["interrupted"] is True
    assert summary["messages_failed"] == 0
    assert summary["messages_delivered"] == summary["messages_generated"] > 0
    assert len(read_topic(kafka_broker.bootstrap, topic)) == summary["messages_generated"]


def test_fault_and_fraud_labels_reach_the_label_topic_and_headers(kafka_broker, synthfeed_bin):
    """Transport faults and fraud typologies travel like value anomalies: in the label topic
    and in Kafka headers (label, episode, faults), read back with an independent client."""
    b = kafka_broker.bootstrap
    checked = collections.Counter()
    for profile, duration in [(PROFILES / "ingestion_torture.toml", "3m"), (PROFILES / "card_fraud.toml", "2d")]:
        data, labels = unique("data"), unique("labels")
        run_synthfeed(synthfeed_bin, "run", profile, "--duration", duration, "--start", START, "--progress", "off",
                      "--sink", f"kafka://{b}/{data}", "--labels", f"kafka://{b}/{labels}", "--label-headers",
                      check=0)
        label_by_id = {}
        for m in read_topic(b, labels):
            line = json.loads(m.value())
            label_by_id[(line["device_id"], line["seq"])] = line
        for m in read_topic(b, data):
            headers = {k: v.decode() for k, v in m.headers()}
            label = label_by_id[(m.key().decode(), int(headers["seq"]))]
            assert headers["label"] == label["label"]
            assert headers["episode"] == (label["episode"] or "")
            faults = label.get("faults", [])
            assert headers.get("faults", "") == ",".join(faults)
            checked.update(faults)
            if label["label"] != "normal":
                checked[label["label"]] += 1
    for kind in ["duplicate", "out_of_order", "late", "malformed", "clock_skew", "schema_drift",
                 "card_testing", "account_takeover", "velocity_burst", "impossible_travel"]:
        assert checked[kind] > 0, kind
