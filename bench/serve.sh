#!/usr/bin/env bash
# Load benchmark of `bulletin serve` on 127.0.0.1: 10 s of wrk against the
# 50-item site feed, conditional requests (304) then full responses (200,
# identity and gzip). Needs wrk (apt-get install wrk).
#
#   bash bench/serve.sh                     # 3 runs of each, medians
#   RUNS=5 DURATION=10s CONNS=32 bash bench/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
duration=${DURATION:-10s}
conns=${CONNS:-32}
work=${BENCH_DIR:-/tmp/bulletin-bench}
port=${PORT:-18093}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 1; }
mkdir -p "$work/serve"
go build -o "$work/bulletin" ./cmd/bulletin
go build -o "$work/gencorpus" ./bench/gencorpus
corpus="$work/corpus-serve"
[ -d "$corpus" ] || "$work/gencorpus" -n 1000 -out "$corpus"

rm -f "$work/serve/bulletin.db"
(cd "$work/serve" && BULLETIN_STORE_DATABASE="$work/serve/bulletin.db" BULLETIN_DIGEST_SCHEDULE="" \
  BULLETIN_SITE_URL="http://127.0.0.1:$port/" "$work/bulletin" serve --content "$corpus" --addr "127.0.0.1:$port" \
  >"$work/serve/log" 2>&1) &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
url="http://127.0.0.1:$port/feed.xml"
for _ in $(seq 100); do curl -fs -o /dev/null "$url" && break; sleep 0.1; done
items=$(curl -fs "$url" | grep -c '<item>')
size=$(curl -fs "$url" | wc -c)
gzsize=$(curl -fs -H 'Accept-Encoding: gzip' "$url" | wc -c)
etag=$(curl -fsI "$url" | awk -F': ' 'tolower($1)=="etag" {print $2}' | tr -d '\r')
echo "feed: $url, $items items, $size bytes ($gzsize gzipped), ETag $etag"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# ms converts wrk's latency ("1.23ms", "850.00us", "1.02s") to milliseconds.
ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}'; }

bench() {
  local name=$1; shift
  local rps=() p99=() codes=""
  for _ in $(seq "$runs"); do
    out=$(wrk -t2 -c"$conns" -d"$duration" --latency "$@" "$url")
    rps+=("$(echo "$out" | awk '/Requests\/sec/ {print $2}')")
    p99+=("$(echo "$out" | awk '$1=="99%" {print $2}' | ms)")
    codes=$(echo "$out" | grep -E 'Non-2xx|Socket errors' || true)
  done
  printf '%-26s %12s %12s  %s\n' "$name" "$(printf '%s\n' "${rps[@]}" | median)" "$(printf '%s\n' "${p99[@]}" | median)" "$codes"
}
printf '%-26s %12s %12s\n' "requests" "req/s" "p99 (ms)"
bench "304 If-None-Match" -H "If-None-Match: $etag"
bench "200 identity" -H "Accept-Encoding: identity"
bench "200 gzip" -H "Accept-Encoding: gzip"
curl -fs "http://127.0.0.1:$port/metrics" | grep '^bulletin_feed_requests_total{feed="site rss"' || true
