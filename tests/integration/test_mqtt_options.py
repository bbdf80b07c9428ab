"""MQTT options that need a broker to show: the last will, on_full=drop (dropped messages are
counted, never silently lost), percent-encoded credentials in the URI, and the profile's [mqtt]
table under env and the URI. Real Mosquitto, independent paho-mqtt subscriber."""

import signal
import time
from urllib.parse import quote

from conftest import free_port
from helpers import (COLD_CHAIN, Subscriber, get, metric, reference, start_synthfeed, stderr_of, summary_of,
                     wait_until_up)

START = "2026-01-01T00:00:00Z"


def test_last_will_is_published_when_synthfeed_dies(mosquitto, synthfeed_bin, tmp_path):
    broker = mosquitto()
    sub = Subscriber(broker.port, "status/#", qos=1)
    try:
        proc = start_synthfeed(synthfeed_bin, "run", COLD_CHAIN, "--start", START, "--speed", "1x",
                               "--duration", "1h", "--progress", "off",
                               "--sink", f"mqtt://127.0.0.1:{broker.port}/fleet/{{device_id}}"
                                         "?qos=1&will_topic=status/synthfeed&will_payload=gone",
                               log_dir=tmp_path)
        time.sleep(2)
        assert proc.poll() is None, stderr_of(tmp_path)[-3000:]
        assert not sub.data_messages("status/"), "a will before the client died"
        proc.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker must publish the will
        proc.wait(10)
        deadline = time.monotonic() + 15
        while not sub.data_messages("status/") and time.monotonic() < deadline:
            time.sleep(0.1)
        wills = [(m.topic, m.payload) for m in sub.data_messages("status/")]
    finally:
        sub.close()
    assert wills == [("status/synthfeed", b"gone")], wills


def test_on_full_drop_counts_what_it_drops(mosquitto, synthfeed_bin, tmp_path):
    """A broker frozen for two seconds fills a small window; with on_full=drop the overflow is
    dropped and counted, the rest is delivered after the thaw, nothing fails, exit 0."""
    broker = mosquitto()
    http = free_port()
    proc = start_synthfeed(synthfeed_bin, "run", COLD_CHAIN, "--start", START, "--speed", "10x",
                           "--duration", "60s", "--progress", "off", "--grace", "30s",
                           "--sink", f"mqtt://127.0.0.1:{broker.port}/fleet/{{device_id}}"
                                     "?qos=1&max_inflight=50&on_full=drop",
                           "--http", f"127.0.0.1:{http}", "--summary-json", tmp_path / "summary.json",
                           log_dir=tmp_path)
    base = f"http://127.0.0.1:{http}"
    try:
        wait_until_up(base)
        time.sleep(1)
        broker.proc.send_signal(signal.SIGSTOP)
        time.sleep(2)
        dropped_live = metric(get(f"{base}/metrics")[1], "synthfeed_messages_dropped_total", stream="data")
        broker.proc.send_signal(signal.SIGCONT)
        proc.wait(timeout=60)
    finally:
        broker.proc.send_signal(signal.SIGCONT)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr_of(tmp_path)[-3000:]
    s = summary_of(tmp_path / "summary.json")
    print(f"on_full=drop: generated {s['messages_generated']} delivered {s['messages_delivered']} "
          f"dropped {s['messages_dropped']} (live metric {dropped_live:.0f})")
    assert dropped_live > 0
    assert s["messages_dropped"] >= dropped_live
    assert s["messages_failed"] == 0
    assert s["messages_delivered"] + s["messages_dropped"] == s["messages_generated"]


# --- credentials and where options come from -------------------------------------------------------

TRICKY_USER, TRICKY_PASSWORD = "gw@site-1", "p&w=d%x@y/#?:+"
WATCHER = ("watcher", "watch-pw")


def logs_of(tmp_path):
    return stderr_of(tmp_path) + (tmp_path / "synthfeed.stdout").read_text(errors="replace")


def test_percent_encoded_user_info_logs_in(mosquitto, synthfeed_bin, tmp_path):
    """A user name and password holding URI delimiters, percent-encoded by Python's own encoder
    in USER:PASSWORD@, reach the broker decoded: every message arrives, the password is never
    printed."""
    broker = mosquitto(users={TRICKY_USER: TRICKY_PASSWORD, WATCHER[0]: WATCHER[1]})
    window = ["--count", "200", "--start", START]
    expected = reference(synthfeed_bin, tmp_path, *window)
    userinfo = f"{quote(TRICKY_USER, safe='')}:{quote(TRICKY_PASSWORD, safe='')}"
    sub = Subscriber(broker.port, "auth/#", qos=1, username=WATCHER[0], password=WATCHER[1])
    try:
        proc = start_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *window, "--progress", "off", "--sink",
                               f"mqtt://{userinfo}@127.0.0.1:{broker.port}/auth/{{device_id}}?qos=1",
                               log_dir=tmp_path)
        assert proc.wait(timeout=60) == 0, stderr_of(tmp_path)[-3000:]
        got = sub.wait_for(set(expected), timeout=30)
    finally:
        sub.close()
    assert got.keys() == set(expected)
    assert TRICKY_PASSWORD not in logs_of(tmp_path)
    assert quote(TRICKY_PASSWORD, safe="") not in logs_of(tmp_path)


def test_mqtt_table_then_env_then_uri(mosquitto, synthfeed_bin, tmp_path):
    """The profile's [mqtt] table sets QoS 1 and wrong credentials; the env twins override the
    credentials (the run logs in, at the table's QoS); a password in the URI overrides the env
    (the broker refuses it: exit 1)."""
    broker = mosquitto(users={TRICKY_USER: TRICKY_PASSWORD, WATCHER[0]: WATCHER[1]})
    profile = tmp_path / "with_mqtt.toml"
    profile.write_text(COLD_CHAIN.read_text() + '\n[mqtt]\nqos = 1\nusername = "nobody"\npassword = "wrong"\n')
    env = {"SYNTHFEED_MQTT_USERNAME": TRICKY_USER, "SYNTHFEED_MQTT_PASSWORD": TRICKY_PASSWORD}
    window = ["--count", "100", "--start", START]
    expected = reference(synthfeed_bin, tmp_path, *window)
    sink = f"mqtt://127.0.0.1:{broker.port}/auth/{{device_id}}"
    sub = Subscriber(broker.port, "auth/#", qos=2, username=WATCHER[0], password=WATCHER[1])
    try:
        proc = start_synthfeed(synthfeed_bin, "run", profile, *window, "--progress", "off", "--sink", sink,
                               log_dir=tmp_path, env=env)
        assert proc.wait(timeout=60) == 0, stderr_of(tmp_path)[-3000:]
        got = sub.wait_for(set(expected), timeout=30)
        qos = {m.qos for m in sub.data_messages("auth/")}
    finally:
        sub.close()
    assert got.keys() == set(expected)
    assert qos == {1}, f"published at QoS {qos}, the [mqtt] table says 1"

    proc = start_synthfeed(synthfeed_bin, "run", profile, *window, "--progress", "off",
                           "--sink", f"{sink}?password=wrong-too", log_dir=tmp_path, env=env)
    assert proc.wait(timeout=60) == 1, stderr_of(tmp_path)[-3000:]
    assert "wrong-too" not in logs_of(tmp_path) and TRICKY_PASSWORD not in logs_of(tmp_path)
