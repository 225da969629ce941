#!/bin/sh
# bench/bench_infer.sh: inference speed and memory of our piano transcriber, and Spotify's
# Basic Pitch on the same audio (issue 5). Prints ONE JSON object on stdout (progress on
# stderr); bench/run.sh runs it at the end of `make bench` (raw/bench_infer.json).
#
#   (a) test audio: examples/piano.flac (21 s, 22050 Hz mono, in the repository) looped with
#       sox to 60 s and to 600 s, written as 22050 Hz mono 32-bit float WAV (Basic Pitch's
#       model rate, so both systems read the very same samples);
#   (b) `amt-infer --stages transcribe FILE60 --threads 1` and `--threads 2`, best of REPS runs
#       each; x real time = audio seconds / amt-infer's own batch wall time (reading the audio,
#       features, model, note decoding and writing .mid/.tsv/.json/.png; model load excluded);
#   (c) peak memory (max RSS) of `amt-infer --stages transcribe FILE600 --threads 1`, from GNU
#       time's %M when /usr/bin/time exists, and amt-infer's own getrusage figure;
#   (d) Basic Pitch (bench/basic_pitch/transcribe.mjs: TensorFlow.js WASM backend, 1 thread,
#       its default thresholds) on FILE60 when bench/basic_pitch/node_modules exists (`npm ci`
#       there), else {"skipped": ...}; its wall time is model + note creation (Node start-up,
#       model load, a warm-up window, WAV reading and TSV writing excluded); peak RSS of node.
#   speed_ratio_t1 = ours x real time (1 thread) / Basic Pitch x real time (1 thread);
#   speed_ratio_t1_cpu = the same with CPU seconds instead of wall seconds (less sensitive to
#   other jobs on the pinned CPU; ours counts the whole process, model load included).
#
# Timing runs are pinned to one CPU (default CPU 1: `taskset -c 1`, when taskset exists and the
# host has 2+ CPUs); the 2-thread run is not pinned. On the shared development host CPU 0 runs
# a training job, so 2-thread figures there are low.
# Environment: BUILD (tools in bin/ for build, else $BUILD/bin) or AMT_BIN (the tools' dir);
#   AMT_MODELS (default models/); AMT_CPU=1 (empty: no pinning); AMT_BENCH_INFER_REPS=3;
#   AMT_BENCH_INFER_SECONDS=60; AMT_BENCH_INFER_LONG_SECONDS=600 (0: skip (c)).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
if [ -n "${AMT_BIN:-}" ]; then bin=$AMT_BIN
elif [ "$BUILD" = build ]; then bin=bin
else bin=$BUILD/bin
fi
models=${AMT_MODELS:-models}
reps=${AMT_BENCH_INFER_REPS:-3}
secs=${AMT_BENCH_INFER_SECONDS:-60}
long=${AMT_BENCH_INFER_LONG_SECONDS:-600}
src=examples/piano.flac
bp_dir=bench/basic_pitch

fail() { echo "bench_infer: $*" >&2; printf '{"error": "%s"}\n' "$*"; exit 1; }
[ -x "$bin/amt-infer" ] || fail "$bin/amt-infer not found (build the tools or set AMT_BIN)"
[ -f "$models/transcriber-piano.h5" ] || fail "$models/transcriber-piano.h5 not found"
[ -f "$src" ] || fail "$src not found"
command -v sox >/dev/null || fail "sox is not installed"

cpu=${AMT_CPU-1}
pin=""
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
if [ -n "$cpu" ] && [ "$ncpu" -gt "$cpu" ] && command -v taskset >/dev/null; then
    pin="taskset -c $cpu"
else
    cpu=""
