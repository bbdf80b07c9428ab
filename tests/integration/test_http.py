"""The HTTP listener: /metrics, /livez, /readyz and the token-protected control API, exercised
while a real run is in progress (scraped with urllib, an independent client)."""

import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import threading
import time

from helpers import PROFILES, established_on, free_port, get, metric, wait_until_up

TOKEN = "test-token-123"


@contextlib.contextmanager
def control_plane(synthfeed_bin, tmp_path, nofile=None):
    """A paced cold-chain run (long enough to outlast the test) with the listener and the control
    API, optionally under RLIMIT_NOFILE `nofile`. Yields (port, stderr path); at the end SIGTERM
    stops the run, which must exit 0."""
    port = free_port()
    log = tmp_path / "synthfeed.stderr"
    limit = (lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))) if nofile else None
    with open(log, "wb") as stderr:
        proc = subprocess.Popen([str(synthfeed_bin), "run", str(PROFILES / "cold_chain.toml"), "--speed", "1x",
                                 "--run-for", "5m", "--sink", "null:", "--progress", "off",
                                 "--http", f"127.0.0.1:{port}"], stdin=subprocess.DEVNULL, stderr=stderr,
                                env={**os.environ, "SYNTHFEED_CONTROL_TOKEN": TOKEN}, preexec_fn=limit)
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        yield port, log
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        finally:
            proc.kill()
    assert proc.returncode == 0, log.read_text(errors="replace")[-3000:]


def wait_for_log(log, predicate, what, deadline=10.0):
    end = time.monotonic() + deadline
    while not predicate(log.read_text(errors="replace")):
        assert time.monotonic() < end, f"no {what} in the log:\n{log.read_text(errors='replace')[-3000:]}"
        time.sleep(0.05)


