#!/usr/bin/env bash
# How far bulletin's build is from the least work any goldmark-based build
# must do (bench/floor: read the files, render the bodies with goldmark and
# the same GFM extensions, write as many bytes as bulletin's feeds hold).
# Both run in turn on the same generated corpus (bulletin, floor, bulletin,
# floor…), so that the machine's drift affects both alike; the script
# prints each one's medians and the median of the pairwise ratios.
#
#   bash bench/floor.sh                  # 10k publications, 7 pairs
#   N=100000 PAIRS=3 bash bench/floor.sh
set -euo pipefail
n=${N:-10000}
pairs=${PAIRS:-7}
scale=${SCALE:-1}
cd "$(dirname "$0")/.."
work=${BENCH_DIR:-/tmp/bulletin-bench}
mkdir -p "$work/run"
go build -o "$work/bulletin" ./cmd/bulletin
go build -o "$work/floor" ./bench/floor
go build -o "$work/gencorpus" ./bench/gencorpus
corpus="$work/corpus-$n-x$scale"
[ -d "$corpus" ] || "$work/gencorpus" -n "$n" -scale "$scale" -out "$corpus"

results=$(mktemp)
trap 'rm -f "$results"' EXIT
size=0
for _ in $(seq "$pairs"); do
  out="$work/out-floor"
  rm -rf "$out"
  log=$(cd "$work/run" && /usr/bin/time -f '%e %U %S %M' "$work/bulletin" build --content "$corpus" \
    --out "$out" --limit 0 --base-url https://example.org/ 2>&1 >/dev/null | tail -1)
  echo "bulletin $log" >>"$results"
  [ "$size" -gt 0 ] || size=$(du -sb "$out" | cut -f1)
  rm -rf "$out"
  log=$(/usr/bin/time -f '%e %U %S %M' "$work/floor" -content "$corpus" -out "$out" -bytes "$size" 2>&1 | tail -1)
  echo "floor $log" >>"$results"
done
rm -rf "$work/out-floor"
python3 - "$results" "$n" "$size" <<'PY'
import statistics as st, sys
rows = {"bulletin": [], "floor": []}
for line in open(sys.argv[1]):
    which, wall, user, sys_, rss = line.split()
    rows[which].append((float(wall), float(user) + float(sys_), int(rss) / 1024))
print(f"{sys.argv[2]} publications, {len(rows['floor'])} pairs, {int(sys.argv[3]) / 1e6:.0f} MB written by each")
print(f"{'':9} {'wall (s)':>9} {'CPU (s)':>9} {'peak (MB)':>10}")
for which in ("bulletin", "floor"):
    r = rows[which]
    print(f"{which:9} {st.median(x[0] for x in r):9.2f} {st.median(x[1] for x in r):9.2f} {st.median(x[2] for x in r):10.0f}")
wall = [b[0] / f[0] for b, f in zip(rows["bulletin"], rows["floor"])]
cpu = [b[1] / f[1] for b, f in zip(rows["bulletin"], rows["floor"])]
print(f"bulletin/floor: wall {st.median(wall):.2f} (pairs {min(wall):.2f}–{max(wall):.2f}), CPU {st.median(cpu):.2f}")
PY
