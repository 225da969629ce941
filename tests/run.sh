#!/bin/sh
# tests/run.sh: runs each test program given, shows its failures, and ends with the
# total "N passed, N failed, N skipped". A program that crashes counts as one failure.
passed=0; failed=0; skipped=0
for t in "$@"; do
  name=$(basename "$t")
  out=$("$t" 2>&1); rc=$?
  line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
  if [ -z "$line" ]; then
    printf '%s\n' "$out" | tail -n 30
    echo "CRASH $name (exit $rc, no summary line)"
    failed=$((failed + 1)); continue
  fi
  p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
  f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
  s=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p'); s=${s:-0}
  printf '%s\n' "$out" | grep -E '^(FAIL|SKIP)|^  ' | head -n 60
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then echo "CRASH $name (exit $rc after its summary)"; f=1; fi
  echo "$name: $line"
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
