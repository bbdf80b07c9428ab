"""Issue #15's run contract against a real Apache Kafka broker (KRaft, scripts/kafka-broker).

A frozen broker (SIGSTOP: its TCP links stay open, nothing is answered): SIGTERM or the end of
--run-for must still end the process within --grace + 1 s, log "draining", and account for
every message: generated == delivered + failed + dropped + in_doubt.

A broker killed mid-run for longer than message.timeout.ms: what a consumer reads back after
the broker's restart lies between what synthfeed counted delivered and delivered + in doubt,
and the log names each kind of failure's cause once.

These tests freeze and kill their broker, so they use one of their own, not the session's.
"""

import collections
import contextlib
import datetime
import os
import re
import signal
import time

import pytest

from conftest import KafkaBroker, free_port
from helpers import COLD_CHAIN, get, metric, read_topic, start_synthfeed, stderr_of, summary_of, unique, \
    wait_until_up

START = "2026-01-01T00:00:00Z"


class OwnBroker(KafkaBroker):
    """The fixture's broker plus the signals these tests send to its JVM."""

    def pid(self) -> int:
        return int((self.dir / "pid").read_text())

    def freeze(self) -> None:
        os.kill(self.pid(), signal.SIGSTOP)

    def thaw(self) -> None:
        if self.is_running():
            os.kill(self.pid(), signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: the broker dies with requests in flight; waits until the process is gone."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while self.is_running():
            assert time.monotonic() < deadline, f"broker pid {pid} survived SIGKILL"
            time.sleep(0.05)


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = OwnBroker(tmp_path_factory.mktemp("kafka-contract"))
    yield b  # pytest runs the rest after the module's tests, whatever their outcome
    b.thaw()  # a stopped JVM ignores SIGTERM until continued
    b.stop()


@pytest.fixture
def frozen(broker):
    """The module's broker, thawed again when the test ends, whatever happened."""
    yield broker
    broker.thaw()


@contextlib.contextmanager
def synthfeed_run(synthfeed_bin, broker, tmp_path, topic, *extra):
    """A paced run to `topic` with /metrics on a free port: yields (process, base URL); the
    process is killed on the way out if it is still running."""
    http = free_port()
    proc = start_synthfeed(synthfeed_bin, "run", COLD_CHAIN, "--start", START, "--progress", "1s",
                           "--sink", f"kafka://{broker.bootstrap}/{topic}", "--http", f"127.0.0.1:{http}",
                           "--summary-json", tmp_path / "summary.json", *extra, log_dir=tmp_path)
    try:
        base = f"http://127.0.0.1:{http}"
        wait_until_up(base)
        yield proc, base
    finally:
        if proc.poll() is None:
            proc.kill()


def outcome(tmp_path):
    """The finished run's log and summary."""
    return stderr_of(tmp_path), summary_of(tmp_path / "summary.json")


def kafka_metric(base, name, **labels):
    return metric(get(f"{base}/metrics")[1], name, connector="kafka", stream="data", **labels)


def wait_for(proc, tmp_path, condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition():
        assert proc.poll() is None, f"synthfeed exited while waiting for {what}:\n{stderr_of(tmp_path)[-3000:]}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s:\n{stderr_of(tmp_path)[-3000:]}"
        time.sleep(0.1)


def wait_for_deliveries(proc, base, tmp_path, at_least):
    wait_for(proc, tmp_path, lambda: kafka_metric(base, "synthfeed_messages_delivered_total") >= at_least,
             f"{at_least} deliveries")


def assert_every_message_accounted(summary):
    total = (summary["messages_delivered"] + summary["messages_failed"] + summary["messages_dropped"]
             + summary["messages_in_doubt"])
    assert summary["messages_generated"] == total, summary
    [sink] = summary["sinks"]
    assert sink["connector"] == "kafka"
    assert (sink["delivered"], sink["failed"], sink["in_doubt"]) == (
        summary["messages_delivered"], summary["messages_failed"], summary["messages_in_doubt"]), summary


def counts_line(summary):
    return ", ".join(f"{k} {summary[f'messages_{k}']}"
                     for k in ("generated", "delivered", "failed", "dropped", "in_doubt"))


def test_sigterm_with_a_frozen_broker_ends_within_grace(frozen, synthfeed_bin, tmp_path):
    grace = 3.0
    with synthfeed_run(synthfeed_bin, frozen, tmp_path, unique("frozen"), "--rate", "20000",
                       "--grace", f"{grace:g}s") as (proc, base):
        wait_for_deliveries(proc, base, tmp_path, at_least=20000)
        frozen.freeze()
        time.sleep(1.5)  # messages pile up in flight and in the local queue; none is acknowledged
        proc.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        proc.wait(timeout=grace + 60)
        took = time.monotonic() - signalled
    log, summary = outcome(tmp_path)
    print(f"frozen broker, SIGTERM: exit {proc.returncode} {took:.2f} s after the signal (--grace {grace:g}s); "
          f"{counts_line(summary)}")
    assert took <= grace + 1.0, f"exited {took:.2f} s after SIGTERM (--grace {grace:g}s)\n{log[-3000:]}"
    assert "draining (stop requested)" in log, log[-3000:]
    assert proc.returncode == 1, log[-3000:]
    assert summary["interrupted"] is True
    assert_every_message_accounted(summary)
    assert summary["messages_failed"] + summary["messages_in_doubt"] > 0, "a frozen broker acknowledged everything?"


def test_run_for_with_a_frozen_broker_ends_within_grace(frozen, synthfeed_bin, tmp_path):
    run_for, grace = 6.0, 2.0
    launched = time.time()  # wall clock, to compare with the log's timestamps
    # Paced by --speed (2,000 devices at 10x: 20,000 msg/s) rather than --rate, whose schedule
    # would end by itself at rate x run_for messages ("end of run") when nothing holds it back.
    with synthfeed_run(synthfeed_bin, frozen, tmp_path, unique("frozen-run-for"), "--speed", "10x",
                       "--duration", "1h", "--run-for", f"{run_for:g}s", "--grace", f"{grace:g}s") as (proc, base):
        wait_for_deliveries(proc, base, tmp_path, at_least=10000)
        frozen.freeze()
        proc.wait(timeout=run_for + grace + 60)
        took = time.time() - launched
    log, summary = outcome(tmp_path)
    # --run-for counts from the start of generation, after start-up (the broker check): that part
    # is allowed separately, up to the log's "running ..." line.
    startup = log_time(log, "info: running ") - launched
    print(f"frozen broker, --run-for {run_for:g}s: exit {proc.returncode} {took:.2f} s after launch, "
          f"{took - startup:.2f} s after start-up; {counts_line(summary)}")
    assert took - startup <= run_for + grace + 1.0, f"{took:.2f} s (start-up {startup:.2f} s)\n{log[-3000:]}"
    assert "draining (--run-for reached)" in log, log[-3000:]
    assert proc.returncode == 1, log[-3000:]
    assert_every_message_accounted(summary)
    assert summary["messages_failed"] + summary["messages_in_doubt"] > 0, "a frozen broker acknowledged everything?"


def run_past_the_timeout(proc, base, tmp_path, broker, timeout_ms):
    """Kills the broker mid-run, keeps the run going past message.timeout.ms, then SIGTERM."""
    wait_for_deliveries(proc, base, tmp_path, at_least=4000)
    broker.kill()
    killed = time.monotonic()
    # Past the timeout: wait for the first timed-out message, then until twice the timeout has
    # passed. (librdkafka 2.0.2 enforces message.timeout.ms for a down broker's partitions only
    # when its broker thread wakes for a reconnect attempt, whose back-off grows towards
    # reconnect.backoff.max.ms, 10 s: the first timeouts came 5-11 s after the kill.)
    wait_for(proc, tmp_path, lambda: kafka_metric(base, "synthfeed_send_errors_total", error_type="timed_out") > 0,
             "timed-out message")
    time.sleep(max(0.0, killed + 2 * timeout_ms / 1000 - time.monotonic()))
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def test_broker_killed_past_the_message_timeout(broker, synthfeed_bin, tmp_path):
    """Messages in flight when the broker died may be in the topic: they count in doubt, never
    delivered nor failed, so a consumer's count lies between delivered and delivered + in_doubt.
    Each kind of failure logs its cause once: the timeout, with the broker's last error."""
    topic = unique("killed")
    timeout_ms = 3000
    try:
        with synthfeed_run(synthfeed_bin, broker, tmp_path, topic, "--rate", "2000", "--grace", "2s",
                           "-X", f"message.timeout.ms={timeout_ms}") as (proc, base):
            run_past_the_timeout(proc, base, tmp_path, broker, timeout_ms)
    finally:
        broker.restart()
    log, summary = outcome(tmp_path)
    consumed = len(read_topic(broker.bootstrap, topic))
    print(f"broker killed: exit {proc.returncode}; {counts_line(summary)}, consumed {consumed}")
    assert proc.returncode == 1, log[-3000:]
    assert_every_message_accounted(summary)
    delivered, in_doubt = summary["messages_delivered"], summary["messages_in_doubt"]
    assert summary["messages_failed"] > 0
    # A JVM takes tens of ms to die after SIGKILL, its sockets open meanwhile: the producer sends
    # a request or two (linger.ms is 20) that is never answered, and the lost connection marks
    # their messages possibly persisted (librdkafka's debug log: "MsgPossiblyPersisted").
    assert in_doubt > 0, "no message was in flight when the broker died?"
    assert delivered <= consumed <= delivered + in_doubt

    firsts = collections.Counter(re.findall(r"kafka: first (\w+) failure", log))
    assert firsts["timed_out"] == 1 and set(firsts.values()) == {1}, firsts
    [timed_out] = [line for line in log.splitlines() if "kafka: first timed_out failure" in line]
    assert "Message timed out (not acknowledged within message.timeout.ms); last broker error: " in timed_out, \
        timed_out
    [doubt] = [line for line in log.splitlines() if re.search(r"kafka: first messages? in doubt", line)]
    assert "Message timed out" in doubt or "last broker error: " in doubt, doubt


def log_time(log: str, containing: str) -> float:
    """The wall-clock time (epoch seconds) of the first log line containing `containing`."""
    for line in log.splitlines():
        if containing in line:
            stamp = line.split(" ", 1)[0]
            return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
    raise AssertionError(f"no log line with {containing!r}:\n{log[-3000:]}")
