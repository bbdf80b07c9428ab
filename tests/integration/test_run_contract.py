"""The run contract through pipes and the control API: a pipe whose reader stops or reads slowly,
a rate the sink cannot take, lag checked against the schedule, and a control plane that acts at
once even while the pacer waits an hour for the next message. The Kafka cases are in
test_run_contract_kafka.py."""

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from helpers import PROFILES, free_port, get, metric, wait_until_up

TOKEN = "contract-token"
FACTORY = str(PROFILES / "factory_line.toml")


class SlowReader(threading.Thread):
    """Reads a pipe at about `lines_per_second` (0: never reads) until told to read fast."""

    def __init__(self, pipe, lines_per_second):
        super().__init__(daemon=True)
        self.pipe, self.rate = pipe, lines_per_second
        self.lines = 0
        self.fast = threading.Event()

    def run(self):
        started = time.monotonic()
        while True:
            if not self.fast.is_set():
                if self.rate == 0:
                    time.sleep(0.01)
                    continue
                wait = started + self.lines / self.rate - time.monotonic()
                if wait > 0:
                    time.sleep(min(0.005, wait))
                    continue
            line = self.pipe.readline()
            if not line:
                return
            self.lines += 1


def start(binary, *args, stdout=subprocess.PIPE, env=None, tmp_path=None):
    """Starts a run; its stderr goes to a file (a pipe nobody reads would block its logs) and
    its stdout to `stdout` (a pipe for the test's reader by default)."""
    summary = tmp_path / "summary.json"
    log = open(tmp_path / "stderr.txt", "wb")
    proc = subprocess.Popen([str(binary), "run", *args, "--summary-json", str(summary)], stdout=stdout,
                            stderr=log, stdin=subprocess.DEVNULL, env=env or os.environ.copy())
    proc.log_path = tmp_path / "stderr.txt"
    return proc, summary


