"""`synthfeed score` against an independent implementation: the range-based precision and
recall of Tatbul et al. (NeurIPS 2018) as the `prts` package computes them, on generated
truth/detection pairs, for several existence weights, cardinality factors and biases; and its
contract on bad input (exit 2 naming file:line) and on failed criteria (exit 99)."""

import json
import math
import random
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest
from prts import ts_precision, ts_recall

from helpers import REPO_ROOT, run_synthfeed

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
SETTINGS = [(alpha, cardinality, bias) for alpha in (0.0, 0.3, 1.0)
            for cardinality in ("one", "reciprocal")
            for bias in ("flat", "front", "middle", "back")]


def rfc3339(ms: int) -> str:
    t = START + timedelta(milliseconds=ms)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def random_runs(rng: random.Random, n: int, count: int, longest: int) -> np.ndarray:
    bits = np.zeros(n, dtype=int)
    for _ in range(count):
        start = rng.randrange(n)
        bits[start:start + rng.randint(1, longest)] = 1
    return bits


def write_case(tmp_path, seed: int):
    """Labels, episodes and detections of 1-3 devices; returns the paths and the per-device
    truth and prediction arrays in seq order."""
    rng = random.Random(seed)
    labels, episodes, detections = [], [], []
    truth, predicted = [], []
    spans = []  # per device: the (first, last) rows of each episode
    for d in range(rng.randint(1, 3)):
        device = f"dev-{d:02d}"
        n = rng.randint(30, 150)
        ticks = [{"ts": i * 1000 + rng.randint(0, 50), "episodes": []} for i in range(n)]
        real = np.zeros(n, dtype=int)
        spans.append([])
        for e in range(rng.randint(1, 4)):
            first = rng.randrange(n)
            last = min(n - 1, first + rng.randint(0, 12))
            eid = f"{device}:0:{e}"
            episodes.append({"episode": eid, "device_id": device, "group": f"g{d % 2}",
                             "field": "v", "kind": rng.choice(["spike", "level_shift"]),
                             "class": "value", "start": rfc3339(ticks[first]["ts"]),
                             "end": rfc3339(ticks[last]["ts"] + 1), "magnitude": 1.0})
            spans[-1].append((first, last))
            for i in range(first, last + 1):
                ticks[i]["episodes"].append(eid)
                real[i] = 1
        pred = random_runs(rng, n, rng.randint(1, 5), 10)
        for i, t in enumerate(ticks):
            kinds = t["episodes"]
            labels.append({"device_id": device, "seq": i, "ts": rfc3339(t["ts"]),
                           "label": "spike" if kinds else "normal",
                           "episode": kinds[0] if kinds else None, "episodes": kinds,
                           "emitted": True})
            # Rows left out count as not anomalous; join on seq or on ts alternately.
            if pred[i] or rng.random() < 0.7:
                row = {"device_id": device, "is_anomaly": int(pred[i])}
                row["seq" if (i + seed) % 2 else "ts"] = i if (i + seed) % 2 else rfc3339(t["ts"])
                detections.append(row)
        truth.append(real)
        predicted.append(pred)
    episodes.sort(key=lambda e: e["start"])
    paths = {}
    for name, rows in (("labels", labels), ("episodes", episodes), ("detections", detections)):
        paths[name] = tmp_path / f"{name}-{seed}.jsonl"
        paths[name].write_text("".join(json.dumps(r) + "\n" for r in rows))
    write_case.spans = spans
    return paths, truth, predicted


def concatenated(arrays):
    """The devices' series one after another, a 0 between them so that no range spans two."""
    out = []
    for a in arrays:
        out.extend(a.tolist() + [0])
    return np.array(out)


def score(binary, paths, tmp_path, *flags, check=0):
    out = tmp_path / "score.json"
    result = run_synthfeed(binary, "score", "--truth", paths["labels"], "--episodes",
                           paths["episodes"], "--detections", paths["detections"],
                           "--json", out, *flags, check=check)
    return json.loads(out.read_text()), result


