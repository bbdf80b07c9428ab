#!/usr/bin/env python3
"""A small streaming-style anomaly detector for synthfeed's JSON messages: per device and
numeric field, a rolling z-score and a flat-line counter. It reads the CSV files of
`synthfeed run --format csv --labels-format csv`.

    level  |x - median of the previous WINDOW messages| / scale
           (scale: the field's spread around that median in normal training messages)
    flat   how many messages in a row have repeated the same value (a frozen sensor)

A message's score is max over its fields of max(level / LEVEL, flat / FLAT): 1 or more means
anomalous. `train` picks LEVEL and FLAT on a labelled run (the pair with the best point-wise F1
against synthfeed's labels) and writes them with the scales to a JSON model; `detect` scores
another run's messages and writes `device_id,seq,score` rows for `synthfeed score`.

    detector.py train  --data data.csv --labels labels.csv --model model.json
    detector.py detect --data data.csv --model model.json --out detections.csv

Needs numpy and pandas. Uses the past only (trailing windows), as a detector on a live stream
would; it never sees a dropout (no message, no value) and is not built for single spikes.
"""

import argparse
import json
import sys

import numpy as np
import pandas as pd

WINDOW = 3600  # messages: an hour at 1 Hz, longer than most door-open level shifts
LEVELS = [3, 4, 5, 6, 8, 10, 15]  # z-score thresholds tried in training
FLATS = [8, 12, 16, 24, 32, 64]  # repeated-value run lengths tried in training
KEYS = {"device_id", "seq", "ts"}


def read_messages(path: str) -> pd.DataFrame:
    """A run's messages (`run --format csv`) with their numeric fields; text fields (a state,
    a merchant) are left out."""
    df = pd.read_csv(path).drop_duplicates(["device_id", "seq"])  # a resent message
    fields = [c for c in df.columns if c not in KEYS and pd.api.types.is_numeric_dtype(df[c])]
    return df[["device_id", "seq", *fields]].sort_values(["device_id", "seq"], kind="stable")


def features(df: pd.DataFrame, fields: list) -> dict:
    """Per field: the residual from the trailing median, and the flat-run length."""
    out = {}
    by_device = df.groupby("device_id", sort=False)
    for f in fields:
        x = df[f].astype(float)
        median = by_device[f].transform(
            lambda s: s.rolling(WINDOW, min_periods=30).median().shift(1))
        changed = (x != by_device[f].shift(1)) | (df["device_id"] != df["device_id"].shift(1))
        run = changed.cumsum()
        flat = df.groupby(run).cumcount()  # 0 on a new value, then 1, 2, ... while it repeats
        out[f] = ((x - median).to_numpy(), flat.to_numpy())
    return out


def scores(feats: dict, scales: dict, level: float, flat: float) -> np.ndarray:
    total = None
    for f, (residual, run) in feats.items():
        s = np.maximum(np.nan_to_num(np.abs(residual) / scales[f] / level), run / flat)
        total = s if total is None else np.maximum(total, s)
    return total


def f1(predicted: np.ndarray, truth: np.ndarray) -> float:
    tp = np.sum(predicted & truth)
    fp = np.sum(predicted & ~truth)
    fn = np.sum(~predicted & truth)
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def train(args) -> None:
    df = read_messages(args.data)
    labels = pd.read_csv(args.labels, usecols=["device_id", "seq", "is_anomaly"])
    df = df.merge(labels, on=["device_id", "seq"], how="left")
    truth = (df["is_anomaly"].fillna(0) == 1).to_numpy()
    fields = [c for c in df.columns if c not in KEYS | {"is_anomaly"}]
    feats = features(df, fields)
    scales = {}
    for f, (residual, _) in feats.items():
        normal = residual[~truth & np.isfinite(residual)]
        scales[f] = float(np.std(normal)) or 1.0
    best = max(((f1(scores(feats, scales, lv, fl) >= 1, truth), lv, fl)
                for lv in LEVELS for fl in FLATS))
    model = {"window": WINDOW, "scales": scales, "level": best[1], "flat": best[2],
             "threshold": 1.0, "train_f1": best[0]}
    with open(args.model, "w") as f:
        json.dump(model, f, indent=2)
    print(f"trained on {len(df)} messages: level {best[1]}, flat {best[2]}, "
          f"point F1 {best[0]:.3f}", file=sys.stderr)


def detect(args) -> None:
    with open(args.model) as f:
        model = json.load(f)
    df = read_messages(args.data)
    fields = [c for c in df.columns if c in model["scales"]]
    s = scores(features(df, fields), model["scales"], model["level"], model["flat"])
    pd.DataFrame({"device_id": df["device_id"], "seq": df["seq"], "score": np.round(s, 4)}).to_csv(
        args.out, index=False)
    print(f"scored {len(df)} messages, {int(np.sum(s >= model['threshold']))} at or above "
          f"{model['threshold']}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train", help="choose thresholds on a labelled run")
    t.add_argument("--data", required=True)
    t.add_argument("--labels", required=True)
    t.add_argument("--model", required=True)
    d = commands.add_parser("detect", help="score a run's messages")
    d.add_argument("--data", required=True)
    d.add_argument("--model", required=True)
    d.add_argument("--out", required=True)
    args = parser.parse_args()
    train(args) if args.command == "train" else detect(args)


if __name__ == "__main__":
    main()
