"""Helpers shared by the integration tests: run synthfeed, read topics with an independent client."""

import collections
import json
import os
import socket
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
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


# --- MQTT -----------------------------------------------------------------------------------------

COLD_CHAIN = PROFILES / "cold_chain.toml"  # 2,000 reefers at 1 Hz
START = "2026-01-01T00:00:00Z"


# --- an independent subscriber --------------------------------------------------------------------

class Subscriber:
    """A paho-mqtt 2.x client on its own network thread that records every message it receives.
    It is subscribed (SUBACK received) when the constructor returns. With clean=False it keeps a
    persistent session under a fixed client id and reconnects by itself after a broker restart."""

    def __init__(self, port, *topics, qos=1, version=4, client_id=None, clean=True,
                 username=None, password=None, on_message=None):
        self.topics = topics
        self.qos = qos
        self.messages = []       # paho MQTTMessage objects, in arrival order (duplicates kept)
        self.connects = 0
        self.disconnects = 0
        self._subscribed = threading.Event()
        self._on_message_hook = on_message
        self._parsed = 0
        self._counts = collections.Counter()
        protocol = mqtt.MQTTv5 if version == 5 else mqtt.MQTTv311
        kwargs = {} if version == 5 else {"clean_session": clean}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"it-{uuid.uuid4().hex[:10]}",
                                  protocol=protocol, **kwargs)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.max_inflight_messages_set(65535)
        self.client.max_queued_messages_set(0)
        self.client.reconnect_delay_set(min_delay=1, max_delay=2)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        connect_kwargs = {"clean_start": clean} if version == 5 else {}
        self.client.connect("127.0.0.1", port, keepalive=30, **connect_kwargs)
        self.client.loop_start()
        if not self._subscribed.wait(15):
            self.close()
            raise RuntimeError(f"subscriber could not subscribe to {topics} on port {port}")

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            return
        self.connects += 1
        client.subscribe([(t, self.qos) for t in self.topics])

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.disconnects += 1

    def _on_message(self, client, userdata, message):
        self.messages.append(message)
        if self._on_message_hook:
            self._on_message_hook(message)

    def data_messages(self, prefix=""):
        return [m for m in self.messages if not m.topic.startswith("$SYS") and m.topic.startswith(prefix)]

    def identity_counts(self, prefix=""):
        """Counter of (device_id, seq) over the JSON messages received so far (topics under prefix)."""
        while self._parsed < len(self.messages):
            m = self.messages[self._parsed]
            self._parsed += 1
            if m.topic.startswith("$SYS") or not m.topic.startswith(prefix):
                continue
            j = json.loads(m.payload)
            self._counts[(j["device_id"], j["seq"])] += 1
        return self._counts

    def wait_for(self, expected: set, timeout: float, prefix="", settle: float = 1.0):
        """Waits until every identity in `expected` arrived (or timeout), then `settle` seconds more
        so that late duplicates show; returns the Counter of identities received."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if expected <= self.identity_counts(prefix).keys():
                break
            time.sleep(0.2)
        time.sleep(settle)
        return self.identity_counts(prefix)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def connected_clients_subscriber(port, *topics):
    """A Subscriber to `topics` that also samples $SYS/broker/clients/connected (the broker's own
    count, which includes this subscriber); returns (subscriber, [(monotonic time, count)])."""
    samples = []

    def on_message(m):
        if m.topic == "$SYS/broker/clients/connected":
            samples.append((time.monotonic(), int(m.payload)))

    return Subscriber(port, *topics, "$SYS/broker/clients/connected", qos=1, on_message=on_message), samples


def assert_topics_and_order(messages, qos, ordered=True):
    """Every message on fleet/<its device_id> at `qos`; with `ordered`, each device's seq rising."""
    last = {}
    for m in messages:
        j = json.loads(m.payload)
        assert m.topic == f"fleet/{j['device_id']}"
        assert m.qos == qos
        if ordered:
            assert j["seq"] > last.get(j["device_id"], -1), f"{j['device_id']} out of order at seq {j['seq']}"
        last[j["device_id"]] = j["seq"]


# --- reference runs, synthfeed in the background, TCP connections seen by the kernel --------------

def reference(synthfeed_bin, tmp_path, *window, profile=COLD_CHAIN, name="ref.jsonl"):
    """The (device_id, seq) list of the same run written to a file."""
    path = tmp_path / name
    run_synthfeed(synthfeed_bin, "run", profile, *window, "--progress", "off", "--sink", f"file:{path}", check=0)
    return file_identities(path)