@pytest.mark.parametrize("seed", range(24))
def test_range_metrics_agree_with_prts(synthfeed_bin, tmp_path, seed):
    paths, truth, predicted = write_case(tmp_path, seed)
    real, pred = concatenated(truth), concatenated(predicted)
    assert real.any() and pred.any()
    worst = 0.0
    for alpha, cardinality, bias in SETTINGS:
        report, _ = score(synthfeed_bin, paths, tmp_path, "--alpha", alpha, "--cardinality",
                          cardinality, "--bias", bias)
        ours = report["overall"]["range"]
        # The paper gives precision no existence reward (alpha = 0); prts applies alpha to both.
        expected_p = ts_precision(real, pred, alpha=0.0, cardinality=cardinality, bias=bias)
        expected_r = ts_recall(real, pred, alpha=alpha, cardinality=cardinality, bias=bias)
        worst = max(worst, abs(ours["precision"] - expected_p), abs(ours["recall"] - expected_r))
        assert ours["precision"] == pytest.approx(expected_p, abs=1e-9), (alpha, cardinality, bias)
        assert ours["recall"] == pytest.approx(expected_r, abs=1e-9), (alpha, cardinality, bias)
    # Point-wise figures against a plain count.
    tp = int(((real == 1) & (pred == 1)).sum())
    fp = int(((real == 0) & (pred == 1)).sum())
    fn = int(((real == 1) & (pred == 0)).sum())
    point = report["overall"]["point"]
    assert (point["tp"], point["fp"], point["fn"]) == (tp, fp, fn)
    print(f"seed {seed}: max |diff| vs prts {worst:.3g}")


def test_scores_sweep_reports_best_f1_and_auc(synthfeed_bin, tmp_path):
    paths, truth, _ = write_case(tmp_path, 7)
    rows = [json.loads(line) for line in paths["labels"].read_text().splitlines()]
    rng = random.Random(1)
    scored = [{"device_id": r["device_id"], "seq": r["seq"],
               "score": (0.6 if r["episodes"] else 0.0) + rng.random() * 0.5} for r in rows]
    paths["detections"].write_text("".join(json.dumps(r) + "\n" for r in scored))
    report, _ = score(synthfeed_bin, paths, tmp_path)
    sweep = report["sweep"]
    assert report["options"]["threshold_source"] == "best_f1"
    assert report["options"]["threshold"] == sweep["threshold"]
    assert sweep["best_f1"] == pytest.approx(report["overall"]["point"]["f1"])
    assert 0 < sweep["auc_pr"] <= 1
    # A given threshold binarises instead.
    report, _ = score(synthfeed_bin, paths, tmp_path, "--threshold", "0.6")
    assert report["sweep"] is None and report["options"]["threshold"] == 0.6


def test_failed_criterion_exits_99(synthfeed_bin, tmp_path):
    paths, _, _ = write_case(tmp_path, 3)
    _, result = score(synthfeed_bin, paths, tmp_path, "--threshold", "f1>=1.01", check=99)
    assert "FAILED" in result.stderr
    score(synthfeed_bin, paths, tmp_path, "--threshold", "f1>=0", check=0)


@pytest.mark.parametrize("which,line,text,key", [
    ("detections", 2, '{"device_id":"dev-00","seq":1,"is_anomaly":1\n', ""),
    ("detections", 1, '{"device_id":"dev-00","seq":1,"is_anomaly":1,"colour":"red"}\n', "colour"),
    ("detections", 1, '{"device_id":"dev-00","seq":1,"is_anomaly":2}\n', "is_anomaly"),
    ("labels", 1, '{"device_id":"dev-00","seq":"x","ts":"2026-01-01T00:00:00Z","episodes":[]}\n',
     "seq"),
])
def test_malformed_input_exits_2_naming_file_and_line(synthfeed_bin, tmp_path, which, line, text,
                                                       key):
    paths, _, _ = write_case(tmp_path, 5)
    lines = paths[which].read_text().splitlines(keepends=True)
    lines[line - 1] = text
    paths[which].write_text("".join(lines))
    result = run_synthfeed(synthfeed_bin, "score", "--truth", paths["labels"], "--episodes",
                           paths["episodes"], "--detections", paths["detections"], check=2)
    assert f"{paths[which]}:{line}" in result.stderr
    assert key in result.stderr


