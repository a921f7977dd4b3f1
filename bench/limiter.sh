#!/usr/bin/env bash
# Compares cachecore's rate limiter with github.com/go-redis/redis_rate/v10
# on a redis-server that the benchmark starts itself (redis-server must be
# on PATH). Arguments go to the program, e.g. ./limiter.sh -rounds 7 -d 3s.
set -euo pipefail
cd "$(dirname "$0")"
echo "machine: $(nproc) CPUs"
exec go run ./limiterbench "$@"
