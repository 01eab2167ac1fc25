#!/usr/bin/env bash
# absender's DNS benchmarks, all on 127.0.0.1, bounded in count and time:
#  (a) checking N identities (records published in a local zone) until all are SUCCESS;
#  (b) publishing an identity's last record, then "check now": time until SUCCESS;
#  (c) DKIM key answers per second under dnsperf, side by side with NSD serving an
#      equivalent zone in the same run (../shared/bench/peer-nsd.sh).
# Usage (root, Debian 12): bash bench/dns.sh      # PARTS=abc N=10000 PUBLISH=20 KEYS=1000 SECONDS_=15 CLIENTS=4
set -euo pipefail
cd "$(dirname "$0")/.."
PARTS=${PARTS:-abc} N=${N:-10000} PUBLISH=${PUBLISH:-20} KEYS=${KEYS:-1000} DURATION=${SECONDS_:-15} CLIENTS=${CLIENTS:-4}
PEER=${PEER:-../shared/bench/peer-nsd.sh}
command -v nsd >/dev/null && command -v dnsperf >/dev/null && command -v dig >/dev/null || {
  apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q nsd dnsperf dnsutils >/dev/null; }
cargo build -q --release -p absender --example bench_dns
BIN=target/release/examples/bench_dns
WORK=$(mktemp -d "${TMPDIR:-/tmp}/absender-bench.XXXXXX")
SERVER_PID=
cleanup() { [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

if [[ $PARTS == *a* ]]; then echo "== (a) checks"; "$BIN" checks "$N"; fi
if [[ $PARTS == *b* ]]; then echo "== (b) publish to SUCCESS"; "$BIN" publish-to-success "$PUBLISH"; fi
[[ $PARTS == *c* ]] || exit 0

echo "== (c) DKIM key answers per second (dnsperf, UDP, $CLIENTS clients, $DURATION s)"
mkfifo "$WORK/in"
"$BIN" serve-keys "$KEYS" "$WORK/queries" < "$WORK/in" > "$WORK/server.out" &
SERVER_PID=$!
exec 3> "$WORK/in"
for _ in $(seq 100); do grep -q '^dns=' "$WORK/server.out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/^dns=.*:\([0-9]*\)$/\1/p' "$WORK/server.out")
dig +short -p "$PORT" @127.0.0.1 "$(head -n1 "$WORK/queries" | cut -d' ' -f1)" TXT | head -c 80; echo
dnsperf -s 127.0.0.1 -p "$PORT" -d "$WORK/queries" -l "$DURATION" -c "$CLIENTS" -Q 1000000 > "$WORK/perf" 2>&1 || true
exec 3>&-
wait "$SERVER_PID" || true
SERVER_PID=
qps=$(awk '/Queries per second/ {print $4}' "$WORK/perf")
ok=$(sed -n 's/.*NOERROR [0-9]* (\([0-9.]*\)%).*/\1/p' "$WORK/perf" | head -n1)
lat=$(awk '/Average Latency/ {print $4*1000}' "$WORK/perf")
echo "absender dns: ${qps:-?} answers/s (NOERROR ${ok:-?}%, mean latency ${lat:-?} ms)"
peer=$(KEYS=$KEYS SECONDS_=$DURATION CLIENTS=$CLIENTS bash "$PEER" | tail -n1)
echo "$peer"
nsd_qps=$(echo "$peer" | sed -n 's/^peer nsd: \([0-9.]*\) answers.*/\1/p')
awk -v a="${qps:-0}" -v b="${nsd_qps:-0}" 'BEGIN { if (b > 0) printf "absender/nsd answers ratio: %.2f\n", a / b }'
