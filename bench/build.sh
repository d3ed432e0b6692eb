#!/usr/bin/env bash
# Build benchmark: generates N synthetic publications shaped like the bundled
# sample (bench/gencorpus), builds every feed with every item (--limit 0) and
# prints the median wall time and peak memory of RUNS builds per size.
#
#   bash bench/build.sh                 # N = 1k, 10k, 100k, 5 runs each
#   SIZES="10000" RUNS=9 bash bench/build.sh
#   SCALE=2 bash bench/build.sh         # bodies like the shared corpus' median
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES:-"1000 10000 100000"}
runs=${RUNS:-5}
scale=${SCALE:-1}
work=${BENCH_DIR:-/tmp/bulletin-bench}
mkdir -p "$work"
go build -o "$work/bulletin" ./cmd/bulletin
go build -o "$work/gencorpus" ./bench/gencorpus
# An empty folder as working directory: no bulletin.yaml, defaults only.
mkdir -p "$work/run"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-8s %-6s %10s %10s %12s %10s %12s\n' "N" "scale" "wall (s)" "CPU (s)" "peak (MB)" "out (MB)" "µs/pub"
for n in $sizes; do
  corpus="$work/corpus-$n-x$scale"
  if [ ! -d "$corpus" ]; then
    "$work/gencorpus" -n "$n" -scale "$scale" -out "$corpus"
  fi
  walls=() cpus=() mems=()
  for _ in $(seq "$runs"); do
    out="$work/out-$n"
    rm -rf "$out"
    log=$(cd "$work/run" && /usr/bin/time -v "$work/bulletin" build --content "$corpus" --out "$out" \
      --limit 0 --base-url https://example.org/ 2>&1 >/dev/null)
    wall=$(echo "$log" | awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}')
    user=$(echo "$log" | awk -F': ' '/User time/ {print $2}')
    sys=$(echo "$log" | awk -F': ' '/System time/ {print $2}')
    mem=$(echo "$log" | awk -F': ' '/Maximum resident set size/ {print $2/1024}')
    walls+=("$wall") cpus+=("$(echo "$user + $sys" | bc)") mems+=("$mem")
  done
  size=$(du -sm "$work/out-$n" | cut -f1)
  w=$(printf '%s\n' "${walls[@]}" | median)
  c=$(printf '%s\n' "${cpus[@]}" | median)
  m=$(printf '%s\n' "${mems[@]}" | median)
  per=$(echo "$w * 1000000 / $n" | bc)
  printf '%-8s %-6s %10.2f %10.2f %12.0f %10s %12s\n' "$n" "x$scale" "$w" "$c" "$m" "$size" "$per"
done
