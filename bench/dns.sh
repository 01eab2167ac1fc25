#!/usr/bin/env bash
# absender's DNS benchmarks, all on 127.0.0.1, bounded in count and time:
#  (a) checking N identities (records published in a local zone) until all are SUCCESS;
#  (b) publishing an identity's last record, then "check now": time until SUCCESS;
#  (c) DKIM key answers per second under dnsperf, side by side with NSD serving an
#      equivalent zone in the same run (../shared/bench/peer-nsd.sh);
#  (d) a random-subdomain flood (names under the key zone that no key has) under
#      dnsperf, side by side with NSD, and how many questions reached absender's store.
# Both servers run without response rate limiting (all queries come from 127.0.0.1).
# Usage (root, Debian 12): bash bench/dns.sh      # PARTS=abcd N=10000 PUBLISH=20 KEYS=1000 SECONDS_=15 CLIENTS=4 BIN=
set -euo pipefail
cd "$(dirname "$0")/.."
PARTS=${PARTS:-abcd} N=${N:-10000} PUBLISH=${PUBLISH:-20} KEYS=${KEYS:-1000} DURATION=${SECONDS_:-15} CLIENTS=${CLIENTS:-4}
PEER=${PEER:-../shared/bench/peer-nsd.sh}
command -v nsd >/dev/null && command -v dnsperf >/dev/null && command -v dig >/dev/null || {
  apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q nsd dnsperf dnsutils >/dev/null; }
# BIN: another build of the example (bench/compare.sh runs an older one).
if [[ -z ${BIN:-} ]]; then
  cargo build -q --release -p absender --example bench_dns
  BIN=target/release/examples/bench_dns
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/absender-bench.XXXXXX")
SERVER_PID= NSD_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null
  [[ -n $NSD_PID ]] && kill "$NSD_PID" 2>/dev/null
  wait 2>/dev/null || true; rm -rf "$WORK"
}
trap cleanup EXIT

if [[ $PARTS == *a* ]]; then echo "== (a) checks"; "$BIN" checks "$N"; fi
if [[ $PARTS == *b* ]]; then echo "== (b) publish to SUCCESS"; "$BIN" publish-to-success "$PUBLISH"; fi
[[ $PARTS == *[cd]* ]] || exit 0

# dnsperf's figures from its output file $1, the share of answers with code $2:
# "qps share% latency_ms lost%".
perf_figures() {
  local qps ok lat lost
  qps=$(awk '/Queries per second/ {print $4}' "$1")
  ok=$(grep -o "$2 [0-9]* ([0-9.]*%)" "$1" | sed 's/.*(\(.*\)%)/\1/' | head -n1)
  lat=$(awk '/Average Latency/ {print $4*1000}' "$1")
  lost=$(sed -n 's/.*Queries lost: *[0-9]* (\([0-9.]*\)%).*/\1/p' "$1" | head -n1)
  echo "${qps:-0} ${ok:-0} ${lat:-?} ${lost:-?}"
}
run_perf() { dnsperf -s 127.0.0.1 -p "$1" -d "$2" -l "$DURATION" -c "$CLIENTS" -Q 1000000 > "$3" 2>&1 || true; }

mkfifo "$WORK/in"
"$BIN" serve-keys "$KEYS" "$WORK/queries" < "$WORK/in" > "$WORK/server.out" &
SERVER_PID=$!
exec 3> "$WORK/in"
for _ in $(seq 100); do grep -q '^dns=' "$WORK/server.out" 2>/dev/null && break; sleep 0.2; done
PORT=$(sed -n 's/^dns=.*:\([0-9]*\)$/\1/p' "$WORK/server.out")
dig +short -p "$PORT" @127.0.0.1 "$(head -n1 "$WORK/queries" | cut -d' ' -f1)" TXT | head -c 80; echo
store_reads() { echo >&3; sleep 0.5; sed -n 's/^store_reads=//p' "$WORK/server.out" | tail -n1; }
if [[ $PARTS == *c* ]]; then
  run_perf "$PORT" "$WORK/queries" "$WORK/perf.keys"
  read -r keys_qps keys_ok keys_lat keys_lost < <(perf_figures "$WORK/perf.keys" NOERROR)