def test_metrics_health_and_control_api(synthfeed_bin, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    summary_path = tmp_path / "summary.json"
    env = {**os.environ, "SYNTHFEED_CONTROL_TOKEN": TOKEN}
    proc = subprocess.Popen([str(synthfeed_bin), "run", str(PROFILES / "cold_chain.toml"), "--rate", "20000",
                             "--run-for", "8s", "--sink", "null:", "--progress", "off", "--http", f"127.0.0.1:{port}",
                             "--summary-json", str(summary_path)], env=env, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_up(base)
        time.sleep(0.5)
        assert get(f"{base}/readyz")[0] == 200
        status, first = get(f"{base}/metrics")
        assert status == 200
        assert "# TYPE synthfeed_messages_generated_total counter" in first
        assert 'synthfeed_build_info{' in first
        time.sleep(0.5)
        second = get(f"{base}/metrics")[1]
        assert metric(second, "synthfeed_messages_generated_total") > metric(first, "synthfeed_messages_generated_total")
        assert metric(second, "synthfeed_target_rate_messages_per_second") == 20000
        assert metric(second, "synthfeed_devices_active") == 2000

        # The control API refuses anyone without the token.
        assert get(f"{base}/v1/pause", method="POST")[0] == 401
        assert get(f"{base}/v1/pause", token="wrong", method="POST")[0] == 401
        assert get(f"{base}/v1/status", token=TOKEN)[0] == 200

        # Pause: the counters stop moving; resume: they move again.
        assert get(f"{base}/v1/pause", token=TOKEN, method="POST") == (200, '{"paused":true}\n')
        time.sleep(0.3)
        paused_a = metric(get(f"{base}/metrics")[1], "synthfeed_messages_generated_total")
        time.sleep(0.5)
        paused_b = metric(get(f"{base}/metrics")[1], "synthfeed_messages_generated_total")
        assert paused_a == paused_b
        assert json.loads(get(f"{base}/v1/status", token=TOKEN)[1])["paused"] is True
        assert get(f"{base}/v1/resume", token=TOKEN, method="POST")[0] == 200
        time.sleep(0.5)
        assert metric(get(f"{base}/metrics")[1], "synthfeed_messages_generated_total") > paused_b

        # Rate changes: bad bodies are 400 with a JSON error, good ones take effect.
        status, body = get(f"{base}/v1/rate", token=TOKEN, method="PUT", body='{"rate": -1}')
        assert status == 400 and "error" in json.loads(body)
        assert get(f"{base}/v1/rate", token=TOKEN, method="PUT", body='{"rate": 5000}')[0] == 200
        time.sleep(0.3)
        assert metric(get(f"{base}/metrics")[1], "synthfeed_target_rate_messages_per_second") == 5000
        last_scrape = metric(get(f"{base}/metrics")[1], "synthfeed_messages_generated_total")
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read()[-3000:]
    summary = json.loads(summary_path.read_text())
    assert summary["messages_generated"] >= last_scrape
    assert summary["messages_generated"] == summary["messages_delivered"]


def test_control_api_is_off_without_a_token(synthfeed_bin):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "SYNTHFEED_CONTROL_TOKEN"}
    proc = subprocess.Popen([str(synthfeed_bin), "run", str(PROFILES / "cold_chain.toml"), "--rate", "1000",
                             "--run-for", "3s", "--sink", "null:", "--progress", "off", "--http", f":{port}"],
                            env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(base)
        assert get(f"{base}/v1/pause", token="anything", method="POST")[0] == 404
        assert get(f"{base}/nope")[0] == 404
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_bad_http_address_is_a_usage_error(synthfeed_bin):
    result = subprocess.run([str(synthfeed_bin), "run", str(PROFILES / "cold_chain.toml"), "--count", "1",
                             "--sink", "null:", "--http", "127.0.0.1:notaport"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "--http" in result.stderr


def test_injected_anomalies_are_applied_and_labelled(synthfeed_bin, tmp_path):
    """POST /v1/anomalies during a paced run: the episode appears in the episodes output, every
    tick it covers carries its id in the labels, the values show its effect, and the stream
    still verifies (seq gaps of an injected dropout are labelled like any other)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data, labels, episodes = tmp_path / "data.jsonl", tmp_path / "labels.jsonl", tmp_path / "episodes.jsonl"
    env = {**os.environ, "SYNTHFEED_CONTROL_TOKEN": TOKEN}
    proc = subprocess.Popen([str(synthfeed_bin), "run", str(PROFILES / "cold_chain.toml"), "--speed", "60x",
                             "--run-for", "5s", "--sink", f"file:{data}", "--labels", f"file:{labels}",
                             "--episodes", f"file:{episodes}", "--progress", "off", "--http", f"127.0.0.1:{port}"],
                            env=env, stderr=subprocess.PIPE, text=True)

    def inject(body, token=TOKEN):
        status, text = get(f"{base}/v1/anomalies", token=token, method="POST", body=json.dumps(body))
        return status, json.loads(text)

    try:
        wait_until_up(base)
        while get(f"{base}/readyz")[0] != 200:
            time.sleep(0.05)
        assert inject({"kind": "level_shift", "device": "reefer-00042"}, token="wrong")[0] == 401
        # Bad bodies: 400 with a JSON error naming the problem.
        for body, words in [({"kind": "meltdown", "device": "reefer-00042"}, "unknown kind"),
                            ({"kind": "duplicate", "device": "reefer-00042"}, "value anomalies"),
                            ({"kind": "level_shift", "device": "no-such-device", "field": "temp_c",
                              "duration": "1m"}, "no device"),
                            ({"kind": "level_shift", "device": "reefer-00042", "duration": "1m"}, "field"),
                            ({"kind": "level_shift", "device": "reefer-00042", "group": "reefer",
                              "field": "temp_c", "duration": "1m"}, "exactly one"),
                            ({"kind": "trend", "device": "reefer-00042", "field": "temp_c"}, "duration"),
                            ({"kind": "dropout", "group": "reefer", "field": "temp_c", "duration": "1m"}, "no field")]:
            status, reply = inject(body)
            assert status == 400 and words in reply["error"], (body, reply)

        status, shift = inject({"kind": "level_shift", "device": "reefer-00042", "field": "temp_c",
                                "magnitude": 40, "duration": "2m"})
        assert status == 200, shift
        assert shift["episode"] == f"reefer-00042:injected:{shift['id']}"
        status, outage = inject({"kind": "dropout", "group": "reefer", "duration": "20s"})
        assert status == 200, outage
        time.sleep(0.5)
        assert get(f"{base}/metrics")[0] == 200
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read()[-3000:]

    episode_lines = [json.loads(line) for line in episodes.read_text().splitlines()]
    injected = [e for e in episode_lines if e.get("injected")]
    shift_episode = next(e for e in injected if e["episode"] == shift["episode"])
    assert (shift_episode["kind"], shift_episode["field"], shift_episode["start"]) == \
        ("level_shift", "temp_c", shift["start"])
    outages = [e for e in injected if e["kind"] == "dropout"]
    assert len(outages) == 2000  # one per device of the group, each with its own id
    assert all(e["episode"] == f"{e['device_id']}:injected:{outage['id']}" for e in outages)

    # Labels: every tick of reefer-00042 inside the shift window carries the episode, none outside.
    label_lines = [json.loads(line) for line in labels.read_text().splitlines()]
    messages = {(m["device_id"], m["seq"]): m for m in map(json.loads, data.read_text().splitlines())}
    inside = [l for l in label_lines if l["device_id"] == "reefer-00042"
              and shift["start"] <= l["ts"] < shift["end"]]
    assert inside and all(shift["episode"] in l["episodes"] for l in inside)
    assert not any(shift["episode"] in l["episodes"] for l in label_lines
                   if l["device_id"] == "reefer-00042" and not shift["start"] <= l["ts"] < shift["end"])
    # The effect is in the data: +40 °C puts the reading far above any normal container
    # (unless clamped at the field's 60 °C maximum).
    shifted = [messages[("reefer-00042", l["seq"])]["temp_c"] for l in inside if l["emitted"]]
    assert shifted and min(shifted) > 30
    # The group dropout silences ticks, and the labels say so.
    silenced = [l for l in label_lines if outage["episode"].replace("<device_id>", l["device_id"]) in l["episodes"]]
    assert silenced and not any(l["emitted"] for l in silenced)
    assert not any((l["device_id"], l["seq"]) in messages for l in silenced)

    report = subprocess.run([str(synthfeed_bin), "verify", f"file:{data}", "--labels", f"file:{labels}"],
                            capture_output=True, text=True)
    assert report.returncode == 0, report.stdout + report.stderr


def test_livez_answers_within_100ms_while_50_injections_wait_for_the_engine(synthfeed_bin, tmp_path):
    """Issue #15: 50 POST /v1/anomalies wait for an engine held by a sink that takes nothing (a
    pipe nobody reads; each request gets 202 "queued" after 2 s), and /livez, asked meanwhile,
    answers within 100 ms. Once the pipe is read again, the engine schedules every queued
    injection."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "synthfeed.stderr"
    with open(log, "wb") as stderr:
        proc = subprocess.Popen([str(synthfeed_bin), "run", str(PROFILES / "cold_chain.toml"), "--speed", "max",
                                 "--run-for", "5m", "--sink", "stdout:", "--progress", "off",
                                 "--http", f"127.0.0.1:{port}"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=stderr, env={**os.environ, "SYNTHFEED_CONTROL_TOKEN": TOKEN})
    reader = threading.Thread(target=lambda: proc.stdout.read(), daemon=True)
    try:
        wait_until_up(base)
        time.sleep(0.5)  # the pipe (64 KiB) and the writer's buffer (1 MiB) fill at once
        answers, finished = [], []

        def inject():
            body = json.dumps({"kind": "spike", "device": "reefer-00042", "field": "temp_c"})
            answers.append(get(f"{base}/v1/anomalies", token=TOKEN, method="POST", body=body))
            finished.append(time.monotonic())

        posts = [threading.Thread(target=inject) for _ in range(50)]
        for post in posts:
            post.start()
        end = time.monotonic() + 10
        while established_on(port) < 50:
            assert time.monotonic() < end, "the 50 injection requests did not connect"
            time.sleep(0.01)
        time.sleep(0.2)  # the listener reads them (in microseconds) and queues them for the engine

        probes = []
        for _ in range(5):
            start = time.monotonic()
            assert get(f"{base}/livez") == (200, "ok\n")
            probes.append((start, time.monotonic()))
            time.sleep(0.05)
        for post in posts:
            post.join(timeout=30)
        assert not finished or probes[0][1] < min(finished), "the first probe came after an injection's answer"
        durations = [round(end - start, 4) for start, end in probes]
        assert max(durations) < 0.1, durations
        assert len(answers) == 50
        assert all(a == (202, '{"status":"queued"}\n') for a in answers), answers[:3]

        reader.start()  # the sink takes messages again: the engine gets to the queued requests
        wait_for_log(log, lambda text: text.count("control: injected spike") == 50, "50 injected spikes")
    finally:
        proc.send_signal(signal.SIGTERM)
        if not reader.is_alive():
            reader.start()
        try:
            proc.wait(timeout=60)
        finally:
            proc.kill()


def test_an_injection_is_answered_at_once_while_paused(synthfeed_bin, tmp_path):
    """A paused engine still takes injection requests: the answer names the episode at once,
    and it applies from the next window not yet generated."""
    with control_plane(synthfeed_bin, tmp_path) as (port, log):
        base = f"http://127.0.0.1:{port}"
        assert get(f"{base}/v1/pause", token=TOKEN, method="POST")[0] == 200
        wait_for_log(log, lambda text: "control: paused" in text, "pause")
        body = json.dumps({"kind": "spike", "device": "reefer-00042", "field": "temp_c"})
        asked = time.monotonic()
        status, answer = get(f"{base}/v1/anomalies", token=TOKEN, method="POST", body=body)
        assert status == 200, answer
        assert time.monotonic() - asked < 1
        assert json.loads(answer)["episode"] == "reefer-00042:injected:0"
        assert get(f"{base}/v1/resume", token=TOKEN, method="POST")[0] == 200


def test_listener_survives_running_out_of_descriptors(synthfeed_bin, tmp_path):
    """Under RLIMIT_NOFILE 64, 100 idle connections exhaust synthfeed's descriptors: accept()
    fails with EMFILE, which is logged (once a second at most, not at every retry) and retried.
    The listener makes room by closing the connections idle longest, so /livez still answers,
    and it answers again once every idle connection is gone."""
    started = time.monotonic()
    with control_plane(synthfeed_bin, tmp_path, nofile=64) as (port, log):
        base = f"http://127.0.0.1:{port}"
        idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(100)]
        try:
            wait_for_log(log, lambda text: "accept() failed: Too many open files" in text, "EMFILE report")
            assert get(f"{base}/livez") == (200, "ok\n")
        finally:
            for connection in idle:
                connection.close()
        assert get(f"{base}/livez") == (200, "ok\n")
        assert get(f"{base}/readyz")[0] == 200
        reports = [line for line in log.read_text(errors="replace").splitlines() if "accept() failed" in line]
        assert 1 <= len(reports) <= time.monotonic() - started + 1, reports
