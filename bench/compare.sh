#!/usr/bin/env bash
# Old against new, in one run: bench/send.sh part (a) (SMTP in, RSA-2048
# signing, relay out; one signature) and bench/dns.sh part (c) (DKIM key
# answers under dnsperf) with the bench examples of an older commit and of
# the working tree, alternating, so that a change is checked for a regression
# against the run-to-run spread rather than against figures from another day.
# Usage (root, Debian 12): bash bench/compare.sh <old commit>   # ROUNDS=3 N=20000 SECONDS_=15 OLD_BINS=
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OLD=${1:?usage: bash bench/compare.sh <old commit>} ROUNDS=${ROUNDS:-3}
export N=${N:-20000} SECONDS_=${SECONDS_:-15}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/absender-compare.XXXXXX")
trap 'git worktree remove --force "$WORK/tree" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/old" "$WORK/new"
if [[ -n ${OLD_BINS:-} ]]; then
  # The old examples built before (a directory with bench_send and bench_dns).
  cp "$OLD_BINS/bench_send" "$OLD_BINS/bench_dns" "$WORK/old/"
else
  # One target dir for both builds: the dependencies they share compile once.
  git worktree add -q --detach "$WORK/tree" "$OLD"
  (cd "$WORK/tree" && CARGO_TARGET_DIR="$ROOT/target" cargo build -q --release -p absender --example bench_send --example bench_dns)
  cp target/release/examples/bench_send target/release/examples/bench_dns "$WORK/old/"
fi
cargo build -q --release -p absender --example bench_send --example bench_dns
cp target/release/examples/bench_send target/release/examples/bench_dns "$WORK/new/"

median() { sort -g | awk '{v[NR]=$1} END{printf "%.1f", (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
for round in $(seq "$ROUNDS"); do
  for side in old new; do
    send=$(BIN="$WORK/$side/bench_send" PARTS=a PEER=0 RUNS=3 bash bench/send.sh 2>/dev/null |
      sed -n 's/^absender: \([0-9.]*\) msg\/s with the customer.*/\1/p')
    dns=$(BIN="$WORK/$side/bench_dns" PARTS=c bash bench/dns.sh 2>/dev/null |
      sed -n 's/^absender dns: \([0-9.]*\) answers.*/\1/p')
    echo "round $round $side: send (a) $send msg/s, dns (c) $dns answers/s"
    echo "$send" >> "$WORK/$side.send"; echo "$dns" >> "$WORK/$side.dns"
  done
done
for side in old new; do
  echo "$side ($([[ $side == old ]] && git rev-parse --short "$OLD" || echo "working tree")): send (a) median $(median < "$WORK/$side.send") msg/s [$(paste -sd' ' "$WORK/$side.send")], dns (c) median $(median < "$WORK/$side.dns") answers/s [$(paste -sd' ' "$WORK/$side.dns")]"
done
