#!/usr/bin/env bash
# Runs the cachecore benchmarks (each beside its raw go-redis baseline, on
# the same real redis-server, in the same run) and prints the ratios that
# BENCHMARKS.md records, then the InvalidatePattern comparison against the
# redis-cli pipeline.
#
#   scripts/bench-cachecore.sh [count]     (default count 5)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

go test ./cachecore/ -run '^$' -bench 'GetHit|Bulk' -count "$count" -benchtime 2s | tee "$out"

# Median ns/op of each benchmark, then the ratios.
awk '
/^Benchmark/ {
  name=$1; sub(/-[0-9]+$/, "", name)
  for (i = 2; i < NF; i++) if ($(i+1) == "ns/op") v[name] = v[name] " " $i
}
function median(list,   a, n, i, j, t) {
  n = split(list, a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
  g = median(v["BenchmarkGetHit/cachecore"]); r = median(v["BenchmarkGetHit/raw"])
  o = median(v["BenchmarkGetHit/cachecore-getorset"])
  printf "\nGet hit:          cachecore %.1f us, raw GET+json %.1f us: cost %.3fx the raw round trip (target <= 1.05x)\n", g/1000, r/1000, g/r
  printf "GetOrSet hit:     %.1f us: cost %.3fx the raw round trip\n", o/1000, o/r
  a = median(v["BenchmarkBulk/mset/cachecore"]); b = median(v["BenchmarkBulk/mset/raw-pipeline"])
  printf "MSet 100k keys:   cachecore %.0f ms, raw pipeline %.0f ms: throughput %.2fx the raw pipeline (target >= 0.95x)\n", a/1e6, b/1e6, b/a
  a = median(v["BenchmarkBulk/mget/cachecore"]); b = median(v["BenchmarkBulk/mget/raw-pipeline"])
  printf "MGet 100k keys:   cachecore %.0f ms, raw pipeline %.0f ms: throughput %.2fx the raw pipeline (target >= 0.95x)\n", a/1e6, b/1e6, b/a
}' "$out"

echo
go run ./scripts/invalidatebench -rounds 3
