"""synthfeed against a real MQTT broker (Eclipse Mosquitto, started per test by the `mosquitto`
fixture), checked with an independent client (paho-mqtt 2.x) that subscribes before synthfeed runs.
The same run with --sink file: is the reference: (device_id, seq) sets must match exactly."""

import json
import time
import warnings

import pytest

from conftest import free_port
from helpers import (assert_topics_and_order, connected_clients_subscriber, COLD_CHAIN, START, Subscriber, assert_summary_complete, duplicates, established_on,
                     reference, run_synthfeed, start_synthfeed, stderr_of, summary_of)


# --- a. exact delivery at QoS 1 and 2 -------------------------------------------------------------

@pytest.mark.parametrize("qos,extra", [(1, ""), (2, ""), (1, "&connections=4")], ids=["qos1", "qos2", "qos1-4conns"])
def test_every_message_arrives_once_at_qos(mosquitto, synthfeed_bin, tmp_path, qos, extra):
    broker = mosquitto()
    window = ["--duration", "30s", "--start", START]
    expected = reference(synthfeed_bin, tmp_path, *window)
    sub = Subscriber(broker.port, "fleet/#", qos=qos)
    try:
        result = run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *window, "--progress", "off",
                               "--sink", f"mqtt://127.0.0.1:{broker.port}/fleet/{{device_id}}?qos={qos}{extra}",
                               "--summary-json", tmp_path / "summary.json", timeout=180)
        assert result.returncode == 0, result.stderr[-4000:]
        got = sub.wait_for(set(expected), timeout=90)
        messages = sub.data_messages()
    finally:
        sub.close()

    missing = set(expected) - got.keys()
    assert not missing, f"{len(missing)} of {len(expected)} messages never arrived, e.g. {sorted(missing)[:5]}"
    assert got.keys() == set(expected), f"unexpected identities: {sorted(got.keys() - set(expected))[:5]}"
    dups = duplicates(got)
    if qos == 2:
        assert not dups, f"{len(dups)} duplicates at QoS 2, e.g. {list(dups.items())[:5]}"
    elif dups:
        warnings.warn(f"QoS 1: {len(dups)} duplicated messages (allowed at least once)")
    assert_summary_complete(summary_of(tmp_path / "summary.json"), len(expected))

    # Topic template, QoS, and per-device order (a device always uses one connection: ordered).
    assert_topics_and_order(messages, qos, ordered=not dups)


# --- b. one connection per device, paced connects --------------------------------------------------

def test_per_device_connections_respect_connect_rate(mosquitto, synthfeed_bin, tmp_path):
    broker = mosquitto()
    rate, devices = 1000, 2000
    window = ["--duration", "12s", "--start", START]
    expected = reference(synthfeed_bin, tmp_path, *window)

    sub, sys_samples = connected_clients_subscriber(broker.port, "fleet/#")
    try:
        time.sleep(0.3)
        own = established_on(broker.port)  # our own subscriber
        tcp_samples = []
        proc = start_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *window, "--speed", "1x", "--progress", "off",
                               "--sink", f"mqtt://127.0.0.1:{broker.port}/fleet/{{device_id}}"
                                         f"?qos=1&connections=per-device&connect_rate={rate}",
                               "--summary-json", tmp_path / "summary.json", log_dir=tmp_path)
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            tcp_samples.append((time.monotonic(), established_on(broker.port) - own))
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            pytest.fail(f"synthfeed still running after 120 s:\n{stderr_of(tmp_path)[-3000:]}")
        assert proc.returncode == 0, stderr_of(tmp_path)[-4000:]
        got = sub.wait_for(set(expected), timeout=60)
    finally:
        sub.close()

    peak_sys = max((v for _, v in sys_samples), default=0) - 1  # less our subscriber
    peak_tcp = max((v for _, v in tcp_samples), default=0)
    assert peak_sys >= devices, f"$SYS/broker/clients/connected peaked at {peak_sys} (+1 subscriber), want {devices}"
    assert peak_tcp >= devices

    # Connect pacing: 2,000 connections at 1,000/s take ~2 s; allow a one-second initial burst.
    first = next(t for t, n in tcp_samples if n > 0)
    full = next(t for t, n in tcp_samples if n >= devices)
    ramp = full - first
    print(f"per-device: {devices} connections in {ramp:.2f} s (connect_rate={rate}), $SYS peak {peak_sys}")
    assert ramp >= devices / rate - 1.0, f"{devices} connections in {ramp:.2f} s: faster than connect_rate={rate}"

    # One MQTT client id per device.
    ids = set()
    for line in broker.log_text().splitlines():
        if "New client connected" in line and " as " in line:
            ids.add(line.split(" as ", 1)[1].split(" (", 1)[0])
    assert len(ids) >= devices, f"only {len(ids)} distinct client ids in the broker log"

    missing = set(expected) - got.keys()
    assert not missing, f"{len(missing)} of {len(expected)} messages never arrived, e.g. {sorted(missing)[:5]}"
    assert got.keys() == set(expected)
    assert_summary_complete(summary_of(tmp_path / "summary.json"), len(expected))


