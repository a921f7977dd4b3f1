#!/usr/bin/env bash
# Measures cachescope beside its peers in one run and prints one table:
# plain go-redis, go-redis's AutoPipeline and client-side cache, rueidis,
# go-redis/cache, redis_rate, and redis-cli for the tools. It starts its
# own redis-server processes on free loopback ports (redis-server and
# redis-cli must be on PATH) and stops them when it ends. About 5 minutes
# on a 2-core machine.
#
#   bench/run.sh                       # every measure
#   bench/run.sh -only 1,2 -rounds 5   # some measures, more rounds
#   bench/run.sh -markdown table.md    # also write the table as Markdown
#
# The exit status is non-zero when a measure fails to run (not when a
# target is missed: the table says that).
set -euo pipefail
cd "$(dirname "$0")"
for tool in redis-server redis-cli go; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool not found on PATH" >&2; exit 2; }
done
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/cachescope-bench" .
"$bin/cachescope-bench" -root .. "$@"
