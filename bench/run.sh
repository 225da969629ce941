#!/bin/sh
# bench/run.sh: `make bench`. Runs the benchmark programs given (each prints one JSON object
# on stdout), the PyTorch twins of the layer benchmarks (bench/bench_layers_torch.py) and the
# same-run model comparison against PyTorch (bench/compare_torch.py, which runs bench_models),
# keeps every raw output in bench/results/raw/, then joins them with bench/bench_report.py
# into ONE bench/results/bench.json (+ bench.md) and prints the markdown summary with the
# issue-2 targets marked. PyTorch parts print {"skipped": ...} when python3-torch is absent;
# without /usr/bin/python3 bench.json is just the raw outputs keyed "NAME-tT-rR".
#
# A program whose source takes "--threads" runs at 1 and 2 threads, others once.
# Order at each thread count: bench_sgemm, then LAYER_REPS x (bench_conv, bench_lstm,
# PyTorch twins) interleaved so host noise hits ours and PyTorch alike (best of each kept).
# Knobs (environment; defaults keep `make bench` under ~13 min even on the busy 2-vCPU host):
#   AMT_BENCH_THREADS="1 2"  AMT_BENCH_LAYER_REPS=2  AMT_BENCH_SGEMM_SECONDS=0.5
#   AMT_BENCH_LSTM_REPS=3 (bench_lstm --reps and the PyTorch twin's --lstm-reps; conv keeps
#   bench_conv's default 2 reps on both sides)
#   AMT_BENCH_STEPS=10 AMT_BENCH_WARMUP=3 AMT_BENCH_REPEAT=3  (compare_torch, per model/threads;
#   6 x 2 let one transient dip decide a 2-thread ratio: separator 1.28x once, 1.48-1.49x
#   in three reruns of 10 x 3)
#   AMT_BENCH_PASSIVE_AB=0  (1: also time our 2-thread models with OMP_WAIT_POLICY=passive)
BUILD=${BUILD:-build}
THREADS=${AMT_BENCH_THREADS:-1 2}
LAYER_REPS=${AMT_BENCH_LAYER_REPS:-2}
SGEMM_SECONDS=${AMT_BENCH_SGEMM_SECONDS:-0.5}
LSTM_REPS=${AMT_BENCH_LSTM_REPS:-3}
STEPS=${AMT_BENCH_STEPS:-10}
WARMUP=${AMT_BENCH_WARMUP:-3}
REPEAT=${AMT_BENCH_REPEAT:-3}
PASSIVE_AB=${AMT_BENCH_PASSIVE_AB:-0}
PY=/usr/bin/python3
out=bench/results
raw=$out/raw
mkdir -p "$raw"
rm -f "$raw"/*.json
t_start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# run NAME FILE CMD...: CMD's stdout -> $raw/FILE.json (kept only when the command succeeds)
run() {
    name=$1; file=$2; shift 2
    echo "bench: $name ($file)" >&2
    if "$@" > "$raw/$file.tmp"; then mv "$raw/$file.tmp" "$raw/$file.json"
    else echo "bench: $name failed" >&2; rm -f "$raw/$file.tmp"; fi
}

has_threads() { grep -q -e '"--threads"' "bench/$(basename "$1").c" 2>/dev/null; }
prog() { for b in $BENCHES; do [ "$(basename "$b")" = "$1" ] && echo "$b"; done; }

BENCHES="$*"
SGEMM=$(prog bench_sgemm); CONV=$(prog bench_conv); LSTM=$(prog bench_lstm)
MODELS=$(prog bench_models)

for t in $THREADS; do
    [ -n "$SGEMM" ] && run bench_sgemm "bench_sgemm-t$t-r1" "$SGEMM" --threads "$t" --seconds "$SGEMM_SECONDS"
    r=1
    while [ "$r" -le "$LAYER_REPS" ]; do
        [ -n "$CONV" ] && run bench_conv "bench_conv-t$t-r$r" "$CONV" --threads "$t"
        [ -n "$LSTM" ] && run bench_lstm "bench_lstm-t$t-r$r" "$LSTM" --threads "$t" --reps "$LSTM_REPS"
        [ -x "$PY" ] && run bench_layers_torch "bench_layers_torch-t$t-r$r" "$PY" bench/bench_layers_torch.py --threads "$t" --lstm-reps "$LSTM_REPS"
        r=$((r + 1))
    done
    # any other multi-thread benchmark
    for b in $BENCHES; do
        case $(basename "$b") in bench_sgemm|bench_conv|bench_lstm|bench_models) continue ;; esac
        has_threads "$b" && run "$(basename "$b")" "$(basename "$b")-t$t-r1" "$b" --threads "$t"
    done
done
# benchmarks without --threads: once
for b in $BENCHES; do
    case $(basename "$b") in bench_models) continue ;; esac
    has_threads "$b" || run "$(basename "$b")" "$(basename "$b")" "$b"
done
# reference models, ours vs PyTorch, interleaved (runs bench_models itself)
if [ -n "$MODELS" ] && [ -x "$PY" ]; then
    pas=""; [ "$PASSIVE_AB" = 1 ] && pas=--passive-ab
    run compare_torch compare_torch "$PY" bench/compare_torch.py --bin "$MODELS" \
        --threads "$(echo $THREADS | tr ' ' ',')" --steps "$STEPS" --warmup "$WARMUP" --repeat "$REPEAT" $pas
elif [ -n "$MODELS" ]; then
    for t in $THREADS; do run bench_models "bench_models-t$t-r1" "$MODELS" --threads "$t" --steps "$STEPS" --warmup "$WARMUP"; done
fi
# inference speed + memory, ours vs Basic Pitch (issue 5; a shell script, once, when present)
[ -f bench/bench_infer.sh ] && run bench_infer bench_infer env BUILD="$BUILD" sh bench/bench_infer.sh

wall=$(( $(date +%s) - t_start ))
echo "bench: done in $wall s" >&2
settings="threads [$THREADS], layer benchmarks interleaved x$LAYER_REPS (best kept), sgemm $SGEMM_SECONDS s/shape, LSTM best of $LSTM_REPS, conv best of 2, models: $STEPS timed steps after $WARMUP warm-up, median of $REPEAT interleaved repeats, passive A/B $PASSIVE_AB; wall $wall s; loadavg start $load_start, end $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -x "$PY" ]; then
    AMT_BENCH_SETTINGS="$settings" "$PY" bench/bench_report.py "$raw" "$out/bench.json" "$out/bench.md"
    echo "(full JSON: $out/bench.json; $settings)"
else
    {
        echo "{"
        sep=""
        for f in "$raw"/*.json; do
            [ -e "$f" ] || continue
            printf '%s"%s": ' "$sep" "$(basename "$f" .json)"; cat "$f"; sep=","
        done
        echo "}"
    } > "$out/bench.json"
    cat "$out/bench.json"
fi