# --- c. broker restarts and crashes mid-run: test_mqtt_fleet.py ------------------------------------


# --- d. TLS and authentication ---------------------------------------------------------------------

TLS_CASES = {
    "ca-query": ("tls", lambda b: f"ca={b.ca}", {}),
    "ca-env": ("tls", lambda b: "", lambda b: {"SYNTHFEED_MQTT_CA": str(b.ca)}),
    "insecure": ("tls", lambda b: "insecure=true", {}),
    "client-cert-query": ("mtls", lambda b: f"ca={b.ca}&cert={b.client_cert}&key={b.client_key}", {}),
    "client-cert-env": ("mtls", lambda b: "", lambda b: {"SYNTHFEED_MQTT_CA": str(b.ca),
                                                          "SYNTHFEED_MQTT_CERT": str(b.client_cert),
                                                          "SYNTHFEED_MQTT_KEY": str(b.client_key)}),
}


@pytest.fixture
def tls_broker(mosquitto):
    return mosquitto(tls=True)


@pytest.mark.parametrize("case", list(TLS_CASES))
def test_mqtts_delivers(tls_broker, synthfeed_bin, tmp_path, case):
    broker = tls_broker
    listener, query, env = TLS_CASES[case]
    port = broker.tls_port if listener == "tls" else broker.mtls_port
    env = env(broker) if callable(env) else env
    window = ["--count", "500", "--start", START]
    expected = reference(synthfeed_bin, tmp_path, *window)
    sub = Subscriber(broker.port, "secure/#", qos=1)  # watches on the plain listener
    try:
        proc = start_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *window, "--progress", "off",
                               "--sink", f"mqtts://127.0.0.1:{port}/secure/{{device_id}}?"
                                         + "&".join(filter(None, ["qos=1", query(broker)])),
                               "--summary-json", tmp_path / "summary.json", log_dir=tmp_path, env=env)
        assert proc.wait(timeout=60) == 0, stderr_of(tmp_path)[-4000:]
        got = sub.wait_for(set(expected), timeout=30)
    finally:
        sub.close()
    assert got.keys() == set(expected), f"{len(set(expected) - got.keys())} missing"
    assert_summary_complete(summary_of(tmp_path / "summary.json"), len(expected))


@pytest.mark.parametrize("case", ["untrusted-server", "missing-client-cert"])
def test_mqtts_refusals_exit_1(tls_broker, synthfeed_bin, case):
    broker = tls_broker
    if case == "untrusted-server":  # no ca=: the test CA is not in the system store
        uri = f"mqtts://127.0.0.1:{broker.tls_port}/secure/{{device_id}}?qos=1"
    else:                           # the listener requires a client certificate
        uri = f"mqtts://127.0.0.1:{broker.mtls_port}/secure/{{device_id}}?qos=1&ca={broker.ca}"
    started = time.monotonic()
    result = run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, "--count", "10", "--progress", "off",
                           "--sink", uri, timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, f"exit {result.returncode}\n{result.stderr[-3000:]}"
    assert result.stderr.strip(), "no error message"
    assert elapsed < 30, f"took {elapsed:.1f} s to fail"


USER, PASSWORD = "sensor-gw", "s3cret-Pw-42"


@pytest.fixture
def auth_broker(mosquitto):
    return mosquitto(users={USER: PASSWORD, "watcher": "watch-pw"})


