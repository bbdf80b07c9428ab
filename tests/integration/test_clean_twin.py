"""`run --no-anomalies`, the clean twin: on every shipped profile, the twin is the labelled run
byte for byte on every tick the labelled run calls normal, in the same order; it differs only
on ticks labelled anomalous, and its truth names no value anomaly or fraud."""

import json
import re
from pathlib import Path

import pytest

from helpers import PROFILES, run_synthfeed

# Simulated time per profile: enough for episodes of every spec the profile has to show up
# (checked below), small enough for CI.
DURATIONS = {
    "building_events": "12h",
    "card_fraud": "6h",
    "cold_chain": "1m",
    "factory_line": "8m",
    "factory_vibration": "1m",
    "ingestion_torture": "3m",
    "smart_building_hvac": "45m",
    "million_devices": "1m",
    "mqtt_10k_devices": "10s",
    "mqtt_50k_devices": "10s",
}

# High-cadence profiles whose episodes come a few times a day: tested with their episode
# rates per hour instead of per day, so that a short span has some (every other line as shipped).
ACCELERATED = {"factory_vibration", "smart_building_hvac"}
EPISODE_TABLE = re.compile(r"^\s*\[\[group\.(anomaly|fraud|fault|drift|regime)\]\]")

SHIPPED = sorted(list(PROFILES.glob("*.toml")) + list((PROFILES / "bench").glob("*.toml")))

# The JSON payload opens with device_id and seq; a malformed (cut) line may end before them.
KEY = re.compile(rb'^\{"device_id":"([^"]*)","seq":(\d+)[,}]')


def key_of(line: bytes):
    m = KEY.match(line)
    return (m.group(1).decode(), int(m.group(2))) if m else None


def run(binary, profile: Path, out: Path, *extra) -> dict:
    out.mkdir()
    run_synthfeed(binary, "run", profile, "--duration", DURATIONS[profile.stem],
                  "--start", "2026-01-05T00:00:00Z", "--format", "json", "--threads", "2",
                  "--progress", "off", "--sink", f"file:{out / 'data'}",
                  "--labels", out / "labels", "--episodes", out / "episodes",
                  "--summary-json", out / "summary.json", *extra, check=0)
    labels = {}
    for line in (out / "labels").read_text().splitlines():
        r = json.loads(line)
        labels[(r["device_id"], r["seq"])] = r
    episodes = [json.loads(line) for line in (out / "episodes").read_text().splitlines()]
    data = (out / "data").read_bytes().splitlines()
    summary = json.loads((out / "summary.json").read_text())
    return {"labels": labels, "episodes": episodes, "data": data, "summary": summary}


def profile_under_test(profile: Path, tmp_path: Path) -> Path:
    if profile.stem not in ACCELERATED:
        return profile
    lines, in_episode_table = [], False
    for line in profile.read_text().splitlines():
        if line.lstrip().startswith("["):
            in_episode_table = bool(EPISODE_TABLE.match(line))
        if in_episode_table and re.match(r'\s*rate\s*=\s*"[0-9.]+/day"', line):
            line = line.replace("/day", "/h")
        lines.append(line)
    accelerated = tmp_path / profile.name
    accelerated.write_text("\n".join(lines) + "\n")
    return accelerated


def has_anomaly_tables(profile: Path) -> bool:
    return bool(re.search(r"^\s*\[\[group\.(anomaly|fraud)\]\]", profile.read_text(), re.M))


def test_every_shipped_profile_has_a_duration():
    assert sorted(p.stem for p in SHIPPED) == sorted(DURATIONS)


@pytest.mark.parametrize("profile", SHIPPED, ids=lambda p: p.stem)
def test_the_twin_differs_only_on_ticks_labelled_anomalous(synthfeed_bin, tmp_path, profile):
    tested = profile_under_test(profile, tmp_path)
    labelled = run(synthfeed_bin, tested, tmp_path / "labelled")
    twin = run(synthfeed_bin, tested, tmp_path / "twin", "--no-anomalies")

    def anomalous(key):
        return key is not None and labelled["labels"][key]["label"] != "normal"

    # Same ticks generated, in both truths; the twin's are all normal.
    assert twin["labels"].keys() == labelled["labels"].keys()
    assert all(r["label"] == "normal" and r["episode"] is None
               for r in twin["labels"].values())
    for key, r in labelled["labels"].items():
        if not anomalous(key):
            assert twin["labels"][key] == r, key

    # Every line of either stream names a tick of the truth (or is a cut line without a key).
    for line in labelled["data"] + twin["data"]:
        key = key_of(line)
        assert key is None or key in labelled["labels"], line[:80]

    # Byte for byte and in order on every normal tick.
    normal_labelled = [x for x in labelled["data"] if not anomalous(key_of(x))]
    normal_twin = [x for x in twin["data"] if not anomalous(key_of(x))]
    assert normal_twin == normal_labelled

    # The twin's episodes are only the kept classes; the labelled run's kept ones, unchanged.
    kept = [e for e in labelled["episodes"] if e["class"] not in ("value", "fraud")]
    assert twin["episodes"] == kept
    assert twin["summary"]["removed_classes"] == ["value", "fraud"]
    assert labelled["summary"]["removed_classes"] == []

    # The test can fail: where the profile has anomalies or fraud, they occur in the span
    # tested and the twin differs on them.
    if has_anomaly_tables(profile):
        assert any(e["class"] in ("value", "fraud") for e in labelled["episodes"])
        assert any(anomalous(k) for k in labelled["labels"])
        changed = sorted(x for x in labelled["data"] if anomalous(key_of(x))) != sorted(
            x for x in twin["data"] if anomalous(key_of(x)))
        assert changed
