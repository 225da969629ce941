#!/bin/sh
# bench/basic_pitch/score_maps.sh DATA_DIR OUT_DIR: Basic Pitch's quality on a MAPS-layout test
# set (e.g. one rendered by `amt-synth maps`), scored like ours with `amt-eval notes`.
#
#   1. every DATA_DIR/**/NAME.wav -> OUT_DIR/wav22050/SUB/NAME.wav (sox: 22050 Hz mono, 32-bit
#      float; the rate Basic Pitch's model runs at);
#   2. transcribe.mjs (WASM backend, 1 thread, Basic Pitch's default thresholds) -> one
#      MAPS note list OUT_DIR/est/SUB/NAME.txt per file; timing JSON -> OUT_DIR/basic_pitch.json;
#   3. amt-eval notes --ref DATA_DIR --est OUT_DIR/est (matched by relative path; frame,
#      note-onset and note-with-offset P/R/F1, mir_eval 0.7 rules) -> OUT_DIR/basic_pitch.scores.txt
#      (+ .json); OUT_DIR/summary.json = F1s as means over files and micro-averaged (matches
#      summed over files, the aggregation `amt-eval --model` reports);
#   4. with AMT_SCORE_OURS=1, also our amt-infer (--stages transcribe, 1 thread, models/) on the
#      same resampled files, scored the same way (OUT_DIR/ours/, ours.scores.*).
#
# Runs pinned to CPU 1 (`taskset -c 1`, when taskset exists); AMT_CPU=N picks another CPU,
# AMT_CPU= (empty) none. Needs sox, node and `npm ci` run in bench/basic_pitch. amt-eval is
# taken from $AMT_BIN (default: bin/, else the first build*/bin/amt-eval found).
set -eu
[ $# -eq 2 ] || { echo "usage: $0 DATA_DIR OUT_DIR" >&2; exit 2; }
data=$1; out=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
[ -d "$data" ] || { echo "$0: $data: no such directory" >&2; exit 2; }
[ -d "$here/node_modules/@spotify/basic-pitch" ] ||
    { echo "$0: run 'npm ci' in $here first" >&2; exit 1; }
command -v sox >/dev/null || { echo "$0: sox is not installed" >&2; exit 1; }
eval_bin=""
if [ -n "${AMT_BIN:-}" ]; then eval_bin=$AMT_BIN/amt-eval
else
    for e in "$root/bin/amt-eval" "$root"/build*/bin/amt-eval; do
        if [ -x "$e" ]; then eval_bin=$e; break; fi
    done
fi
if [ -z "$eval_bin" ] || [ ! -x "$eval_bin" ]; then
    echo "$0: amt-eval not found (set AMT_BIN to the tools' directory)" >&2; exit 1
fi
cpu=${AMT_CPU-1}
pin=""
[ -n "$cpu" ] && command -v taskset >/dev/null && pin="taskset -c $cpu"

data=$(cd "$data" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
wav=$out/wav22050
rm -rf "$out/est"
mkdir -p "$wav" "$out/est"

# 1. resample (the same audio Basic Pitch would resample to internally)
list=$out/files.txt
: > "$list"
(cd "$data" && find . -name '*.wav' | sed 's|^\./||' | LC_ALL=C sort) | while IFS= read -r rel; do
    mkdir -p "$wav/$(dirname "$rel")"
    [ -s "$wav/$rel" ] || sox "$data/$rel" -e floating-point -b 32 -r 22050 -c 1 "$wav/$rel"
    printf '%s\n' "$wav/$rel" >> "$list"
done
n=$(wc -l < "$list")
echo "score_maps: $n files resampled to $wav" >&2

# 2. transcribe (one node process: the model loads once)
set --
while IFS= read -r f; do set -- "$@" "$f"; done < "$list"
OMP_NUM_THREADS=1 $pin node "$here/transcribe.mjs" --threads 1 --out "$out/est" --rel-to "$wav" \
    "$@" > "$out/basic_pitch.json"
echo "score_maps: transcribed; timing in $out/basic_pitch.json" >&2

# score EST_DIR NAME: amt-eval notes -> OUT_DIR/NAME.scores.txt (table) and .json; prints the
# means over files and the micro averages (matches summed over files, as `amt-eval --model`)
score() {
    "$eval_bin" notes --ref "$data" --est "$1" > "$out/$2.scores.txt" || return 1
    "$eval_bin" notes --json --ref "$data" --est "$1" > "$out/$2.scores.json" || return 1
    grep -e '^mean' -e '^frame micro' "$out/$2.scores.txt" >&2
    [ -x /usr/bin/python3 ] || return 0
    /usr/bin/python3 - "$out/$2.scores.json" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def micro(key):
    tp = sum(f[key]["recall"] * f["n_ref"] for f in d["files"])
    nr = sum(f["n_ref"] for f in d["files"]); ne = sum(f["n_est"] for f in d["files"])
    p, r = (tp / ne if ne else 0.0), (tp / nr if nr else 0.0)
    return round(2 * p * r / (p + r) if p + r else 0.0, 4)
m = d["mean"]
print(json.dumps({"system": sys.argv[2], "files": d["files_scored"],
                  "mean_over_files": {"frame_f1": round(m["frame"]["f1"], 4), "note_f1": round(m["note"]["f1"], 4),
                                      "note_offset_f1": round(m["note_offset"]["f1"], 4)},
                  "micro": {"frame_f1": round(d["frame_micro"]["f1"], 4), "note_f1": micro("note"),
                            "note_offset_f1": micro("note_offset")}}))
PY
}

# 3. score
score "$out/est" basic_pitch | tee "$out/summary.json"

# 4. optional: ours on the very same resampled audio and scorer (AMT_SCORE_OURS=1)
if [ "${AMT_SCORE_OURS:-0}" = 1 ]; then
    infer_bin=$(dirname "$eval_bin")/amt-infer
    rm -rf "$out/ours"
    (cd "$wav" && find . -name '*.wav' | sed 's|^\./||; s|/[^/]*$||' | LC_ALL=C sort -u) |
    while IFS= read -r sub; do
        OMP_NUM_THREADS=1 $pin "$infer_bin" -q --stages transcribe --threads 1 \
            --models "${AMT_MODELS:-$root/models}" "$wav/$sub" -o "$out/ours/$sub" > /dev/null ||
            { echo "$0: amt-infer failed on $wav/$sub" >&2; exit 1; }
        for f in "$out/ours/$sub"/*.notes.tsv; do mv "$f" "${f%.notes.tsv}.tsv"; done
        rm -f "$out/ours/$sub"/*.notes.json "$out/ours/$sub"/*.mid "$out/ours/$sub"/*.png
    done || exit 1
    score "$out/ours" ours | tee -a "$out/summary.json"
fi
