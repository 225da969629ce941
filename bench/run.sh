#!/bin/sh
# bench/run.sh: runs each benchmark program; each prints one JSON object on stdout.
# Collects them into bench/results/bench.json as {"name": {...}, ...}.
out=bench/results/bench.json
mkdir -p bench/results
{
  echo "{"
  first=1
  for b in "$@"; do
    name=$(basename "$b")
    echo "running $name" >&2
    res=$("$b") || { echo "$name failed" >&2; continue; }
    [ $first = 1 ] || echo ","
    first=0
    printf '"%s": %s\n' "$name" "$res"
  done
  echo "}"
} > "$out"
cat "$out"
