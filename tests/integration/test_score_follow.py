"""`synthfeed score --follow` against a real Kafka broker: a run writes its labels and episodes to
topics, a small detector reads the labels and writes alerts to a third topic (some at once, some
late, some false, one unparsable, one for a device that does not exist), and score --follow, started
before any topic exists, reads the three as they grow. When it ends (every topic idle), its figures
must equal those of the offline `synthfeed score` of the same topics dumped to files."""

import heapq
import json
import random
import re
import signal
import subprocess
import threading
import time

from confluent_kafka import Consumer, Producer

from helpers import free_port, get, metric, read_topic, run_synthfeed, unique

PROFILE = """
name = "follow-test"
seed = 11

[[group]]
name     = "sensor"
count    = 6
id       = "s-{index:02}"
interval = "1s"

  [[group.field]]
  name   = "v"
  signal = { kind = "seasonal", mean = 20.0, amplitude = 2.0, period = "10m" }
  noise  = { kind = "gaussian", stddev = 0.1 }

  [[group.anomaly]]
  kind      = "spike"
  field     = "v"
  rate      = "40/h"
  magnitude = 6.0

  [[group.anomaly]]
  kind      = "level_shift"
  field     = "v"
  rate      = "15/h"
  magnitude = 5.0
  duration  = "10s..40s"

  [[group.anomaly]]
  kind     = "dropout"
  rate     = "12/h"
  duration = "5s..15s"
"""
START = "2026-01-01T00:00:00Z"


class Detector(threading.Thread):
    """Reads the label topic and writes alerts: for an anomalous message at once (60 %), late
    (25 %, 1.5-4 s after reading its label) or never (15 %); for a normal one now and then a false
    alert (1 %) or an explicit is_anomaly 0 row (3 %). Rows join on seq or on ts alternately. After
    the 100th label: one unparsable row and one row of a device no run has."""

    def __init__(self, bootstrap, labels_topic, alerts_topic):
        super().__init__(daemon=True)
        self.bootstrap, self.labels_topic, self.alerts_topic = bootstrap, labels_topic, alerts_topic
        self.stopping = threading.Event()
        self.counts = {"labels": 0, "at_once": 0, "late": 0, "missed": 0, "false": 0, "zero": 0}
        self.error = None

    def run(self):
        try:
            self._run()
        except Exception as e:  # surfaced by the test
            self.error = e

    def _run(self):
        rng = random.Random(3)
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": unique("detector"),
                             "auto.offset.reset": "earliest", "enable.auto.commit": False,
                             "topic.metadata.refresh.interval.ms": 500})
        consumer.subscribe([self.labels_topic])
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 5})
        late = []  # (due, sequence, row)

        def send(row):
            producer.produce(self.alerts_topic, row if isinstance(row, bytes) else json.dumps(row).encode())
            producer.poll(0)

        while not (self.stopping.is_set() and not late):
            for m in consumer.consume(num_messages=1000, timeout=0.1):
                if m.error():
                    continue
                label = json.loads(m.value())
                self.counts["labels"] += 1
                if self.counts["labels"] == 100:
                    send(b"this is not a detection")
                    send({"device_id": "ghost-7", "seq": 3, "is_anomaly": 1})
                if not label["emitted"]:
                    continue
                key = {"seq": label["seq"]} if label["seq"] % 2 else {"ts": label["ts"]}
                row = {"device_id": label["device_id"], **key, "is_anomaly": 1}
                r = rng.random()
                if label["label"] != "normal":
                    if r < 0.60:
                        send(row)
                        self.counts["at_once"] += 1
                    elif r < 0.85:
                        heapq.heappush(late, (time.monotonic() + rng.uniform(1.5, 4.0), self.counts["late"], row))
                        self.counts["late"] += 1
                    else:
                        self.counts["missed"] += 1
                elif r < 0.01:
                    send(row)
                    self.counts["false"] += 1
                elif r < 0.04:
                    send({**row, "is_anomaly": 0})
                    self.counts["zero"] += 1
            while late and late[0][0] <= time.monotonic():
                send(heapq.heappop(late)[2])
        producer.flush(30)
        consumer.close()


def write_lines(path, messages):
    path.write_text("".join(m.value().decode() + "\n" for m in messages))
    return path


