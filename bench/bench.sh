#!/usr/bin/env bash
# npm run bench -- --scenario ingest|orders|fanout [options]   (see docs/benchmarks.md)
# Raises the open-file limit first: the bench, its servers and its load generators inherit it
# (30,000 driver sockets are 30,000 descriptors on each side).
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec node --import tsx sim/src/bench/run.ts "$@"
