#!/usr/bin/env bash
# The test command of examples/temporal, a module of its own (it needs the
# Temporal server and SDK, which the library never depends on): tidy check,
# vet and race tests on a Temporal server started in-process.
set -euo pipefail
cd "$(dirname "$0")/../examples/temporal"

# The Temporal server needs a newer Go than the library's; the go command
# fetches this toolchain once.
export GOTOOLCHAIN=go1.27.3

go mod tidy -diff
go vet ./...
# -vet=off: go vet ran just above; go test's own vet pass would analyse
# every dependency a second time.
go test -race -vet=off ./...
