"""Shared fixtures for the integration tests: a real Kafka broker, real Mosquitto (MQTT) brokers and the synthfeed binary."""

import json
import urllib.error
import urllib.parse
import urllib.request
import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_BROKER_SCRIPT = REPO_ROOT / "scripts" / "kafka-broker"



def watchdog(pid: int) -> subprocess.Popen:
    """Stops the server `pid` if this test process dies without its teardown (kill -9, crash)."""
    return subprocess.Popen(
        ["sh", "-c", f"while kill -0 {os.getpid()} 2>/dev/null && kill -0 {pid} 2>/dev/null;"
                     f" do sleep 1; done; kill -TERM {pid} 2>/dev/null"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)

class KafkaBroker:
    """A single-node KRaft broker run by scripts/kafka-broker, with its state in `dir`."""

    def __init__(self, dir: Path):
        self.dir = dir
        self.bootstrap = self._run("start", timeout=600)  # may include a cold jar fetch

    def _run(self, command: str, timeout: float) -> str:
        result = subprocess.run(
            [str(KAFKA_BROKER_SCRIPT), command, str(self.dir)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            # The script's watchdog stops the broker if this process dies without teardown.
            env={**os.environ, "SYNTHFEED_KAFKA_OWNER_PID": str(os.getpid())},
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"kafka-broker {command} {self.dir} failed ({result.returncode}):\n{result.stderr}"
            )
        return result.stdout.strip()

    def stop(self) -> None:
        """Stops the broker (SIGTERM, SIGKILL after 30 s); a no-op when it is not running."""
        self._run("stop", timeout=60)

    def restart(self) -> None:
        """Stops the broker if running and starts it again on the same ports and data."""
        self.bootstrap = self._run("restart", timeout=180)

    def is_running(self) -> bool:
        status = [str(KAFKA_BROKER_SCRIPT), "status", str(self.dir)]
        return subprocess.run(status, capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory):
    broker = KafkaBroker(tmp_path_factory.mktemp("kafka"))
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def synthfeed_bin() -> Path:
    path = REPO_ROOT / "build" / "release" / "synthfeed"
    if not path.is_file():
        pytest.fail(f"{path} is missing: build it with scripts/build release")
    return path


# --- MQTT: a real Eclipse Mosquitto broker per test ---------------------------------------------

import resource
import shutil
import signal
import socket
import time

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_nofile_limit(wanted: int = 65536) -> int:
    """Raises this process's soft RLIMIT_NOFILE towards `wanted` (capped by the hard limit), so that
    brokers and synthfeed runs started from here (they inherit it) can hold thousands of sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _openssl(*args, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed:\n{result.stderr}")


def make_test_pki(dir: Path) -> dict:
    """A throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate,
    all signed by that CA (EC P-256, valid for two days). Returns the paths by role."""
    dir.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=synthfeed test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=dir)
    for name, cn, ext in [
        ("server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth"),
        ("client", "synthfeed-test-client", "extendedKeyUsage=clientAuth"),
    ]:
        (dir / f"{name}.ext").write_text(
            f"basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n{ext}\n")
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=dir)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", "-extfile", f"{name}.ext", cwd=dir)
    return {"ca": dir / "ca.crt", "server_cert": dir / "server.crt", "server_key": dir / "server.key",
            "client_cert": dir / "client.crt", "client_key": dir / "client.key"}


class Mosquitto:
    """One mosquitto process with its config, persistence, log and (optionally) password file and
    TLS material in `dir`. `port` is a plain listener on 127.0.0.1 (always there, so independent
    clients can watch); with tls=True also `tls_port` (server-authenticated TLS) and `mtls_port`
    (client certificate required), with `ca`, `client_cert` and `client_key` paths.
    With users={name: password} anonymous clients are refused on every listener.
    stop() is SIGTERM (mosquitto then saves its persistence database), restart() brings it back on
    the same ports with the same database; kill() is SIGKILL (nothing saved since the last save()).
    nofile=N runs the broker with RLIMIT_NOFILE N (soft and hard; raising the hard limit needs root),
    for brokers that hold thousands of connections."""

    def __init__(self, dir: Path, *, users: dict | None = None, tls: bool = False, extra_conf=(),
                 nofile: int | None = None):
        self.dir = dir
        self.nofile = nofile
        self.users = dict(users or {})
        self.port = free_port()
        self.tls_port = self.mtls_port = None
        self.ca = self.client_cert = self.client_key = None
        self.log_path = dir / "mosquitto.log"
        self.conf_path = dir / "mosquitto.conf"
        self.proc = None
        self._watchdog = None
        (dir / "data").mkdir(exist_ok=True)
        raise_nofile_limit()

        conf = [
            "user root",  # run as root without dropping to 'mosquitto', which cannot write under tmp
            f"listener {self.port} 127.0.0.1",
            "max_connections -1",
            f"allow_anonymous {'false' if self.users else 'true'}",
            "persistence true",
            f"persistence_location {dir / 'data'}/",
            "autosave_interval 1800",
            "max_queued_messages 1000000",
            "max_queued_bytes 0",
            "max_inflight_messages 0",  # 0 = unlimited to subscribers (and no receive-maximum to v5 clients)
            "sys_interval 1",
            f"log_dest file {self.log_path}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp true",
        ]
        if self.users:
            pwfile = dir / "passwords"
            for i, (user, password) in enumerate(self.users.items()):
                subprocess.run(["mosquitto_passwd", *(["-c"] if i == 0 else []), "-b", str(pwfile), user, password],
                               check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=30)
            conf.append(f"password_file {pwfile}")
        if tls:
            pki = make_test_pki(dir / "pki")
            self.ca, self.client_cert, self.client_key = pki["ca"], pki["client_cert"], pki["client_key"]
            self.tls_port, self.mtls_port = free_port(), free_port()
            for port, require in [(self.tls_port, False), (self.mtls_port, True)]:
                conf += [f"listener {port} 127.0.0.1", "max_connections -1",
                         f"cafile {pki['ca']}", f"certfile {pki['server_cert']}", f"keyfile {pki['server_key']}",
                         f"require_certificate {'true' if require else 'false'}"]
        conf += list(extra_conf)
        self.conf_path.write_text("\n".join(conf) + "\n")
        self.start()

    @property
    def ports(self):
        return [p for p in (self.port, self.tls_port, self.mtls_port) if p]

    def start(self, timeout: float = 20.0) -> None:
        assert not self.is_running(), "mosquitto is already running"
        stderr = open(self.dir / "mosquitto.stderr", "ab")
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf_path)], stdin=subprocess.DEVNULL,
                                     stdout=stderr, stderr=stderr, start_new_session=True,
                                     preexec_fn=self._limits if self.nofile else None)
        stderr.close()
        self._watchdog = watchdog(self.proc.pid)
        deadline = time.monotonic() + timeout
        pending = set(self.ports)
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"mosquitto did not listen on {sorted(pending)} in {timeout} s:\n{self.log_tail()}")
            for port in list(pending):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    pending.discard(port)
                except OSError:
                    pass
            if pending:
                time.sleep(0.05)

    def _limits(self) -> None:
        """In the child before exec: RLIMIT_NOFILE = nofile, or as close as the hard limit allows."""
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))
        except (ValueError, OSError):
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            cap = self.nofile if hard == resource.RLIM_INFINITY else min(self.nofile, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (cap, hard))

    def open_files_limit(self) -> int:
        """The running broker's soft RLIMIT_NOFILE, read from /proc."""
        for line in Path(f"/proc/{self.proc.pid}/limits").read_text().splitlines():
            if line.startswith("Max open files"):
                return int(line.split()[3])
        raise RuntimeError("no 'Max open files' in /proc/PID/limits")

    def save(self, timeout: float = 10.0) -> None:
        """Writes the persistence database now (SIGUSR1) and waits until the log says it did: what
        exists at this moment (sessions, subscriptions, queued messages) survives a later kill()."""
        db = self.dir / "data" / "mosquitto.db"

        def stamp():  # mosquitto writes mosquitto.db.new and renames it over mosquitto.db
            try:
                st = db.stat()
                return st.st_ino, st.st_mtime_ns
            except FileNotFoundError:
                return None

        marker = "Saving in-memory database"
        before, old = self.log_text().count(marker), stamp()
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while self.log_text().count(marker) <= before or stamp() in (None, old):
            if time.monotonic() > deadline:
                raise RuntimeError(f"mosquitto did not save its database in {timeout} s:\n{self.log_tail()}")
            time.sleep(0.02)

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (the persistence database is written on the way out), SIGKILL after `timeout`."""
        if self.is_running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._end_watchdog()

    def kill(self) -> None:
        """SIGKILL: an abrupt crash, nothing saved since the last autosave."""
        if self.is_running():
            self.proc.kill()
            self.proc.wait(10)
        self._end_watchdog()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _end_watchdog(self) -> None:
        if self._watchdog is not None and self._watchdog.poll() is None:
            self._watchdog.kill()
            self._watchdog.wait(5)
        self._watchdog = None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_text().splitlines()[-lines:]
        stderr = self.dir / "mosquitto.stderr"
        extra = stderr.read_text(errors="replace") if stderr.exists() else ""
        return "\n".join(text) + ("\n" + extra if extra else "")


@pytest.fixture
def mosquitto(tmp_path_factory):
    """Factory: mosquitto() starts a broker (see Mosquitto for users=, tls=, extra_conf=);
    every broker started by a test is stopped at its end."""
    brokers = []

    def start(**kwargs) -> Mosquitto:
        broker = Mosquitto(tmp_path_factory.mktemp("mosquitto"), **kwargs)
        brokers.append(broker)
        return broker

    try:
        yield start
    finally:
        for broker in brokers:
            broker.stop()


# --- InfluxDB 1.x: a real server (Debian's influxdb package) for the line-protocol tests ----------

INFLUXD = shutil.which("influxd") or "/usr/bin/influxd"


class InfluxDB:
    """One influxd process with its config, meta, data, WAL and log in `dir`, on loopback only: the
    HTTP API on `port`, the RPC (backup) service on `rpc_port`; no other listener (graphite,
    collectd, opentsdb, udp and ifql are off by default; `influxd config` lists them), no usage
    reporting. write() posts line protocol, query() runs InfluxQL; both return what the server said."""

    def __init__(self, dir: Path):
        self.dir = dir
        self.port = free_port()
        self.rpc_port = free_port()
        while self.rpc_port == self.port:
            self.rpc_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.conf_path = dir / "influxdb.conf"
        self.log_path = dir / "influxd.log"
        self.proc = None
        self._watchdog = None
        self.conf_path.write_text("\n".join([
            "reporting-disabled = true",   # the upstream key
            "reporting-enabled = false",   # Debian's build reads this one instead
            f'bind-address = "127.0.0.1:{self.rpc_port}"',
            "[meta]",
            f'  dir = "{dir / "meta"}"',
            "[data]",
            f'  dir = "{dir / "data"}"',
            f'  wal-dir = "{dir / "wal"}"',
            "  query-log-enabled = false",
            "[monitor]",
            "  store-enabled = false",
            "[http]",
            f'  bind-address = "127.0.0.1:{self.port}"',
            "  log-enabled = false",
            "  pprof-enabled = false",
            "[logging]",
            '  level = "warn"',
            "  suppress-logo = true",
        ]) + "\n")
        self.start()

    def start(self, timeout: float = 30.0) -> None:
        assert not self.is_running(), "influxd is already running"
        log = open(self.log_path, "ab")
        # INFLUXDB_* variables override the config file: none of the caller's may leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith("INFLUXDB_")}
        self.proc = subprocess.Popen([INFLUXD, "run", "-config", str(self.conf_path)], stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=log, env=env, start_new_session=True)
        log.close()
        self._watchdog = watchdog(self.proc.pid)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"influxd exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self._request("GET", "/ping", timeout=1)[0] == 204:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"influxd did not answer /ping on {self.url} in {timeout} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def _request(self, method: str, path: str, params=None, body: bytes | None = None, timeout: float = 60):
        url = f"{self.url}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        request = urllib.request.Request(url, method=method, data=body)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def write(self, db: str, lines: bytes, precision: str = "ns"):
        """POST /write: (status, body); 204 when every point was stored, 400 names a line it could not parse."""
        return self._request("POST", "/write", {"db": db, "precision": precision}, lines)

    def query(self, q: str, db: str | None = None, method: str = "GET") -> list:
        """Runs InfluxQL (POST for statements that change things, like CREATE DATABASE); returns the
        results list (one per statement), raising on any error the server reports."""
        params = {"q": q, "epoch": "ns", **({"db": db} if db else {})}
        status, body = self._request(method, "/query", params)
        answer = json.loads(body) if body else {}
        errors = [answer.get("error")] + [r.get("error") for r in answer.get("results", [])]
        if status != 200 or any(errors):
            raise AssertionError(f"{q!r}: HTTP {status}: {body[:2000]}")
        return answer["results"]

    def is_running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM, SIGKILL after `timeout`."""
        if self.is_running():
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._watchdog is not None and self._watchdog.poll() is None:
            self._watchdog.kill()
            self._watchdog.wait(5)
        self._watchdog = None

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory):
    """One InfluxDB server for the session (tests use databases of their own)."""
    if not Path(INFLUXD).is_file():
        pytest.fail(f"{INFLUXD} is missing: scripts/setup installs Debian's influxdb package")
    server = InfluxDB(tmp_path_factory.mktemp("influxdb"))
    try:
        yield server
    finally:
        server.stop()