@pytest.mark.parametrize("how", ["query", "env"])
def test_username_password_accepted(auth_broker, synthfeed_bin, tmp_path, how):
    broker = auth_broker
    window = ["--count", "300", "--start", START]
    expected = reference(synthfeed_bin, tmp_path, *window)
    uri = f"mqtt://127.0.0.1:{broker.port}/auth/{{device_id}}?qos=1"
    env = {}
    if how == "query":
        uri += f"&username={USER}&password={PASSWORD}"
    else:
        env = {"SYNTHFEED_MQTT_USERNAME": USER, "SYNTHFEED_MQTT_PASSWORD": PASSWORD}
    sub = Subscriber(broker.port, "auth/#", qos=1, username="watcher", password="watch-pw")
    try:
        proc = start_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *window, "--progress", "off", "--sink", uri,
                               "--summary-json", tmp_path / "summary.json", log_dir=tmp_path, env=env)
        assert proc.wait(timeout=60) == 0, stderr_of(tmp_path)[-4000:]
        got = sub.wait_for(set(expected), timeout=30)
    finally:
        sub.close()
    assert got.keys() == set(expected)
    assert_summary_complete(summary_of(tmp_path / "summary.json"), len(expected))
    assert PASSWORD not in (tmp_path / "synthfeed.stderr").read_text() + (tmp_path / "synthfeed.stdout").read_text()


@pytest.mark.parametrize("credentials", ["wrong-password", "no-credentials"])
def test_refused_credentials_fail_fast_with_exit_1(auth_broker, synthfeed_bin, credentials):
    broker = auth_broker
    query = f"&username={USER}&password=wrong-{PASSWORD}" if credentials == "wrong-password" else ""
    started = time.monotonic()
    result = run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, "--count", "10", "--progress", "off",
                           "--sink", f"mqtt://127.0.0.1:{broker.port}/auth/{{device_id}}?qos=1{query}", timeout=60)
    elapsed = time.monotonic() - started
    assert result.returncode == 1, f"exit {result.returncode}\n{result.stderr[-3000:]}"
    lowered = result.stderr.lower()
    assert any(word in lowered for word in ("password", "not authori", "auth", "credential")), result.stderr[-3000:]
    assert f"wrong-{PASSWORD}" not in result.stderr + result.stdout, "the password was printed"
    assert elapsed < 30, f"took {elapsed:.1f} s to fail"


# --- bad configuration -----------------------------------------------------------------------------

BAD_QUERIES = ["qos=3", "qos=high", "version=6", "version=3.1", "connections=0", "connections=lots", "connect_rate=0",
               "connect_rate=fast", "retain=perhaps", "clean=perhaps", "keepalive=soon", "on_full=maybe",
               "max_inflight=-1", "buffer=lots", "no_such_option=1"]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_options_exit_2(synthfeed_bin, query):
    result = run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, "--count", "1", "--progress", "off",
                           "--sink", f"mqtt://127.0.0.1:{free_port()}/t/{{device_id}}?{query}", timeout=30)
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stderr[-2000:]}"
    assert query.split("=")[0] in result.stderr


def test_config_errors_never_print_the_password(synthfeed_bin):
    result = run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, "--count", "1", "--progress", "off",
                           "--sink", f"mqtt://127.0.0.1:{free_port()}/t?username=u&password=hunter2&qos=3", timeout=30)
    assert result.returncode == 2, f"exit {result.returncode}\n{result.stderr[-2000:]}"
    assert "hunter2" not in result.stderr + result.stdout, result.stderr


@pytest.mark.parametrize("uri", ["mqtt://127.0.0.1:{port}/", "mqtt://127.0.0.1:{port}/t/{{nope}}",
                                 "mqtt://127.0.0.1:{port}/t/#", "mqtt://127.0.0.1:{port}/t/+/x",
                                 "mqtt://127.0.0.1:notaport/t", "mqtts://127.0.0.1:{port}/t?ca=/no/such/ca.pem"])
def test_bad_uris_exit_2(synthfeed_bin, uri):
    uri = uri.format(port=free_port())
    result = run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, "--count", "1", "--progress", "off", "--sink", uri,
                           timeout=30)
    assert result.returncode == 2, f"{uri}: exit {result.returncode}\n{result.stderr[-2000:]}"


# --- retained messages ------------------------------------------------------------------------------