def finish(proc, timeout):
    """Waits for the run to end (the test's reader keeps its stdout); returns its stderr."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        pytest.fail(f"did not end within {timeout} s:\n{proc.log_path.read_text(errors='replace')[-3000:]}")
    return proc.log_path.read_text(errors="replace")


def accounted(s):
    return s["messages_delivered"] + s["messages_failed"] + s["messages_dropped"] + s["messages_in_doubt"]


def test_a_blocked_pipe_drains_within_grace_after_sigterm(synthfeed_bin, tmp_path):
    grace = 2.0
    port = free_port()
    proc, summary_path = start(synthfeed_bin, FACTORY, "--speed", "max", "--sink", "stdout:", "--grace", f"{grace:g}s",
                               "--progress", "500ms", "--http", f"127.0.0.1:{port}", tmp_path=tmp_path)
    reader = SlowReader(proc.stdout, 0)  # holds the pipe open, never reads
    reader.start()
    wait_until_up(f"http://127.0.0.1:{port}")
    time.sleep(1.5)
    assert get(f"http://127.0.0.1:{port}/readyz")[0] == 200
    signalled = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    assert get(f"http://127.0.0.1:{port}/readyz")[0] == 503  # draining, at once
    err = finish(proc, timeout=grace + 30)
    took = time.monotonic() - signalled
    print(f"blocked pipe: exit {proc.returncode} {took:.2f} s after SIGTERM")
    assert took <= grace + 1, err[-3000:]
    assert "draining (stop requested)" in err
    assert "stdout: first drain_deadline failure" in err
    assert "still unwritten at the drain deadline: the reader is not reading" in err
    s = json.loads(summary_path.read_text())
    assert proc.returncode == 1  # messages were lost: counted, reported, exit 1
    assert s["interrupted"] is True
    assert s["messages_failed"] > 0
    assert accounted(s) == s["messages_generated"], s
    assert s["sinks"][0]["failed"] == s["messages_failed"]


def test_a_rate_the_sink_cannot_take_ends_on_time_with_a_shortfall(synthfeed_bin, tmp_path):
    run_for, grace = 2.0, 2.0
    proc, summary_path = start(synthfeed_bin, FACTORY, "--rate", "5000000", "--run-for", f"{run_for:g}s",
                               "--grace", f"{grace:g}s", "--sink", "stdout:", "--progress", "500ms",
                               tmp_path=tmp_path)
    started = time.monotonic()
    reader = SlowReader(proc.stdout, 20000)  # 20k lines/s of the 5M/s asked for
    reader.start()
    err = finish(proc, timeout=run_for + grace + 30)
    took = time.monotonic() - started
    print(f"slowed sink: ended after {took:.2f} s (run-for {run_for} s, grace {grace} s)")
    assert took <= run_for + grace + 1.5, err[-3000:]  # start-up included
    s = json.loads(summary_path.read_text())
    assert s["shortfall"] > 0
    assert s["schedule_lag_at_end_seconds"] > 1.0
    assert "warning: the run ended" in err and "behind its schedule" in err
    assert accounted(s) == s["messages_generated"], s


def test_lag_matches_the_schedule_for_a_throttled_sink(synthfeed_bin, tmp_path):
    """50,000 msg/s into a pipe read at 10,000 lines/s for 5 s. Message k is due at k / rate, so
    at the stop the oldest unsent message (the first one never written) was due
    lines / rate seconds after the start: lag = run_for - lines / rate, with `lines` counted by
    this reader once the drain has let the rest out."""
    rate, run_for = 50000, 5.0
    proc, summary_path = start(synthfeed_bin, FACTORY, "--rate", str(rate), "--run-for", f"{run_for:g}s",
                               "--grace", "20s", "--sink", "stdout:", "--progress", "1s", tmp_path=tmp_path)
    reader = SlowReader(proc.stdout, 10000)
    reader.start()
    time.sleep(run_for + 0.3)
    reader.fast.set()  # the drain: read the rest, so that every message is delivered and counted
    err = finish(proc, timeout=60)
    reader.join(timeout=30)
    s = json.loads(summary_path.read_text())
    assert proc.returncode == 0, err[-3000:]
    assert reader.lines == s["messages_delivered"] == s["messages_generated"]
    true_lag = run_for - reader.lines / rate
    reported = s["schedule_lag_at_end_seconds"]
    print(f"throttled sink: {reader.lines} lines, true lag {true_lag:.3f} s, reported {reported:.3f} s")
    assert true_lag > 2  # the case is one that fell well behind
    assert abs(reported - true_lag) <= 0.1 * true_lag
    assert s["shortfall"] == rate * run_for - reader.lines
    # The progress lines showed the lag growing while the pipe held the run back.
    lags = [float(line.split(" lag ")[1].split("s")[0]) for line in err.splitlines()
            if "progress:" in line and " lag " in line]
    assert len(lags) >= 3 and lags[-1] > lags[0] + 1, err[-3000:]


def hourly_profile(tmp_path):
    """One device sending once an hour: the pacer sleeps for an hour between messages."""
    path = tmp_path / "hourly.toml"
    path.write_text('name = "hourly"\nseed = 1\n[[group]]\nname = "slow"\ncount = 1\ninterval = "1h"\n'
                    '[[group.field]]\nname = "x"\nsignal = { kind = "constant", value = 1.0 }\n')
    return str(path)


def control_env():
    return {**os.environ, "SYNTHFEED_CONTROL_TOKEN": TOKEN}


def test_run_for_and_pause_act_within_a_second_on_an_hourly_fleet(synthfeed_bin, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, summary_path = start(synthfeed_bin, hourly_profile(tmp_path), "--speed", "1x", "--run-for", "4s",
                               "--sink", "null:", "--progress", "off", "--http", f"127.0.0.1:{port}",
                               env=control_env(), tmp_path=tmp_path, stdout=subprocess.DEVNULL)
    started = time.monotonic()
    wait_until_up(base)
    time.sleep(0.5)
    assert get(f"{base}/v1/pause", token=TOKEN, method="POST")[0] == 200
    asked = time.monotonic()
    # The pause is taken up at once although the next message is an hour away.
    while json.loads(get(f"{base}/v1/status", token=TOKEN)[1]).get("paused") is not True:
        assert time.monotonic() - asked < 1, "pause not taken up within 1 s"
        time.sleep(0.02)
    assert get(f"{base}/v1/resume", token=TOKEN, method="POST")[0] == 200
    err = finish(proc, timeout=30)
    took = time.monotonic() - started
    print(f"hourly fleet, --run-for 4s: ended after {took:.2f} s")
    assert took <= 4 + 1 + 1, err[-3000:]  # --run-for, the bound, start-up
    assert "control: paused" in err and "control: resumed" in err
    assert "draining (--run-for reached)" in err
    s = json.loads(summary_path.read_text())
    assert [e["what"] for e in s["control_events"]] == ["pause", "resume"]
    assert s["reproducible"] is True


def test_a_rate_change_from_one_per_second_is_seen_within_a_second(synthfeed_bin, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, summary_path = start(synthfeed_bin, FACTORY, "--rate", "1", "--run-for", "8s", "--sink", "stdout:",
                               "--progress", "off", "--http", f"127.0.0.1:{port}", env=control_env(),
                               tmp_path=tmp_path)
    reader = SlowReader(proc.stdout, 10**9)
    reader.start()
    wait_until_up(base)
    time.sleep(1.5)
    before = reader.lines
    assert before <= 3  # one a second
    assert get(f"{base}/v1/rate", token=TOKEN, method="PUT", body='{"rate": 10000}')[0] == 200
    changed = time.monotonic()
    # 10,000 msg/s: thousands of lines within the second (the stream writer flushes every 200 ms).
    while reader.lines < before + 2000:
        assert time.monotonic() - changed < 1, f"only {reader.lines - before} lines 1 s after the rate change"
        time.sleep(0.01)
    print(f"rate change seen after {time.monotonic() - changed:.3f} s")
    err = finish(proc, timeout=30)
    assert proc.returncode == 0, err[-3000:]
    s = json.loads(summary_path.read_text())
    assert [e["what"] for e in s["control_events"]] == ["rate 10000 msg/s"]
    assert s["reproducible"] is True  # a rate change moves timing, not content


def test_the_summary_masks_a_uri_password_and_records_injections(synthfeed_bin, mosquitto, tmp_path):
    """A password in the sink URI and in a pass-through flag never reaches the summary or the
    log; an injected episode is recorded with its time and makes the run not reproducible."""
    broker = mosquitto(users={"loader": "s3cr%t&pw"})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    uri = f"mqtt://loader:s3cr%25t%26pw@127.0.0.1:{broker.port}/plant/{{device_id}}?qos=1"
    proc, summary_path = start(synthfeed_bin, str(PROFILES / "cold_chain.toml"), "--rate", "2000",
                               "--run-for", "3s", "--sink", uri, "-X", "sasl.password=hunter2",
                               "--progress", "off", "--http", f"127.0.0.1:{port}", env=control_env(),
                               tmp_path=tmp_path, stdout=subprocess.DEVNULL)
    wait_until_up(base)
    body = '{"kind":"spike","group":"reefer","field":"temp_c","magnitude":5}'
    status, _ = get(f"{base}/v1/anomalies", token=TOKEN, method="POST", body=body)
    assert status in (200, 202)
    err = finish(proc, timeout=60)
    assert proc.returncode == 0, err[-3000:]
    text = summary_path.read_text()
    for secret in ("s3cr", "hunter2"):
        assert secret not in text and secret not in err
    s = json.loads(text)
    assert s["sinks"][0]["uri"].startswith("mqtt://loader:***@127.0.0.1:")
    assert any(arg.startswith("mqtt://loader:***@") for arg in s["command_line"])
    assert "sasl.password=***" in s["command_line"]
    injected = [e for e in s["control_events"] if e["what"].startswith("injected spike")]
    assert len(injected) == 1 and injected[0]["changes_content"] is True
    assert 0 < injected[0]["at_seconds"] < 4
    assert s["reproducible"] is False
    assert "reproducible: no" in err