def test_unknown_device_is_warned_and_counted(synthfeed_bin, tmp_path):
    paths, _, _ = write_case(tmp_path, 9)
    with paths["detections"].open("a") as f:
        f.write('{"device_id":"nobody","seq":0,"is_anomaly":1}\n')
    report, result = score(synthfeed_bin, paths, tmp_path)
    assert report["inputs"]["unknown_device_rows"] == 1
    assert "nobody" in result.stderr


def test_csv_labels_score_as_jsonl_labels(synthfeed_bin, tmp_path):
    """A real run's truth read from JSONL and from CSV labels gives the same figures; CSV
    detections the same as JSONL ones."""
    profile = REPO_ROOT / "profiles" / "cold_chain.toml"
    common = ["run", profile, "--duration", "6h", "--devices", "4", "--sink", "null:",
              "--progress", "off", "--episodes", tmp_path / "e.jsonl"]
    run_synthfeed(synthfeed_bin, *common, "--labels", tmp_path / "l.jsonl", check=0)
    run_synthfeed(synthfeed_bin, *common, "--labels", tmp_path / "l.csv", "--labels-format",
                  "csv", check=0)
    rows = [json.loads(line) for line in (tmp_path / "l.jsonl").read_text().splitlines()]
    assert any(r["label"] != "normal" for r in rows)
    detected = [r for r in rows if r["emitted"] and (r["label"] != "normal") == (r["seq"] % 3 != 0)]
    (tmp_path / "d.jsonl").write_text("".join(
        json.dumps({"device_id": r["device_id"], "seq": r["seq"], "is_anomaly": 1}) + "\n"
        for r in detected))
    (tmp_path / "d.csv").write_text("device_id,ts,is_anomaly\n" + "".join(
        f"{r['device_id']},{r['ts']},1\n" for r in detected))
    reports = []
    for labels, detections in (("l.jsonl", "d.jsonl"), ("l.csv", "d.csv")):
        paths = {"labels": tmp_path / labels, "episodes": tmp_path / "e.jsonl",
                 "detections": tmp_path / detections}
        report, _ = score(synthfeed_bin, paths, tmp_path)
        del report["inputs"]["truth"], report["inputs"]["detections"]
        reports.append(report)
    assert reports[0] == reports[1]
    assert reports[0]["overall"]["point"]["tp"] > 0


def test_profile_names_the_group_of_devices_without_episodes(synthfeed_bin, tmp_path):
    profile = REPO_ROOT / "profiles" / "cold_chain.toml"
    run_synthfeed(synthfeed_bin, "run", profile, "--duration", "1h", "--devices", "8", "--sink",
                  "null:", "--progress", "off", "--labels", tmp_path / "l.jsonl", "--episodes",
                  tmp_path / "e.jsonl", check=0)
    (tmp_path / "d.jsonl").write_text("")
    paths = {"labels": tmp_path / "l.jsonl", "episodes": tmp_path / "e.jsonl",
             "detections": tmp_path / "d.jsonl"}
    devices = {json.loads(line)["device_id"] for line in paths["labels"].read_text().splitlines()}
    with_episodes = {json.loads(line)["device_id"]
                     for line in paths["episodes"].read_text().splitlines()}
    report, _ = score(synthfeed_bin, paths, tmp_path)
    if devices - with_episodes:
        assert report["groups"]["(no episodes)"]["devices"] == len(devices - with_episodes)
    report, _ = score(synthfeed_bin, paths, tmp_path, "--profile", profile, "--devices", "8")
    assert set(report["groups"]) == {"reefer"}
    assert report["groups"]["reefer"]["devices"] == len(devices)
    # The truth of another fleet fails naming --profile.
    result = run_synthfeed(synthfeed_bin, "score", "--truth", paths["labels"], "--episodes",
                           paths["episodes"], "--detections", paths["detections"], "--profile",
                           profile, "--devices", "3", check=2)
    assert "--profile" in result.stderr


