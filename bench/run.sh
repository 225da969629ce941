#!/bin/sh
# bench/run.sh: runs each benchmark program given (each prints one JSON object on stdout)
# at 1 and 2 threads where it takes --threads, then the same-run PyTorch comparison
# (bench/compare_torch.py, skipped when python3-torch is absent). Collects everything into
# bench/results/bench.json as {"NAME[-tN]": {...}, ...} and prints it.
out=bench/results/bench.json
mkdir -p bench/results
BUILD=${BUILD:-build}
{
  echo "{"
  sep=""
  for b in "$@"; do
    name=$(basename "$b")
    [ "$name" = bench_models ] && continue   # run inside compare_torch below
    for t in 1 2; do
      echo "running $name --threads $t" >&2
      res=$("$b" --threads $t) || { echo "$name failed" >&2; continue; }
      printf '%s"%s-t%s": %s\n' "$sep" "$name" "$t" "$res"
      sep=","
    done
  done
  if [ -x "$BUILD/bench/bench_models" ]; then
    for t in 1 2; do
      echo "running bench_models --threads $t" >&2
      res=$("$BUILD/bench/bench_models" --threads $t) && { printf '%s"bench_models-t%s": %s\n' "$sep" "$t" "$res"; sep=","; }
    done
    if [ -x /usr/bin/python3 ]; then
      res=$(/usr/bin/python3 bench/compare_torch.py --bin "$BUILD/bench/bench_models") && \
        printf '%s"compare_torch": %s\n' "$sep" "$res"
    fi
  fi
  echo "}"
} > "$out"
cat "$out"