def summary_of(path):
    return json.loads(path.read_text())


def assert_summary_complete(summary, count):
    assert summary["messages_generated"] == count, summary
    assert summary["messages_delivered"] == count, summary
    assert summary["messages_failed"] == 0, summary
    assert summary["messages_dropped"] == 0, summary


def duplicates(counts):
    return {k: v for k, v in counts.items() if v > 1}


def start_synthfeed(binary, *args, log_dir, env=None):
    """synthfeed in the background, stdout and stderr to files in log_dir; returns the Popen."""
    out = open(log_dir / "synthfeed.stdout", "wb")
    err = open(log_dir / "synthfeed.stderr", "wb")
    proc = subprocess.Popen([str(binary), *map(str, args)], stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                            env={**os.environ, **(env or {})})
    out.close()
    err.close()
    return proc


def stderr_of(log_dir):
    return (log_dir / "synthfeed.stderr").read_text(errors="replace")


TCP_STATES = {"ESTABLISHED": 1, "SYN_SENT": 2, "SYN_RECV": 3}


def _sock_diag(port: int, states, on_socket, local: bool = True) -> None:
    """Calls on_socket(message, offset) for each TCP (IPv4) socket in one of `states` whose local
    port (server side; local=False: remote port, the clients' side) is `port`, from the kernel's
    socket diagnostics (netlink sock_diag with a port filter, what `ss -t state established
    sport = :PORT` uses): a few ms with tens of thousands of sockets, where reading /proc/net/tcp
    takes a hundred."""
    mask = sum(1 << TCP_STATES[state] for state in states)
    condition = 11 if local else 12  # INET_DIAG_BC_S_EQ, INET_DIAG_BC_D_EQ
    bytecode = struct.pack("=BBH", condition, 8, 12) + struct.pack("=BBH", 0, 0, port)
    attr = struct.pack("=HH", 4 + len(bytecode), 1) + bytecode                   # INET_DIAG_REQ_BYTECODE
    request = struct.pack("=BBBxI", socket.AF_INET, socket.IPPROTO_TCP, 0, mask) + bytes(48) + attr
    header = struct.pack("=IHHII", 16 + len(request), 20, 0x301, 1, 0)  # SOCK_DIAG_BY_FAMILY, REQUEST|DUMP
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 4) as s:      # NETLINK_SOCK_DIAG
        s.send(header + request)
        while True:
            buffer = s.recv(1 << 20)
            offset = 0
            while offset + 16 <= len(buffer):
                length, kind = struct.unpack_from("=IH", buffer, offset)
                if kind == 3:  # NLMSG_DONE
                    return
                if kind == 2:  # NLMSG_ERROR
                    raise OSError(-struct.unpack_from("=i", buffer, offset + 16)[0], "sock_diag dump failed")
                on_socket(buffer, offset)
                offset += (length + 3) & ~3


def tcp_count(port: int, states=("ESTABLISHED",), local: bool = True) -> int:
    """TCP sockets in `states` on local port `port` (the server's side; local=False: sockets
    connected or connecting to `port`, the clients' side), counted by the kernel, no broker help."""
    n = 0

    def count(buffer, offset):
        nonlocal n
        n += 1

    _sock_diag(port, states, count, local)
    return n


def established_on(port: int) -> int:
    """Server-side ESTABLISHED TCP connections on 127.0.0.1:port (no broker help)."""
    return tcp_count(port)


def established_peers(port: int) -> collections.Counter:
    """Server-side ESTABLISHED TCP connections on local port `port`, counted by peer address
    ("127.0.0.2")."""
    peers = collections.Counter()

    def count(buffer, offset):  # inet_diag_msg.id.idiag_dst[0], after the 16-byte netlink header
        peers[socket.inet_ntoa(buffer[offset + 40:offset + 44])] += 1

    _sock_diag(port, ("ESTABLISHED",), count)
    return peers


def listen_overflows() -> int:
    """The kernel's count of connections a full accept queue turned away (TcpExt ListenOverflows,
    machine-wide): they come back a second or more later."""
    lines = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines() if line.startswith("TcpExt:")]
    return int(dict(zip(lines[0], lines[1]))["ListenOverflows"])
