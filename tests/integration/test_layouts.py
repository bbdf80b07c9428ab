"""`run --labels-format timeeval|nab`: the benchmark layouts read by the tools' own loaders.

TimeEval: its DatasetManager (the `timeeval` package) reads datasets.csv and every series, and
its DatasetAnalyzer agrees with the index's length, contamination and anomaly lengths. NAB
(not on PyPI): every file parses with pandas, timestamps are written as NAB writes them, every
label and window bound is the timestamp of exactly one row of its file, every onset lies in a
window, windows do not overlap, and they are NAB's window rule as `score` applies it,
recomputed here from the JSONL labels and episodes of the same run. Both agree row by row
with the messages and the JSONL labels of the same profile and seed."""

import bisect
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from helpers import PROFILES, run_synthfeed
from strict_parsers import layout_file_name

START = "2026-01-05T00:00:00Z"
# profile, extra flags: sensors with dropouts; state machines (text fields) and cascades;
# transport faults (delayed and duplicated messages, dropped ticks); card transactions (text
# and hex fields, fraud typologies).
RUNS = {
    "cold_chain": ("cold_chain.toml", ["--devices", "8", "--duration", "8h"]),
    "factory_line": ("factory_line.toml", ["--devices", "gateways=2", "--devices", "presses=4",
                                           "--duration", "1d"]),
    "ingestion_torture": ("ingestion_torture.toml", ["--devices", "10", "--duration", "30m"]),
    "card_fraud": ("card_fraud.toml", ["--devices", "300", "--duration", "14d"]),
}
LABELLED = {"value", "fraud"}
NAB_DATA_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3})?$")
NAB_LABEL_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$")
NAB_WINDOW_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")


class Run:
    """One profile run three times with the same seed: messages, JSONL labels and episodes,
    and each layout."""

    def __init__(self, binary, tmp: Path, profile: str, flags: list):
        self.tmp = tmp
        common = [PROFILES / profile, "--start", START, "--progress", "off", *flags]
        run_synthfeed(binary, "run", *common, "--sink", f"file:{tmp / 'data.jsonl'}",
                      "--labels", tmp / "labels.jsonl", "--episodes", tmp / "episodes.jsonl",
                      check=0)
        for fmt in ("timeeval", "nab"):
            run_synthfeed(binary, "run", *common, "--sink", "null:", "--labels", tmp / fmt,
                          "--labels-format", fmt, check=0)
        self.episodes = {}
        for line in (tmp / "episodes.jsonl").read_text().splitlines():
            e = json.loads(line)
            self.episodes[e["episode"]] = e
        # Per device, its emitted ticks in seq order: (seq, ts, is_anomaly, labelled episodes).
        ticks = {}
        for line in (tmp / "labels.jsonl").read_text().splitlines():
            lab = json.loads(line)
            labelled = [e for e in lab["episodes"] if self.episodes[e]["class"] in LABELLED]
            ticks.setdefault(lab["device_id"], []).append(
                (lab["seq"], lab["ts"], lab["emitted"], labelled))
        self.ticks = {d: sorted(t) for d, t in ticks.items()}
        # The first copy of each message: its values (a duplicate resends the same bytes).
        self.values = {}
        for line in (tmp / "data.jsonl").read_text().splitlines():
            try:
                m = json.loads(line)
            except json.JSONDecodeError:
                continue  # a malformed fault's cut payload
            self.values.setdefault((m["device_id"], m["seq"]), m)
        self.groups = {e["device_id"]: e["group"] for e in self.episodes.values()}

    def rows(self, device: str) -> list:
        """The emitted ticks of a device: a layout's rows."""
        return [t for t in self.ticks[device] if t[2]]


@pytest.fixture(scope="module", params=sorted(RUNS))
def run(request, synthfeed_bin, tmp_path_factory):
    profile, flags = RUNS[request.param]
    return Run(synthfeed_bin, tmp_path_factory.mktemp(request.param), profile, flags)


