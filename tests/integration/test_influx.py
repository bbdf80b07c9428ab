"""`--format influx` into a real InfluxDB 1.x (Debian's influxd, started by the `influxdb` fixture on
free loopback ports): every line the encoder writes is accepted by the server's own parser (204),
every point lands in its device's series with every field and its type, and names and string
values that line protocol must escape (spaces, commas, `=`, quotes, backslashes) round-trip exactly.
The expected points come from synthfeed's own runs (the influx file, or the same run as CSV/JSON),
never from the database."""

import collections
import csv
import json

import pytest

from helpers import run_synthfeed

START = "2026-01-01T00:00:00Z"
CHUNK = 5000  # lines per POST /write

# Two groups, states (text) fields, an integer field, value anomalies (labels), no transport
# faults: a duplicate or a clock skew could put two points on one series and timestamp, and
# InfluxDB keeps only the last of those.
FLEET = """
name = "influx-fleet"
seed = 42
start = "2026-01-01T00:00:00Z"

[[group]]
name = "cold_room"
count = 5
id = "room-{index:02}"
interval = "1s"
jitter = "100ms"

  [[group.field]]
  name = "temp_c"
  precision = 2
  signal = { kind = "ou", mean = [2.0, 4.0], sigma = 0.2, reversion = 0.1 }

  [[group.field]]
  name = "humidity_pct"
  precision = 1
  min = 0.0
  max = 100.0
  signal = { kind = "sine", mean = 80.0, amplitude = 5.0, period = "10m" }
  noise = { kind = "gaussian", stddev = 0.5 }

  [[group.field]]
  name = "door_opens"
  type = "int"
  signal = { kind = "counter", start = [0, 100], rate = 0.05 }

  [[group.field]]
  name = "mode"
  signal = { kind = "states", states = ["cooling", "idle", "defrost"], dwell = ["10s..1m", "10s..1m", "5s..20s"], next = [[0, 0.8, 0.2], [1, 0, 0], [1, 0, 0]] }

  [[group.anomaly]]
  kind = "spike"
  field = "temp_c"
  rate = "20/h"
  duration = "0s"
  magnitude = [5.0, 8.0]

  [[group.anomaly]]
  kind = "level_shift"
  field = "humidity_pct"
  rate = "6/h"
  duration = "1m..3m"
  magnitude = 10.0

[[group]]
name = "pump_station"
count = 4
id = "pump-{index}"
interval = "2s"
jitter = "200ms"

  [[group.field]]
  name = "pressure_bar"
  precision = 3
  signal = { kind = "random_walk", start = [2.0, 3.0], step = 0.01, min = 1.0, max = 5.0 }

  [[group.field]]
  name = "rpm"
  type = "int"
  signal = { kind = "sine", mean = 1450, amplitude = 50, period = "5m" }
  noise = { kind = "gaussian", stddev = 5 }

  [[group.field]]
  name = "run_state"
  signal = { kind = "states", states = ["running", "stopped"], dwell = ["30s..2m", "10s..30s"], next = [[0, 1], [1, 0]] }
"""
FLEET_TYPES = {
    "cold_room": {"temp_c": "float", "humidity_pct": "float", "door_opens": "integer", "mode": "string",
                  "seq": "integer"},
    "pump_station": {"pressure_bar": "float", "rpm": "integer", "run_state": "string", "seq": "integer"},
}

# A measurement (group) name with a space, a comma and `=`; state names with double quotes and
# backslashes. Left unescaped, InfluxDB 1.6 happens to accept `say "hi"` and `back\slash` (an even
# number of quotes; `\s` is no escape), refuses `6" pipe` and `dir\`, and stores `two\\back` with
# one backslash lost: all six must come back exactly. Each kind alone, then both, so that a failure
# says which escaping is missing.
HALL = "hall 1,north=A"
PLAIN_STATES = ["plain", "busy", "off"]
HOSTILE_STATES = ["plain", 'say "hi"', "back\\slash", '6" pipe', "dir\\", "two\\\\back"]
HOSTILE_CASES = {
    "measurement": (HALL, PLAIN_STATES),
    "strings": ("hall", HOSTILE_STATES),
    "both": (HALL, HOSTILE_STATES),
}


