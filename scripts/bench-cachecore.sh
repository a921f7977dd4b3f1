#!/usr/bin/env bash
# Runs the cachecore benchmarks against a real redis-server, each beside its
# raw go-redis baseline in the same loop (so load on the machine hits both
# alike), prints the ratios BENCHMARKS.md records, then compares
# InvalidatePattern with the redis-cli pipeline.
#
#   scripts/bench-cachecore.sh [count]     (default count 3)
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-3}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

go test ./cachecore/ -run '^$' -bench 'GetHitPaired|Bulk$' -count "$count" -benchtime 5s | tee "$out"

# Median of each metric over the runs.
awk '
/^Benchmark/ {
  name=$1; sub(/-[0-9]+$/, "", name)
  for (i = 3; i < NF; i += 2) v[name "/" $(i+1)] = v[name "/" $(i+1)] " " $i
}
function median(list,   a, n, i, j, t) {
  n = split(list, a, " ")
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
END {
  p = "BenchmarkGetHitPaired/"
  printf "\nGet hit:          cachecore %.1f us, raw GET+json %.1f us: %.3fx the raw round trip (target <= 1.05x)\n", median(v[p "get-ns/op"])/1000, median(v[p "raw-ns/op"])/1000, median(v[p "get-ratio"])
  printf "GetOrSet hit:     cachecore %.1f us: %.3fx the raw round trip\n", median(v[p "getorset-ns/op"])/1000, median(v[p "getorset-ratio"])
  b = "BenchmarkBulk/"
  printf "MSet 100k keys:   cachecore %.0f ms, raw pipeline %.0f ms: throughput %.2fx the raw pipeline (target >= 0.95x)\n", median(v[b "cachecore-mset-ms"]), median(v[b "raw-mset-ms"]), median(v[b "mset-throughput-ratio"])
  printf "MGet 100k keys:   cachecore %.0f ms, raw pipeline %.0f ms: throughput %.2fx the raw pipeline (target >= 0.95x)\n", median(v[b "cachecore-mget-ms"]), median(v[b "raw-mget-ms"]), median(v[b "mget-throughput-ratio"])
}' "$out"

echo
go run ./scripts/invalidatebench -rounds 3
