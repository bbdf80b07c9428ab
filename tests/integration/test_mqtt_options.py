"""MQTT options that need a broker to show: the last will, and on_full=drop (dropped messages are
counted, never silently lost). Real Mosquitto, independent paho-mqtt subscriber."""

import signal
import time

from conftest import free_port
from helpers import COLD_CHAIN, Subscriber, get, metric, start_synthfeed, stderr_of, summary_of, wait_until_up

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