def hostile_profile(group, states):
    """One group of three devices: a states field (TOML literal strings: written as they are) moving
    every 1-3 s to any other state, and a number."""
    n = len(states)
    names = ", ".join(f"'{name}'" for name in states)
    dwell = ", ".join(['"1s..3s"'] * n)
    odds = ", ".join("[" + ", ".join("0" if i == j else "1" for j in range(n)) + "]" for i in range(n))
    return f"""
name = "influx-hostile"
seed = 7
start = "2026-01-01T00:00:00Z"

[[group]]
name = "{group}"
count = 3
id = "hall-{{index}}"
interval = "1s"

  [[group.field]]
  name = "state"
  signal = {{ kind = "states", states = [{names}], dwell = [{dwell}], next = [{odds}] }}

  [[group.field]]
  name = "temp_c"
  precision = 1
  signal = {{ kind = "sine", mean = 20.0, amplitude = 2.0, period = "1m" }}
"""


def generate(synthfeed_bin, tmp_path, profile_text, fmt, count, *extra, name="out"):
    """Writes the profile to tmp_path, runs it to a file in `fmt`; returns the file's path."""
    profile = tmp_path / "profile.toml"
    profile.write_text(profile_text)
    path = tmp_path / f"{name}.{fmt}"
    summary = tmp_path / f"{name}.summary.json"
    run_synthfeed(synthfeed_bin, "run", profile, "--format", fmt, "--sink", f"file:{path}", "--count", count,
                  "--start", START, "--progress", "off", "--summary-json", summary, *extra, check=0)
    assert json.loads(summary.read_text())["messages_delivered"] == count
    return path


def write_all(influxdb, db, path):
    """Creates `db` and POSTs the file in chunks of CHUNK lines; asserts every chunk got 204, naming
    the server's answer (a 400 names the line it could not parse)."""
    influxdb.query(f'CREATE DATABASE "{db}"', method="POST")
    lines = path.read_bytes().splitlines()
    refused = []
    for i in range(0, len(lines), CHUNK):
        status, body = influxdb.write(db, b"\n".join(lines[i:i + CHUNK]) + b"\n")
        if status != 204:
            try:
                body = json.loads(body)["error"]
            except (ValueError, KeyError):
                pass
            refused.append(f"lines {i + 1}..{min(i + CHUNK, len(lines))}: HTTP {status}: {body[:1500]}")
    if refused:
        pytest.fail(f"InfluxDB refused {len(refused)} of {-(-len(lines) // CHUNK)} writes:\n" + "\n".join(refused))
    return lines


