#!/usr/bin/env bash
# Compares the build speed of the working tree with an earlier commit on
# this shared machine, whose speed drifts by ±20 % from minute to minute:
# both binaries build the same generated corpus in turn (old, new, old,
# new…), and the script prints each one's medians and the median of the
# pairwise ratios new/old, which the drift mostly cancels out of.
#
#   bash bench/compare.sh 904c36e             # 10k publications, 9 pairs
#   N=100000 PAIRS=3 bash bench/compare.sh HEAD~3
set -euo pipefail
rev=${1:?usage: bash bench/compare.sh REV   (N=10000 PAIRS=9 SCALE=1)}
n=${N:-10000}
pairs=${PAIRS:-9}
scale=${SCALE:-1}
cd "$(dirname "$0")/.."
work=${BENCH_DIR:-/tmp/bulletin-bench}
mkdir -p "$work/run"
old_src=$(mktemp -d)
trap 'git worktree remove --force "$old_src" >/dev/null 2>&1 || rm -rf "$old_src"' EXIT
git worktree add --detach "$old_src" "$rev" >/dev/null 2>&1
(cd "$old_src" && go build -o "$work/bulletin-old" ./cmd/bulletin)
go build -o "$work/bulletin-new" ./cmd/bulletin
go build -o "$work/gencorpus" ./bench/gencorpus
corpus="$work/corpus-$n-x$scale"
[ -d "$corpus" ] || "$work/gencorpus" -n "$n" -scale "$scale" -out "$corpus"

results=$(mktemp)
for _ in $(seq "$pairs"); do
  for which in old new; do
    out="$work/out-compare"
    rm -rf "$out"
    log=$(cd "$work/run" && /usr/bin/time -f '%e %U %S %M' "$work/bulletin-$which" build --content "$corpus" \
      --out "$out" --limit 0 --base-url https://example.org/ 2>&1 >/dev/null | tail -1)
    echo "$which $log" >>"$results"
  done
done
python3 - "$results" "$rev" "$n" <<'PY'
import statistics as st, sys
rows = {"old": [], "new": []}
for line in open(sys.argv[1]):
    which, wall, user, sys_, rss = line.split()
    rows[which].append((float(wall), float(user) + float(sys_), int(rss) / 1024))
print(f"{sys.argv[3]} publications, {len(rows['new'])} pairs, old = {sys.argv[2]}, new = working tree")
print(f"{'':6} {'wall (s)':>9} {'CPU (s)':>9} {'peak (MB)':>10}")
for which in ("old", "new"):
    r = rows[which]
    print(f"{which:6} {st.median(x[0] for x in r):9.2f} {st.median(x[1] for x in r):9.2f} {st.median(x[2] for x in r):10.0f}")
ratios = [n[0] / o[0] for o, n in zip(rows["old"], rows["new"])]
cpu = [n[1] / o[1] for o, n in zip(rows["old"], rows["new"])]
print(f"new/old: wall {st.median(ratios):.2f} (pairs {min(ratios):.2f}–{max(ratios):.2f}), CPU {st.median(cpu):.2f}")
PY
rm -f "$results"
