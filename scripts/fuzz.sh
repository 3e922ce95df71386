#!/usr/bin/env bash
# Runs every fuzz target of the library module for a while each:
#
#   scripts/fuzz.sh [duration] [package-pattern]
#
# duration is a -fuzztime value (default 10s); the pattern limits the run
# to packages whose path contains it (e.g. "shopify"). The targets are found
# by searching the test files for "func FuzzXxx(", so a new target is run
# without editing this script. Plain `go test` (and so scripts/test.sh)
# runs each target only on its seed corpus; this script searches beyond it.
#
# A crasher is written to the package's testdata/fuzz/FuzzXxx/ and fails
# the run: fix the code, keep the file as a regression case. Go 1.26's fuzz
# coordinator may report "context deadline exceeded" when -fuzztime ends
# while a worker is busy (go.dev/issue/75804); such a run wrote no crasher
# and is reported as a flake, not a failure.
set -uo pipefail
cd "$(dirname "$0")/.."

fuzztime=${1:-10s}
only=${2:-}

failed=0 flaked=0 ran=0 total_execs=0
while IFS= read -r line; do
  file=${line%%:*}
  target=$(sed -E 's/^[^:]*:func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")
  pkg=$(dirname "$file")
  [[ -n $only && $pkg != *"$only"* ]] && continue
  corpus="$(dirname "$file")/testdata/fuzz/$target"
  before=$(ls "$corpus" 2>/dev/null | sort)
  echo "== $pkg $target ($fuzztime)"
  out=$(go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg" 2>&1)
  status=$?
  ran=$((ran + 1))
  execs=$(grep -oE 'execs: [0-9]+' <<<"$out" | tail -1 | grep -oE '[0-9]+' || echo 0)
  total_execs=$((total_execs + ${execs:-0}))
  after=$(ls "$corpus" 2>/dev/null | sort)
  new=$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^$' || true)
  if [[ $status -eq 0 ]]; then
    echo "   ok, $execs execs"
  elif [[ -z $new ]] && grep -q 'context deadline exceeded' <<<"$out"; then
    flaked=$((flaked + 1))
    echo "   flake (deadline race, no crasher), $execs execs"
  else
    failed=$((failed + 1))
    echo "$out" | grep -v '^fuzz: elapsed'
    [[ -n $new ]] && echo "   crasher: $corpus/$new"
  fi
done < <(grep -rEo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(' . | grep -v '^./internal/conformance/' | sort)

echo "== $ran targets, $total_execs execs, $failed failed, $flaked flaked"
[[ $failed -eq 0 ]]