def ident(name):
    """An InfluxQL double-quoted identifier."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def series(influxdb, db, q):
    """{device_id: [row dict, ...]} of a query grouped by device_id."""
    result = influxdb.query(q, db)[0]
    out = {}
    for s in result.get("series", []):
        out[s["tags"]["device_id"]] = [dict(zip(s["columns"], v)) for v in s["values"]]
    return out


def counts_by_device(influxdb, db, measurement):
    """{device_id: {field: count}} from SELECT count(*): one count per field of the measurement."""
    rows = series(influxdb, db, f"SELECT count(*) FROM {ident(measurement)} GROUP BY device_id")
    return {d: {k.removeprefix("count_"): v for k, v in r[0].items() if k != "time"} for d, r in rows.items()}


def measurements(influxdb, db):
    result = influxdb.query("SHOW MEASUREMENTS", db)[0]
    return sorted(v[0] for s in result.get("series", []) for v in s["values"])


def field_types(influxdb, db, measurement):
    result = influxdb.query(f"SHOW FIELD KEYS FROM {ident(measurement)}", db)[0]
    return {k: t for s in result.get("series", []) for k, t in s["values"]}


def parse_plain_line(line: str):
    """(measurement, device_id, {field: value}, ns) of a line with nothing escaped (FLEET's names)."""
    key, fields, ts = line.split(" ")
    measurement, tag = key.split(",")
    assert tag.startswith("device_id=")
    values = {}
    for pair in fields.split(","):
        name, text = pair.split("=")
        if text.startswith('"'):
            values[name] = text[1:-1]
        elif text.endswith("i"):
            values[name] = int(text[:-1])
        else:
            values[name] = float(text)
    return measurement, tag.removeprefix("device_id="), values, int(ts)


def test_fleet_lines_are_accepted_and_every_point_is_stored(influxdb, synthfeed_bin, tmp_path):
    """Every line parses, each device's series holds exactly its lines with every field, integer
    fields are integers and states are strings, and the stored values are the file's."""
    count = 12000
    path = generate(synthfeed_bin, tmp_path, FLEET, "influx", count)
    lines = write_all(influxdb, "fleet", path)
    assert len(lines) == count

    expected = collections.defaultdict(dict)  # measurement -> device -> {ns: values}
    for line in lines:
        measurement, device, values, ns = parse_plain_line(line.decode())
        points = expected[measurement].setdefault(device, {})
        assert ns not in points, f"two points of {device} at {ns}: InfluxDB would keep only one"
        points[ns] = values
    assert sorted(expected) == ["cold_room", "pump_station"]
    assert len(expected["cold_room"]) == 5 and len(expected["pump_station"]) == 4

    assert measurements(influxdb, "fleet") == sorted(expected)
    total = 0
    for measurement, devices in expected.items():
        assert field_types(influxdb, "fleet", measurement) == FLEET_TYPES[measurement]
        stored = counts_by_device(influxdb, "fleet", measurement)
        want = {d: {f: len(points) for f in FLEET_TYPES[measurement]} for d, points in devices.items()}
        assert stored == want, measurement
        total += sum(c["seq"] for c in stored.values())

        rows = series(influxdb, "fleet", f"SELECT * FROM {ident(measurement)} GROUP BY device_id")
        for device, points in devices.items():
            got = {r.pop("time"): r for r in rows[device]}
            assert got == points, f"{measurement} {device}: stored values differ from the file"
    assert total == count


@pytest.mark.parametrize("case", HOSTILE_CASES)
def test_hostile_names_and_string_values_round_trip(influxdb, synthfeed_bin, tmp_path, case):
    """A group name with a space, a comma and `=` is one measurement (not `hall` with a tag), and
    string values with double quotes and backslashes come back exactly as generated."""
    group, states = HOSTILE_CASES[case]
    profile = hostile_profile(group, states)
    count = 300
    path = generate(synthfeed_bin, tmp_path, profile, "influx", count)
    # The same run as CSV says which state each (device, seq) had.
    reference = generate(synthfeed_bin, tmp_path, profile, "csv", count, name="reference")
    with reference.open(newline="") as f:
        truth = {(r["device_id"], int(r["seq"])): r["state"] for r in csv.DictReader(f)}
    assert len(truth) == count
    assert set(truth.values()) == set(states), "the run should show every state"

    db = f"hostile_{case}"
    write_all(influxdb, db, path)

    assert measurements(influxdb, db) == [group]
    per_device = collections.Counter(device for device, _ in truth)
    stored = counts_by_device(influxdb, db, group)
    assert stored == {d: {"state": n, "temp_c": n, "seq": n} for d, n in per_device.items()}

    rows = series(influxdb, db, f"SELECT state, seq FROM {ident(group)} GROUP BY device_id")
    got = {(device, r["seq"]): r["state"] for device, rs in rows.items() for r in rs}
    assert got == truth


def test_labels_in_payload_are_accepted_as_a_string_field(influxdb, synthfeed_bin, tmp_path):
    """--label-in-payload adds `label` as a string field; every line still parses and each point
    carries the label the JSON run of the same messages gives."""
    count = 6000
    path = generate(synthfeed_bin, tmp_path, FLEET, "influx", count, "--label-in-payload")
    reference = generate(synthfeed_bin, tmp_path, FLEET, "json", count, "--label-in-payload", name="reference")
    truth = {}
    for line in reference.read_text().splitlines():
        j = json.loads(line)
        truth[(j["device_id"], j["seq"])] = j["label"]
    assert len(truth) == count
    assert set(truth.values()) - {"normal"}, "the run should hold labelled anomalies"

    write_all(influxdb, "labelled", path)

    got = {}
    for measurement in ("cold_room", "pump_station"):
        assert field_types(influxdb, "labelled", measurement)["label"] == "string"
        rows = series(influxdb, "labelled", f"SELECT label, seq FROM {ident(measurement)} GROUP BY device_id")
        got.update({(device, r["seq"]): r["label"] for device, rs in rows.items() for r in rs})
    assert got == truth