fi
if [[ $PARTS == *d* ]]; then
  dig +short -p "$PORT" @127.0.0.1 "$(head -n1 "$WORK/queries.flood" | cut -d' ' -f1)" TXT >/dev/null
  reads_before=$(store_reads)
  run_perf "$PORT" "$WORK/queries.flood" "$WORK/perf.flood"
  reads_after=$(store_reads)
  read -r flood_qps flood_ok flood_lat flood_lost < <(perf_figures "$WORK/perf.flood" NXDOMAIN)
fi
exec 3>&-
wait "$SERVER_PID" || true
SERVER_PID=

if [[ $PARTS == *c* ]]; then
  echo "== (c) DKIM key answers per second (dnsperf, UDP, $CLIENTS clients, $DURATION s)"
  echo "absender dns: $keys_qps answers/s (NOERROR $keys_ok%, lost $keys_lost%, mean latency $keys_lat ms)"
  peer=$(KEYS=$KEYS SECONDS_=$DURATION CLIENTS=$CLIENTS bash "$PEER" | tail -n1)
  echo "$peer"
  nsd_qps=$(echo "$peer" | sed -n 's/^peer nsd: \([0-9.]*\) answers.*/\1/p')
  awk -v a="$keys_qps" -v b="${nsd_qps:-0}" 'BEGIN { if (b > 0) printf "absender/nsd answers ratio: %.2f (target >= 1.0)\n", a / b }'
fi
[[ $PARTS == *d* ]] || exit 0

# NSD with the same key zone, flooded with the same random names.
echo "== (d) random-subdomain flood (dnsperf, UDP, $CLIENTS clients, $DURATION s)"
NSD_PORT=${NSD_PORT:-5398} ZONE=dkim.absender.test
P=$(openssl genrsa 2048 2>/dev/null | openssl rsa -pubout -outform DER 2>/dev/null | base64 -w0)
{
  echo "\$ORIGIN $ZONE."; echo "\$TTL 300"
  echo "@ IN SOA ns1.absender.test. hostmaster.absender.test. 1 3600 600 604800 60"
  echo "@ IN NS ns1.absender.test."
  for i in $(seq 1 "$KEYS"); do printf 'sel%05d IN TXT "v=DKIM1; k=rsa; p=%s"\n' "$i" "${P:0:200}"; done
} > "$WORK/zone"
cat > "$WORK/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$NSD_PORT
  port: $NSD_PORT
  username: ""
  chroot: ""
  zonesdir: "$WORK"
  database: ""
  zonelistfile: "$WORK/zone.list"
  pidfile: "$WORK/nsd.pid"
  xfrdfile: "$WORK/xfrd.state"
  logfile: "$WORK/nsd.log"
  server-count: $(nproc)
  verbosity: 0
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: "$ZONE"
  zonefile: "$WORK/zone"
CONF
nsd -d -c "$WORK/nsd.conf" & NSD_PID=$!
for _ in $(seq 50); do dig +short +time=1 +tries=1 -p "$NSD_PORT" @127.0.0.1 "sel00001.$ZONE" TXT >/dev/null 2>&1 && break; sleep 0.2; done
run_perf "$NSD_PORT" "$WORK/queries.flood" "$WORK/perf.nsd.flood"
kill "$NSD_PID"; wait "$NSD_PID" 2>/dev/null || true; NSD_PID=
read -r nsd_flood_qps nsd_flood_ok nsd_flood_lat nsd_flood_lost < <(perf_figures "$WORK/perf.nsd.flood" NXDOMAIN)
echo "absender dns: $flood_qps answers/s (NXDOMAIN $flood_ok%, lost $flood_lost%, mean latency $flood_lat ms); store reads during the flood: $((reads_after - reads_before))"
echo "nsd: $nsd_flood_qps answers/s (NXDOMAIN $nsd_flood_ok%, lost $nsd_flood_lost%, mean latency $nsd_flood_lat ms)"
awk -v a="$flood_qps" -v b="$nsd_flood_qps" 'BEGIN { if (b > 0) printf "absender/nsd flood ratio: %.2f (target >= 0.8)\n", a / b }'
