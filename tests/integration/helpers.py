"""Helpers shared by the integration tests: run synthfeed, read topics with an independent client."""

import json
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

REPO_ROOT = Path(__file__).resolve().parents[2]
PROFILES = REPO_ROOT / "profiles"
GOLDEN = REPO_ROOT / "tests" / "golden" / "golden.toml"


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}"


def run_synthfeed(binary, *args, timeout=300, check=None):
    result = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                            timeout=timeout, stdin=subprocess.DEVNULL)
    if check is not None:
        assert result.returncode == check, f"exit {result.returncode}\n{result.stderr[-4000:]}"
    return result


def read_topic(bootstrap: str, topic: str, timeout: float = 60.0):
    """Every message of a topic, read with confluent-kafka up to the end offsets of now."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    metadata = admin.list_topics(topic, timeout=10)
    partitions = sorted(metadata.topics[topic].partitions)
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("it"),
                         "enable.auto.commit": False, "enable.partition.eof": False})
    ends = {}
    for p in partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        if high > low:
            ends[p] = high
    consumer.assign([TopicPartition(topic, p, 0) for p in ends])
    messages = []
    import time
    deadline = time.monotonic() + timeout
    while ends and time.monotonic() < deadline:
        for m in consumer.consume(num_messages=10000, timeout=0.5):
            if m.error():
                continue
            messages.append(m)
            if m.offset() + 1 >= ends.get(m.partition(), 0):
                ends.pop(m.partition(), None)
    consumer.close()
    assert not ends, f"timed out reading {topic}: partitions {sorted(ends)} unfinished"
    return messages


def identities(messages):
    """(device_id, seq) of each JSON message, as a list (duplicates kept)."""
    out = []
    for m in messages:
        payload = json.loads(m.value())
        out.append((payload["device_id"], payload["seq"]))
    return out


def file_identities(path: Path):
    return [(j["device_id"], j["seq"]) for j in map(json.loads, path.read_text().splitlines())]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, token=None, method="GET", body=None):
    request = urllib.request.Request(url, method=method, data=body.encode() if body else None)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_until_up(base, deadline=10.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            if get(f"{base}/livez")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise AssertionError("the HTTP listener did not come up")


def metric(text: str, name: str, **labels) -> float:
    """A sample's value from a Prometheus text exposition: the first `name` line whose labels
    include `labels`."""
    for line in text.splitlines():
        if not (line.startswith(name + " ") or line.startswith(name + "{")):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} missing")
