#!/usr/bin/env bash
# The loop a detector team runs: train on one labelled synthfeed run, detect on a held-back run
# (another seed), grade the detections with `synthfeed score`.
#
#   examples/detector/run.sh            # from the repository, after scripts/build release
#
# Environment: SYNTHFEED (the binary, default build/release/synthfeed), PYTHON (one with numpy
# and pandas, default python3), OUT (default out/detector), DEVICES (20), DURATION (1d),
# TRAIN_SEED (1), TEST_SEED (2). Writes OUT/{train,test}/, OUT/model.json,
# OUT/detections.csv and OUT/score.json; the score table goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
synthfeed=${SYNTHFEED:-$root/build/release/synthfeed}
python=${PYTHON:-python3}
out=${OUT:-$root/out/detector}
profile=$root/profiles/cold_chain.toml
[[ -x $synthfeed ]] || { echo "run.sh: $synthfeed is missing: build it (scripts/build release)" >&2; exit 2; }

# A labelled run: messages and labels as CSV (what the detector reads), episodes as JSONL.
generate() { # NAME SEED
  rm -rf "${out:?}/$1"
  mkdir -p "$out/$1"
  "$synthfeed" run "$profile" --seed "$2" --devices "${DEVICES:-20}" \
    --duration "${DURATION:-1d}" --start 2026-01-01T00:00:00Z --progress off \
    --format csv --sink "file:$out/$1/data.csv" \
    --labels "$out/$1/labels.csv" --labels-format csv --episodes "$out/$1/episodes.jsonl" \
    2> "$out/$1/run.log"
}

echo "1. training run (seed ${TRAIN_SEED:-1}) and the detector's thresholds" >&2
generate train "${TRAIN_SEED:-1}"
"$python" "$here/detector.py" train --data "$out/train/data.csv" \
  --labels "$out/train/labels.csv" --model "$out/model.json"

echo "2. held-back run (seed ${TEST_SEED:-2}) and its detections" >&2
generate test "${TEST_SEED:-2}"
"$python" "$here/detector.py" detect --data "$out/test/data.csv" --model "$out/model.json" \
  --out "$out/detections.csv"

echo "3. graded against the held-back run's truth" >&2
threshold=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["threshold"])' \
  "$out/model.json")
"$synthfeed" score --truth "$out/test/labels.csv" --episodes "$out/test/episodes.jsonl" \
  --detections "$out/detections.csv" --threshold "$threshold" --json "$out/score.json"
