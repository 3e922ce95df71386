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
    go test -race ./...
  )
done

echo "== benchmarks (one iteration each)"
go test -run '^$' -bench . -benchtime 1x ./...
