#!/usr/bin/env bash
# Send benchmark of the email digest: messages per second and peak memory of
# the real sender (digest.Sender + mailer.SMTP + SQLite ledger) for 10k and
# 100k subscribers, next to a bare go-mail loop (the ceiling), against a
# local SMTP sink that discards. Each measurement runs RUNS times in a fresh
# process; the table shows medians.
#
#   bench/send.sh            # N = 10000 and 100000, 3 runs each
#   NS="10000" RUNS=5 bench/send.sh
set -euo pipefail
cd "$(dirname "$0")/.."
NS=${NS:-"10000 100000"}
RUNS=${RUNS:-3}
ADDR=${ADDR:-127.0.0.1:2525}
work=$(mktemp -d)
bin="$work/sendbench"
go build -o "$bin" ./bench/sendbench

"$bin" -sink "$ADDR" &
sink=$!
trap 'kill $sink 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do (echo >/dev/tcp/${ADDR%:*}/${ADDR#*:}) 2>/dev/null && break; sleep 0.1; done

results="$work/results.jsonl"
for n in $NS; do
  "$bin" -seed "$n" -db "$work/seed-$n.db"
  for run in $(seq "$RUNS"); do
    cp "$work/seed-$n.db" "$work/run.db"
    rm -f "$work/run.db-wal" "$work/run.db-shm"
    "$bin" -send -db "$work/run.db" -addr "$ADDR" -sinkpid "$sink" | tee -a "$results"
    "$bin" -ceiling -n "$n" -addr "$ADDR" -sinkpid "$sink" | tee -a "$results"
  done
done
echo
echo "$(nproc) CPUs, Go $(go env GOVERSION), $(date -u +%Y-%m-%d), load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin" -report "$results"
