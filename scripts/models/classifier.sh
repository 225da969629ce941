#!/bin/sh
# scripts/models/classifier.sh: retrains the shipped instrument classifier
# (models/classifier.h5) from scratch and scores it on clips rendered with a soundfont it
# never saw. Run from anywhere; works in the repository root.
#   AMT_BIN   tools directory (default bin)        DATA   render root (default data)
#   THREADS   training threads (default 1)         OUT    run directory (default runs/classifier)
# Steps (training: 12 epochs x 186 steps, 33 min at 1 thread on 2 shared cores, 17-51
# ex/s; rendering about 11 min; evaluation 1 min). Result (2026-11-24): validation
# accuracy 0.945 (epoch 10), unseen-soundfont clip accuracy 0.909, macro F1 0.905.
#   1. amt-synth irmas renders data/irmas-train: 2200 training clips of 3 s (200 per class,
#      IRMAS-TrainingData/<cls>/) + 220 multi-label testing clips (IRMAS-TestingData-Part1,
#      used to tune the multi-label threshold), soundfonts FluidR3_GM + TimGM6mb (the
#      default), seed 1; and data/irmas-test: 330 + 33 clips with the UNSEEN soundfont
#      sf_GMbank.sf2 (csound-soundfont), seed 2.
#   2. amt-train configs/classifier.ini (12 epochs, cosine lr, 10% of the training clips
#      held out for validation; every new best epoch is also written as a float16
#      checkpoint: models/classifier.h5).
#   3. amt-eval on the whole unseen-soundfont set: clip accuracy (target >= 0.80), per-class
#      recall, micro/macro F1, confusion matrix (OUT/test.confusion.png), multi-label scores.
set -eu
cd "$(dirname "$0")/../.."
BIN=${AMT_BIN:-bin}
DATA=${DATA:-data}
THREADS=${THREADS:-1}
OUT=${OUT:-runs/classifier}
SF_TEST=/usr/share/sounds/sf2/sf_GMbank.sf2

for t in amt-synth amt-train amt-eval; do
    [ -x "$BIN/$t" ] || { echo "classifier.sh: $BIN/$t missing: run make first" >&2; exit 1; }
done
[ -f "$SF_TEST" ] || { echo "classifier.sh: $SF_TEST missing (apt-get install csound-soundfont)" >&2; exit 1; }

[ -d "$DATA/irmas-train/IRMAS-TrainingData" ] ||
    "$BIN/amt-synth" irmas --out "$DATA/irmas-train" --count 2200 --seed 1
[ -d "$DATA/irmas-test/IRMAS-TrainingData" ] ||
    "$BIN/amt-synth" irmas --out "$DATA/irmas-test" --count 330 --seed 2 --soundfont "$SF_TEST"

mkdir -p models "$OUT"
"$BIN/amt-train" configs/classifier.ini --threads "$THREADS" --out "$OUT" \
    --set train.data_dir="$DATA/irmas-train" --set train.export_fp16=models/classifier.h5

"$BIN/amt-eval" --model models/classifier.h5 --data "$DATA/irmas-test" --split all \
    --out "$OUT/test.csv" | tee "$OUT/test.txt"
