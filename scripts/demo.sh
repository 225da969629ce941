#!/bin/sh
# scripts/demo.sh: runs the whole pipeline on the bundled example with the shipped models
# (models/), then scores the transcription against the example's ground truth.
#   sh scripts/demo.sh [OUTDIR]        (default out/demo; needs `make` first)
set -e
cd "$(dirname "$0")/.."
out=${1:-out/demo}
for t in amt-infer amt-eval; do
  [ -x bin/$t ] || { echo "demo: bin/$t is missing: run 'make' first" >&2; exit 1; }
done
mkdir -p "$out"
echo "== amt-infer examples/piano.flac -o $out (models in models/)"
bin/amt-infer examples/piano.flac -o "$out" --models models
echo
echo "== amt-eval notes: the transcription against examples/piano.notes.tsv"
ref=$(mktemp -d)
trap 'rm -rf "$ref"' EXIT
cp examples/piano.notes.tsv "$ref/piano.notes.tsv"
bin/amt-eval notes --ref "$ref" --est "$out"
echo
echo "outputs in $out/:"
ls -1 "$out"