def test_retain_keeps_the_last_message_per_topic(mosquitto, synthfeed_bin, tmp_path):
    broker = mosquitto()
    window = ["--count", "4000", "--start", START]   # two ticks of every device
    expected = reference(synthfeed_bin, tmp_path, *window)
    last = {}
    for device, seq in expected:
        last[device] = max(seq, last.get(device, -1))
    run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *window, "--progress", "off",
                  "--sink", f"mqtt://127.0.0.1:{broker.port}/kept/{{device_id}}?qos=1&retain=true", check=0)
    sub = Subscriber(broker.port, "kept/#", qos=1)   # subscribes after the run: sees only retained messages
    try:
        deadline = time.monotonic() + 30
        while len(sub.messages) < len(last) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
        messages = list(sub.messages)
    finally:
        sub.close()
    assert all(m.retain for m in messages)
    got = {json.loads(m.payload)["device_id"]: json.loads(m.payload)["seq"] for m in messages}
    assert got == last


# --- e. MQTT 5 user properties and label topics -------------------------------------------------------

def test_v5_label_headers_and_label_topics(mosquitto, synthfeed_bin, tmp_path):
    broker = mosquitto()
    window = ["--duration", "10s", "--start", START]
    expected = reference(synthfeed_bin, tmp_path, *window)
    sub = Subscriber(broker.port, "fleet/#", "labels/#", qos=1, version=5)
    try:
        result = run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *window, "--progress", "off",
                               "--sink", f"mqtt://127.0.0.1:{broker.port}/fleet/{{device_id}}?qos=1&version=5",
                               # its own client id: the default-id case is the next test
                               "--labels", f"mqtt://127.0.0.1:{broker.port}/labels/{{device_id}}?qos=1&client_id=it-labels-{{n}}",
                               "--label-headers", "--summary-json", tmp_path / "summary.json", timeout=120)
        assert result.returncode == 0, result.stderr[-4000:]
        summary = summary_of(tmp_path / "summary.json")
        got = sub.wait_for(set(expected), timeout=60, prefix="fleet/")
        deadline = time.monotonic() + 30
        while len(sub.data_messages("labels/")) < summary.get("label_lines", 0) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)
    finally:
        sub.close()

    assert got.keys() == set(expected)
    assert_summary_complete(summary, len(expected))
    labels = {}
    for m in sub.data_messages("labels/"):
        line = json.loads(m.payload)
        assert m.topic == f"labels/{line['device_id']}"
        labels[(line["device_id"], line["seq"])] = line
    assert len(labels) == summary["label_lines"] > 0
    assert set(expected) <= labels.keys()

    for m in sub.data_messages("fleet/"):
        j = json.loads(m.payload)
        props = dict(getattr(m.properties, "UserProperty", None) or [])
        assert {"seq", "label", "episode"} <= props.keys(), f"user properties {props} on {m.topic}"
        assert props["seq"] == str(j["seq"])
        label = labels[(j["device_id"], j["seq"])]
        assert props["label"] == label["label"]
        assert props["episode"] == (label.get("episode") or "")


def test_sink_and_labels_on_one_broker_with_default_client_ids(mosquitto, synthfeed_bin, tmp_path):
    """--sink and --labels on the same broker, no client_id: their connections must not share a client
    id (the broker would close the older connection each time the other one connects)."""
    broker = mosquitto()
    window = ["--duration", "5s", "--start", START]
    expected = reference(synthfeed_bin, tmp_path, *window)
    started = time.monotonic()
    result = run_synthfeed(synthfeed_bin, "run", COLD_CHAIN, *window, "--progress", "off",
                           "--sink", f"mqtt://127.0.0.1:{broker.port}/fleet/{{device_id}}?qos=1",
                           "--labels", f"mqtt://127.0.0.1:{broker.port}/labels/{{device_id}}?qos=1",
                           "--summary-json", tmp_path / "summary.json", timeout=120)
    elapsed = time.monotonic() - started
    takeovers = [line for line in broker.log_text().splitlines() if "already connected, closing old connection" in line]
    assert not takeovers, f"{len(takeovers)} client id takeovers, e.g. {takeovers[0]!r}; exit {result.returncode}, {elapsed:.0f} s"
    assert result.returncode == 0, result.stderr[-3000:]
    assert_summary_complete(summary_of(tmp_path / "summary.json"), len(expected))