def test_timeeval_layout_reads_with_timeevals_dataset_manager(run):
    from timeeval.datasets import DatasetManager

    dm = DatasetManager(run.tmp / "timeeval", create_if_missing=False)
    ids = dm.select()
    index = pd.read_csv(run.tmp / "timeeval" / "datasets.csv")
    assert len(ids) == len(index) > 0
    assert list(index.columns) == [
        "collection_name", "dataset_name", "train_path", "test_path", "dataset_type",
        "datetime_index", "split_at", "train_type", "train_is_normal", "input_type", "length",
        "dimensions", "contamination", "num_anomalies", "min_anomaly_length",
        "median_anomaly_length", "max_anomaly_length", "mean", "stddev", "trend",
        "stationarity", "period_size"]
    seen = set()
    for collection, device in ids:
        entry = index[(index.collection_name == collection) & (index.dataset_name == device)]
        assert len(entry) == 1
        entry = entry.iloc[0]
        seen.add(device)
        df = dm.get_dataset_df((collection, device))
        assert df.columns[0] == "timestamp" and df.columns[-1] == "is_anomaly"
        assert pd.api.types.is_datetime64_any_dtype(df["timestamp"])
        fields = list(df.columns[1:-1])
        assert len(fields) == entry.dimensions
        assert entry.input_type == ("univariate" if len(fields) == 1 else "multivariate")
        rows = run.rows(device)
        assert len(df) == len(rows) == entry.length
        # Row by row: the time, is_anomaly by the label rule, and the values sent.
        assert [t.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z" for t in df["timestamp"]] == \
            [r[1] for r in rows]
        assert list(df["is_anomaly"]) == [int(bool(r[3])) for r in rows]
        for i in range(0, len(rows), max(1, len(rows) // 50)):
            message = run.values.get((device, rows[i][0]))
            if message is None:
                continue  # a malformed fault cut the message's only copy
            for f in fields:
                # Schema drift renames or retypes the field on the wire; the row keeps the value.
                sent = message.get(f, message.get(f + "_v2"))
                if sent is None:
                    continue
                assert df[f][i] == pytest.approx(float(sent), abs=1e-9), (device, rows[i][0], f)
        assert entry.contamination == pytest.approx(df["is_anomaly"].mean())
        assert dm.get_training_type((collection, device)).value == "unsupervised"
    # Every device that sent a message has its series (every shipped group has a number).
    assert seen == {d for d in run.ticks if run.rows(d)}


def test_timeeval_index_agrees_with_timeevals_analyzer(run, monkeypatch):
    from timeeval.datasets import DatasetManager
    from timeeval.datasets.analyzer import DatasetAnalyzer

    # The index's figures are the analyzer's base metadata; its ADF/KPSS tests and trend
    # regressions (the columns synthfeed leaves empty) take minutes on a day of 1 Hz data.
    monkeypatch.setattr(DatasetAnalyzer, "_find_stationarity",
                        lambda self: setattr(self, "stationarity", {}))
    monkeypatch.setattr(DatasetAnalyzer, "_find_trends", lambda self: setattr(self, "trends", {}))
    dm = DatasetManager(run.tmp / "timeeval", create_if_missing=False)
    index = pd.read_csv(run.tmp / "timeeval" / "datasets.csv")
    anomalous = index[index.num_anomalies > 0]
    if not any(t[3] for ticks in run.ticks.values() for t in ticks):
        # Transport faults only (ingestion_torture): no row is anomalous.
        assert len(anomalous) == 0 and (index.contamination == 0).all()
        return
    assert len(anomalous) > 0
    for _, entry in anomalous.iterrows():
        meta = DatasetAnalyzer((entry.collection_name, entry.dataset_name), is_train=False,
                               dmgr=dm).metadata
        assert meta.length == entry.length
        assert meta.dimensions == entry.dimensions
        assert meta.contamination == pytest.approx(entry.contamination)
        assert meta.num_anomalies == entry.num_anomalies
        assert (meta.anomaly_length.min, meta.anomaly_length.median, meta.anomaly_length.max) \
            == (entry.min_anomaly_length, entry.median_anomaly_length, entry.max_anomaly_length)
        assert meta.mean == pytest.approx(entry["mean"])
        assert meta.stddev == pytest.approx(entry.stddev)


def nab_windows(episodes: list, rows: int) -> list:
    """NAB windows as README "Scoring a detector" states them, from (first row, messages)."""
    if not episodes or rows == 0:
        return []
    share = max(1, rows // (10 * len(episodes)))
    windows = sorted((first, min(first + max(messages, share) - 1, rows - 1))
                     for first, messages in episodes if first < rows)
    merged = []
    for first, last in windows:
        if merged and first <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return merged


def nab_time(ts: str, digits: int) -> str:
    """An RFC 3339 label time as NAB writes it, with `digits` of the second's fraction."""
    text = ts[:10] + " " + ts[11:19]
    return text + ("." + (ts[20:23] + "000")[:digits] if digits else "")


def ns(text: str) -> int:
    return pd.Timestamp(text).as_unit("ns").value


def test_nab_layout_files_labels_and_windows(run):
    nab = run.tmp / "nab"
    labels = json.loads((nab / "labels" / "combined_labels.json").read_text())
    windows = json.loads((nab / "labels" / "combined_windows.json").read_text())
    files = sorted(p.relative_to(nab / "data").as_posix() for p in (nab / "data").rglob("*.csv"))
    assert files and sorted(labels) == files and sorted(windows) == files
    checked_windows = 0
    for name in files:
        df = pd.read_csv(nab / "data" / name, dtype={"timestamp": str})
        assert list(df.columns) == ["timestamp", "value"]
        assert all(NAB_DATA_TIME.match(t) for t in df["timestamp"])
        stamps = pd.to_datetime(df["timestamp"]).astype("datetime64[ns]").to_numpy().view("int64")
        assert (stamps[1:] >= stamps[:-1]).all()
        assert pd.api.types.is_float_dtype(df["value"]) or pd.api.types.is_integer_dtype(
            df["value"])
        group, rest = name.split("/")
        device = next(d for d in run.ticks if rest.startswith(layout_file_name(d) + "."))
        field = rest[len(layout_file_name(device)) + 1:-len(".csv")]
        rows = run.rows(device)
        assert [nab_time(r[1], 3 if len(df) and "." in df["timestamp"][0] else 0)
                for r in rows] == list(df["timestamp"])
        # NAB's labeller: each label and window bound is the timestamp of exactly one row.
        row_of = {}
        for i, t in enumerate(stamps.tolist()):
            row_of[t] = -1 if t in row_of else i  # -1: shared by two rows
        for t in labels[name]:
            assert NAB_LABEL_TIME.match(t)
            assert row_of.get(ns(t), -1) >= 0, (name, t)
        spans = []
        for start, end in windows[name]:
            assert NAB_WINDOW_TIME.match(start) and NAB_WINDOW_TIME.match(end)
            spans.append((row_of.get(ns(start), -1),
                          row_of.get(ns(end), -1)))
            assert spans[-1][0] >= 0 and spans[-1][1] >= 0, (name, start, end)
        assert all(a[1] < b[0] for a, b in zip(spans, spans[1:])), f"{name}: windows overlap"
        for t in labels[name]:
            assert any(s <= row_of[ns(t)] <= e for s, e in spans), (name, t)
        # The windows, recomputed from the JSONL truth: the episodes acting on this field or on
        # the whole device, each from its first tick's next row, with its messages.
        seqs = [r[0] for r in rows]
        first_tick, messages = {}, {}
        for seq, _, emitted, live in run.ticks[device]:
            for e in live:
                if run.episodes[e]["field"] not in (None, field):
                    continue
                first_tick.setdefault(e, seq)
                messages[e] = messages.get(e, 0) + (1 if emitted else 0)
        episodes = [(bisect.bisect_left(seqs, first_tick[e]), messages[e]) for e in first_tick]
        expected = nab_windows(episodes, len(rows))
        assert [list(span) for span in spans] == expected, name
        onsets = sorted({first for first, _ in episodes if first < len(rows)})
        assert [row_of[ns(t)] for t in labels[name]] == onsets, name
        checked_windows += len(expected)
    labelled = any(t[3] for ticks in run.ticks.values() for t in ticks)
    assert (checked_windows > 0) == labelled, "windows without anomalies, or none with them"
