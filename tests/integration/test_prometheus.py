"""A real Prometheus (Debian's package) scrapes a running synthfeed: the /metrics text is
accepted by Prometheus' own parser, the target is up, the counters arrive, and every query of
the Grafana dashboard in compose/ is valid PromQL that the server evaluates.
Only loopback and free ports: a system Prometheus on :9090 is never involved."""

import json
import os
import shutil
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from helpers import PROFILES, REPO_ROOT, free_port, get, wait_until_up

PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
DASHBOARD = REPO_ROOT / "compose" / "grafana" / "dashboards" / "synthfeed.json"


def stop(proc, name, timeout=30):
    """SIGTERM and wait; both programs exit 0 on SIGTERM (synthfeed after draining)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            raise AssertionError(f"{name} did not stop within {timeout} s of SIGTERM")
    return proc.returncode


class Stack:
    def __init__(self, dir: Path, synthfeed_bin):
        self.dir = dir
        self.synthfeed_port, self.prometheus_port = free_port(), free_port()
        self.api = f"http://127.0.0.1:{self.prometheus_port}/api/v1"
        self.synthfeed_bin = synthfeed_bin
        self.synthfeed = self.prometheus = None

    def start(self):
        self.synthfeed = self._start("synthfeed", [
            str(self.synthfeed_bin), "run", str(PROFILES / "cold_chain.toml"), "--http", f"127.0.0.1:{self.synthfeed_port}",
            "--rate", "20000", "--run-for", "30s", "--sink", "null:", "--progress", "off"])
        wait_until_up(f"http://127.0.0.1:{self.synthfeed_port}")

        config = self.dir / "prometheus.yml"
        # JSON is YAML: no templating of the config by hand.
        config.write_text(json.dumps({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [{"job_name": "synthfeed",
                                "static_configs": [{"targets": [f"127.0.0.1:{self.synthfeed_port}"]}]}],
        }))
        self.prometheus = self._start("prometheus", [
            PROMETHEUS, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
            f"--storage.tsdb.path={self.dir / 'tsdb'}", "--log.level=warn"])
        self.wait_for(self._ready, 60, "Prometheus did not become ready")

    def _start(self, name, argv):
        with open(self.dir / f"{name}.stderr", "wb") as err:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)

    def _ready(self):
        try:
            return get(f"http://127.0.0.1:{self.prometheus_port}/-/ready")[0] == 200
        except OSError:
            return False

    def log(self, name):
        return (self.dir / f"{name}.stderr").read_text(errors="replace")[-3000:]

    def wait_for(self, condition, timeout, message):
        """Polls `condition` until it returns something truthy (and returns that)."""
        deadline = time.monotonic() + timeout
        while True:
            if self.prometheus.poll() is not None:
                raise AssertionError(f"prometheus exited with {self.prometheus.returncode}:\n{self.log('prometheus')}")
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"{message}\nprometheus:\n{self.log('prometheus')}")
            time.sleep(0.25)

    def query(self, promql):
        status, body = get(f"{self.api}/query?" + urllib.parse.urlencode({"query": promql}))
        reply = json.loads(body)
        assert status == 200 and reply["status"] == "success", f"{promql}: {status} {body}"
        return reply["data"]["result"]

    def stop(self):
        codes = {}
        if self.prometheus is not None:
            codes["prometheus"] = stop(self.prometheus, "prometheus")
        if self.synthfeed is not None:
            codes["synthfeed"] = stop(self.synthfeed, "synthfeed")
        return codes


@pytest.fixture(scope="module")
def stack(synthfeed_bin, tmp_path_factory):
    if not Path(PROMETHEUS).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{PROMETHEUS} is missing: scripts/setup installs the Debian package prometheus")
        pytest.skip("prometheus is not installed (Debian package prometheus; scripts/setup installs it)")
    s = Stack(tmp_path_factory.mktemp("prometheus"), synthfeed_bin)
    try:
        s.start()
        yield s
    finally:
        codes = s.stop()
    assert codes == {"prometheus": 0, "synthfeed": 0}, f"{codes}\nsynthfeed:\n{s.log('synthfeed')}"


def test_prometheus_scrapes_synthfeed(stack):
    def generated():
        result = stack.query("synthfeed_messages_generated_total")
        return result and float(result[0]["value"][1]) > 0 and result

    series = stack.wait_for(generated, 30, "synthfeed_messages_generated_total never rose above 0 in Prometheus")
    assert series[0]["metric"]["job"] == "synthfeed"

    status, body = get(f"{stack.api}/targets")
    assert status == 200
    targets = json.loads(body)["data"]["activeTargets"]
    ours = [t for t in targets if t["scrapeUrl"] == f"http://127.0.0.1:{stack.synthfeed_port}/metrics"]
    assert len(ours) == 1, targets
    assert ours[0]["health"] == "up", ours[0].get("lastError")

    # Labelled series keep their labels through Prometheus' parser.
    delivered = stack.query('synthfeed_messages_delivered_total{connector="null",stream="data"}')
    assert delivered and float(delivered[0]["value"][1]) > 0
    assert float(stack.query("synthfeed_target_rate_messages_per_second")[0]["value"][1]) == 20000


def test_dashboard_queries_evaluate(stack):
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs
    # A rate needs two samples in its window: wait until the generated rate has data.
    rate = "sum by (instance) (rate(synthfeed_messages_generated_total[1m]))"
    assert rate in exprs
    stack.wait_for(lambda: stack.query(rate), 30, f"{rate} stayed empty")
    for expr in exprs:
        stack.query(expr)  # asserts Prometheus parsed and evaluated it (status "success")
    assert float(stack.query(rate)[0]["value"][1]) > 0