fi
gtime=""
[ -x /usr/bin/time ] && /usr/bin/time -f %M true >/dev/null 2>&1 && gtime=/usr/bin/time
# timed FILE CMD...: runs CMD; with GNU time, FILE's last line = "PEAK_RSS_KB USER_S SYS_S"
timed() {
    f=$1; shift
    if [ -n "$gtime" ]; then "$gtime" -f '%M %U %S' -o "$f" "$@"; else : > "$f"; "$@"; fi
}
kb_of() { tail -n 1 "$1" | awk 'NF == 3 { print $1 }'; }
cpu_of() { tail -n 1 "$1" | awk 'NF == 3 { printf "%.2f", $2 + $3 }'; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench_infer.XXXXXX") || fail "mktemp failed"
trap 'rm -rf "$tmp"' EXIT INT TERM

# loop SECONDS OUT: examples/piano.flac repeated to exactly SECONDS, 22050 Hz mono float WAV
loop() {
    n=$(awk -v s="$1" 'BEGIN { print int(s / 21) + 1 }')   # the example is 21.00 s
    sox "$src" -e floating-point -b 32 -r 22050 -c 1 "$2" repeat "$n" trim 0 "$1" ||
        fail "sox could not make $2"
}
# field NAME FILE: the number after "NAME" in amt-infer's summary line
#   "1 input done, 0 failed: 60.00 s of audio in 2.50 s = 24.0x real time (models loaded in
#    0.29 s, peak memory 121 MB); outputs in DIR"
summary() { grep 'real time (models loaded' "$1" | tail -n 1; }
audio_of() { summary "$1" | sed -n 's/.*failed: \([0-9.]*\) s of audio.*/\1/p'; }
wall_of() { summary "$1" | sed -n 's/.* s of audio in \([0-9.]*\) s = .*/\1/p'; }
peak_of() { summary "$1" | sed -n 's/.*peak memory \([0-9.]*\) MB.*/\1/p'; }

# lower X Y: true when X < Y (numbers)
lower() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x < y) }'; }
# ours THREADS PIN: best (lowest wall) of $reps runs on $tmp/in60.wav -> JSON object; cpu_s =
# the whole process's user + system seconds (GNU time; includes start-up and model load)
ours() {
    best=""; all=""; bcpu=""
    r=1
    while [ "$r" -le "$reps" ]; do
        echo "bench_infer: amt-infer --threads $1 run $r/$reps" >&2
        # shellcheck disable=SC2086
        OMP_NUM_THREADS=$1 timed "$tmp/t.txt" $2 "$bin/amt-infer" -q --stages transcribe \
            --models "$models" --threads "$1" "$tmp/in60.wav" -o "$tmp/ours" > "$tmp/ours.log" 2>&1 ||
            { cat "$tmp/ours.log" >&2; return 1; }
        w=$(wall_of "$tmp/ours.log"); a=$(audio_of "$tmp/ours.log"); c=$(cpu_of "$tmp/t.txt")
        if [ -z "$w" ] || [ -z "$a" ]; then echo "bench_infer: cannot parse amt-infer's summary" >&2; return 1; fi
        all="$all${all:+, }$w"
        if [ -z "$best" ] || lower "$w" "$best"; then best=$w; fi
        if [ -n "$c" ] && { [ -z "$bcpu" ] || lower "$c" "$bcpu"; }; then bcpu=$c; fi
        r=$((r + 1))
    done
    awk -v a="$a" -v w="$best" -v c="$bcpu" -v t="$1" -v all="$all" -v pin="${2:-none}" 'BEGIN {
        printf "{\"threads\": %d, \"pinned\": \"%s\", \"audio_s\": %s, \"wall_s\": %s, ", t, pin, a, w
        printf "\"x_real_time\": %.2f, \"real_time_factor\": %.4f, \"wall_s_all\": [%s], ", a / w, w / a, all
        if (c == "") printf "\"cpu_s\": null, \"x_real_time_cpu\": null}"
        else printf "\"cpu_s\": %s, \"x_real_time_cpu\": %.2f}", c, a / c }'
}

echo "bench_infer: making ${secs} s and ${long} s test files from $src" >&2
loop "$secs" "$tmp/in60.wav"

# (b) ours, 1 thread pinned, then 2 threads (not pinned)
ours1=$(ours 1 "$pin") || fail "amt-infer --threads 1 failed"
ours2=$(ours 2 "") || fail "amt-infer --threads 2 failed"

