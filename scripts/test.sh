#!/usr/bin/env bash
# The one test command: vet, race tests and one pass of every benchmark in
# the library module and in the conformance module.
set -euo pipefail
cd "$(dirname "$0")/.."

for mod in . internal/conformance; do
  echo "== $mod"
  (
    cd "$mod"
    go mod tidy -diff
    go vet ./...
    # -v, filtered: the package results plus any skipped test, so that a
    # missing ../shared shows instead of passing quietly.
    if ! out=$(go test -race -v ./... 2>&1); then
      echo "$out" | grep -vE '^(=== (RUN|PAUSE|CONT|NAME)|--- PASS|PASS$)' | grep -vE '^\s+--- PASS'
      exit 1
    fi
    echo "$out" | grep -E '^(ok|FAIL|\?)\s|--- SKIP|skipping' || true
  )
done

echo "== benchmarks (one iteration each)"
go test -run '^$' -bench . -benchtime 1x ./...