def start_follow(binary, bootstrap, topics, tmp_path, *flags):
    stderr = open(tmp_path / "follow.stderr", "w")
    proc = subprocess.Popen(
        [str(binary), "score", "--follow", "--truth", f"kafka://{bootstrap}/{topics[0]}",
         "--episodes", f"kafka://{bootstrap}/{topics[1]}", "--detections",
         f"kafka://{bootstrap}/{topics[2]}", "--json", str(tmp_path / "live.json"), *flags],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    stderr.close()
    return proc


def test_follow_scores_as_offline_does_with_the_same_lines(kafka_broker, synthfeed_bin, tmp_path):
    b = kafka_broker.bootstrap
    topics = unique("labels"), unique("episodes"), unique("alerts")
    profile = tmp_path / "follow.toml"
    profile.write_text(PROFILE)
    port = free_port()
    # Started first: the topics do not exist yet.
    follow = start_follow(synthfeed_bin, b, topics, tmp_path, "--max-delay", "5s", "--idle", "8s",
                          "--http", f"127.0.0.1:{port}")
    detector = Detector(b, topics[0], topics[2])
    detector.start()
    try:
        run_synthfeed(synthfeed_bin, "run", profile, "--duration", "10m", "--start", START,
                      "--speed", "60x", "--progress", "off", "--sink", f"file:{tmp_path / 'data.jsonl'}",
                      "--labels", f"kafka://{b}/{topics[0]}", "--episodes", f"kafka://{b}/{topics[1]}",
                      "--summary-json", tmp_path / "summary.json", check=0, timeout=120)
        status, text = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert metric(text, "synthfeed_score_lines_total", topic="labels") > 0
        for name in ("point_precision", "point_recall", "point_f1", "range_precision",
                     "range_recall", "range_f1", "messages", "episodes", "final"):
            metric(text, f"synthfeed_score_{name}")
        assert metric(text, "synthfeed_score_final") == 0
        time.sleep(1)
        detector.stopping.set()
        detector.join(60)
        assert detector.error is None, detector.error
        assert follow.wait(120) == 0, (tmp_path / "follow.stderr").read_text()[-4000:]
    finally:
        detector.stopping.set()
        if follow.poll() is None:
            follow.kill()
            follow.wait(10)
    stderr = (tmp_path / "follow.stderr").read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())

    # The same lines, dumped to files, scored offline (the unparsable row left out: offline it is
    # an input error, exit 2; live it is counted and skipped).
    labels = write_lines(tmp_path / "labels.jsonl", read_topic(b, topics[0]))
    episodes = write_lines(tmp_path / "episodes.jsonl", read_topic(b, topics[1]))
    alerts = [m for m in read_topic(b, topics[2]) if m.value() != b"this is not a detection"]
    write_lines(tmp_path / "alerts.jsonl", alerts)
    run_synthfeed(synthfeed_bin, "score", "--truth", labels, "--episodes", episodes,
                  "--detections", tmp_path / "alerts.jsonl", "--json", tmp_path / "offline.json",
                  check=0)
    live = json.loads((tmp_path / "live.json").read_text())
    offline = json.loads((tmp_path / "offline.json").read_text())
    for report in (live, offline):
        for key in ("truth", "episodes", "detections"):
            report["inputs"].pop(key)
    assert live == offline

    o = live["overall"]
    print(f"\nlabels {summary['label_lines']}, episodes {summary['anomaly_episodes']}, detector "
          f"{detector.counts}; live = offline: messages {o['messages']}, point P "
          f"{o['point']['precision']:.6f} R {o['point']['recall']:.6f} F1 {o['point']['f1']:.6f}, "
          f"range P {o['range']['precision']:.6f} R {o['range']['recall']:.6f} F1 "
          f"{o['range']['f1']:.6f}, NAB {o['nab']['standard']['score']:.4f}, episodes "
          f"{o['delay_seconds']['detected']}/{o['delay_seconds']['episodes']}, inputs {live['inputs']}")
    assert summary["label_lines"] == len(labels.read_text().splitlines())
    assert o["messages"] == summary["messages_generated"]
    assert detector.counts["late"] > 10 and detector.counts["false"] > 5
    assert live["inputs"]["detection_rows"] == len(alerts)
    assert live["inputs"]["unknown_device_rows"] == 1
    assert 0.6 < o["point"]["recall"] < 0.95  # late alerts count: 60 % at once + 25 % late
    assert o["point"]["fp"] >= detector.counts["false"]
    # Bad input: warned about (topic and message number), counted, not fatal.
    assert f"kafka://{b}/{topics[2]}:" in stderr and "not a JSON object" in stderr
    assert "1 bad lines skipped (labels 0, episodes 0, detections 1)" in stderr
    # Live figures count a label once it is --max-delay old, so the late alerts are in them
    # too: recall stays near the final 0.85, not the 0.6 of the alerts sent at once.
    live_recalls = [float(m.group(2)) for m in re.finditer(r"\| (\d+) messages: P [\d.]+ R ([\d.]+)", stderr)
                    if int(m.group(1)) >= 1000]
    assert len(live_recalls) >= 3, stderr
    assert min(live_recalls) > 0.72, live_recalls
    assert "overall" in stderr


def test_follow_ends_on_sigterm_with_the_report_and_threshold_exit(kafka_broker, synthfeed_bin, tmp_path):
    b = kafka_broker.bootstrap
    topics = unique("labels"), unique("episodes"), unique("alerts")  # no alert ever comes
    profile = tmp_path / "follow.toml"
    profile.write_text(PROFILE)
    port = free_port()
    follow = start_follow(synthfeed_bin, b, topics, tmp_path, "--idle", "10m", "--max-delay", "0s",
                          "--http", f"127.0.0.1:{port}", "--threshold", "recall>=0.5")
    try:
        run_synthfeed(synthfeed_bin, "run", profile, "--duration", "2m", "--start", START,
                      "--progress", "off", "--sink", "null:", "--labels", f"kafka://{b}/{topics[0]}",
                      "--episodes", f"kafka://{b}/{topics[1]}", "--summary-json",
                      tmp_path / "summary.json", check=0)
        expected = json.loads((tmp_path / "summary.json").read_text())["label_lines"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status, text = get(f"http://127.0.0.1:{port}/metrics")
            if metric(text, "synthfeed_score_lines_total", topic="labels") == expected:
                break
            time.sleep(0.2)
        follow.send_signal(signal.SIGTERM)
        code = follow.wait(60)
    finally:
        if follow.poll() is None:
            follow.kill()
            follow.wait(10)
    stderr = (tmp_path / "follow.stderr").read_text()
    assert code == 99, stderr[-4000:]  # no detection: recall 0 fails the criterion, as offline
    assert "stopped by a signal" in stderr
    assert "threshold  recall>=0.5 FAILED" in stderr
    live = json.loads((tmp_path / "live.json").read_text())
    assert live["inputs"]["detection_rows"] == 0
    assert live["overall"]["messages"] > 0 and live["overall"]["point"]["fn"] > 0