# (c) peak memory on the long file, 1 thread
if [ "$long" -gt 0 ]; then
    loop "$long" "$tmp/in600.wav"
    echo "bench_infer: amt-infer peak memory on ${long} s" >&2
    # shellcheck disable=SC2086
    OMP_NUM_THREADS=1 timed "$tmp/time.txt" $pin "$bin/amt-infer" -q --stages transcribe \
        --models "$models" --threads 1 "$tmp/in600.wav" -o "$tmp/long" > "$tmp/long.log" 2>&1 ||
        { cat "$tmp/long.log" >&2; fail "amt-infer on the long file failed"; }
    kb=$(kb_of "$tmp/time.txt")
    mem=$(awk -v kb="$kb" -v self="$(peak_of "$tmp/long.log")" -v a="$(audio_of "$tmp/long.log")" \
        -v w="$(wall_of "$tmp/long.log")" -v g="${gtime:-none}" 'BEGIN {
        printf "{\"audio_s\": %s, \"threads\": 1, \"peak_rss_mb\": %s, \"self_reported_peak_mb\": %s, ", a, kb == "" ? "null" : sprintf("%.1f", kb / 1024), self
        printf "\"x_real_time\": %.2f, \"measured_with\": \"%s\"}", a / w, g == "none" ? "getrusage in amt-infer" : "GNU time %M" }')
else
    mem='{"skipped": "AMT_BENCH_INFER_LONG_SECONDS=0"}'
fi

# (d) Basic Pitch, 1 thread, same 60 s file
bp='{"skipped": "bench/basic_pitch/node_modules missing (run npm ci in bench/basic_pitch)"}'
ratio=null
ratio_cpu=null
if [ -d "$bp_dir/node_modules/@spotify/basic-pitch" ] && command -v node >/dev/null; then
    echo "bench_infer: Basic Pitch (WASM, 1 thread)" >&2
    # shellcheck disable=SC2086
    if OMP_NUM_THREADS=1 timed "$tmp/bptime.txt" $pin node "$bp_dir/transcribe.mjs" --threads 1 \
        --out "$tmp/bp" "$tmp/in60.wav" > "$tmp/bp.json" 2> "$tmp/bp.err"; then
        # the summary part of its one-line JSON (the per-file list dropped)
        bp=$(sed 's/, *"files_ok".*$/}/' "$tmp/bp.json")
        bkb=$(kb_of "$tmp/bptime.txt")
        [ -n "$bkb" ] && bp=$(printf '%s' "$bp" | sed "s/}\$/, \"peak_rss_mb\": $(awk -v k="$bkb" 'BEGIN { printf "%.1f", k / 1024 }')}/")
        bx=$(printf '%s' "$bp" | sed -n 's/.*"x_real_time":\([0-9.]*\).*/\1/p')
        ox=$(printf '%s' "$ours1" | sed -n 's/.*"x_real_time": \([0-9.]*\).*/\1/p')
        [ -n "$bx" ] && [ -n "$ox" ] && ratio=$(awk -v o="$ox" -v b="$bx" 'BEGIN { printf "%.2f", o / b }')
        bc=$(printf '%s' "$bp" | sed -n 's/.*"x_real_time_cpu":\([0-9.]*\).*/\1/p')
        oc=$(printf '%s' "$ours1" | sed -n 's/.*"x_real_time_cpu": \([0-9.]*\).*/\1/p')
        [ -n "$bc" ] && [ -n "$oc" ] && ratio_cpu=$(awk -v o="$oc" -v b="$bc" 'BEGIN { printf "%.2f", o / b }')
    else
        cat "$tmp/bp.err" >&2
        bp='{"error": "bench/basic_pitch/transcribe.mjs failed (stderr above)"}'
    fi
elif ! command -v node >/dev/null; then
    bp='{"skipped": "node is not installed"}'
fi

load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
cat <<EOF
{"audio": "$src looped to $secs s (memory: $long s), 22050 Hz mono float WAV, same file for both systems",
 "model": "$models/transcriber-piano.h5", "pinned_cpu": "${cpu:-none}", "reps": $reps,
 "ours_t1": $ours1,
 "ours_t2": $ours2,
 "ours_t2_note": "not pinned; on the shared dev host CPU 0 runs training, so this is low",
 "ours_memory": $mem,
 "basic_pitch_t1": $bp,
 "speed_ratio_t1": $ratio,
 "speed_ratio_t1_cpu": $ratio_cpu,
 "speed_ratio_note": "ours x real time / Basic Pitch x real time, both 1 thread on the same CPU; ours includes audio reading and writing outputs, Basic Pitch's excludes WAV reading and TSV writing; _cpu: the same with CPU seconds (ours: whole process incl. model load; Basic Pitch: the timed span), robust to other jobs on the CPU",
 "loadavg_end": "$load"}
EOF