# NAB's sweeper (numenta/NAB nab/sweeper.py), ported row by row for a binary detector, on the
# windows `synthfeed score` documents (from each episode's first row, max(its rows, share)).
def scaled_sigmoid(y):
    return -1.0 if y >= 3.0 else 2 / (1 + math.exp(5 * y)) - 1


def nab_windows(spans, rows):
    share = max(1, rows // (10 * len(spans)))
    windows = sorted((first, min(first + max(last - first + 1, share) - 1, rows - 1))
                     for first, last in spans)
    merged = []
    for w in windows:
        if merged and w[0] <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], w[1]))
        else:
            merged.append(w)
    return merged


def nab_raw(windows, predicted, tp, fp, fn):
    max_tp = scaled_sigmoid(-1.0)
    parts, fp_sum = [-fn] * len(windows), 0.0
    current, previous_right, previous_width, next_window = None, None, None, 0
    for i, flagged in enumerate(predicted):
        if next_window < len(windows) and i == windows[next_window][0]:
            current, next_window = next_window, next_window + 1
            left, right = windows[current]
            width = right - left + 1
        if current is not None:
            score = scaled_sigmoid(-(right - i + 1) / width) * tp / max_tp
        else:
            # NAB divides by previous_width - 1, which a one-row window makes 0.
            position = 3.0 if previous_right is None else \
                abs(previous_right - i) / max(previous_width - 1, 1)
            score = scaled_sigmoid(position) * fp
        if flagged:
            if current is None:
                fp_sum += score
            else:
                parts[current] = max(parts[current], score)
        if current is not None and i == right:
            previous_right, previous_width, current = i, width, None
    return sum(parts) + fp_sum, len(windows)


@pytest.mark.parametrize("seed", range(24))
def test_nab_score_agrees_with_a_port_of_nabs_sweeper(synthfeed_bin, tmp_path, seed):
    paths, truth, predicted = write_case(tmp_path, seed)
    spans = write_case.spans
    report, _ = score(synthfeed_bin, paths, tmp_path)
    for name, tp, fp, fn in (("standard", 1, 0.11, 1), ("reward_low_fp", 1, 0.22, 1),
                             ("reward_low_fn", 1, 0.11, 2)):
        raw, windows = 0.0, 0
        for device_spans, pred in zip(spans, predicted):
            r, w = nab_raw(nab_windows(device_spans, len(pred)), pred.tolist(), tp, fp, fn)
            raw, windows = raw + r, windows + w
        null, perfect = -fn * windows, tp * windows
        ours = report["overall"]["nab"][name]
        assert ours["windows"] == windows
        assert ours["raw"] == pytest.approx(raw, abs=1e-9), name
        assert ours["score"] == pytest.approx(100 * (raw - null) / (perfect - null), abs=1e-9)


def test_nab_optimised_threshold_is_at_least_every_other(synthfeed_bin, tmp_path):
    paths, _, _ = write_case(tmp_path, 11)
    rows = [json.loads(line) for line in paths["labels"].read_text().splitlines()]
    rng = random.Random(2)
    scored = [{"device_id": r["device_id"], "seq": r["seq"],
               "score": round((0.4 if r["episodes"] else 0.0) + rng.random() * 0.6, 2)}
              for r in rows]
    paths["detections"].write_text("".join(json.dumps(r) + "\n" for r in scored))
    report, _ = score(synthfeed_bin, paths, tmp_path)
    best = report["sweep"]["nab"]["standard"]
    given, _ = score(synthfeed_bin, paths, tmp_path, "--threshold", best["threshold"])
    assert given["overall"]["nab"]["standard"]["score"] == pytest.approx(best["score"], abs=1e-9)
    for t in sorted({r["score"] for r in scored})[::7]:
        other, _ = score(synthfeed_bin, paths, tmp_path, "--threshold", t)
        assert other["overall"]["nab"]["standard"]["score"] <= best["score"] + 1e-9
