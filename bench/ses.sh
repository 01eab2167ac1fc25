#!/usr/bin/env bash
# The SES API's cost, all on 127.0.0.1 and bounded in count: the official
# AWS SDK for Rust (aws-sdk-sesv2, SigV4, endpoint override) sends SendEmail
# from 32 tasks, against the native POST /api/v1/messages from 32 tasks with
# the same 4 KB message, in turns in the same run (absender relays to a
# counting smtp-sink meanwhile); then SendBulkEmail: 10,000 recipients in 200
# calls of 50 entries from one template.
# Usage (root, Debian 12): bash bench/ses.sh      N=10000 (messages per round)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
P_SINK=2547
export PATH="$PATH:/usr/sbin:/sbin"
command -v smtp-sink >/dev/null || {
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >/dev/null; }
[[ -z $(ss -Hltn "sport = :$P_SINK") ]] || { echo "port $P_SINK is in use"; exit 1; }
cargo build -q --release -p absender --example bench_send
(cd bench/ses-client && cargo build -q --release --locked)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/absender-ses-bench.XXXXXX")
SINK_PID= SERVER_PID=
cleanup() {
  exec 3>&- 2>/dev/null || true
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null
  [[ -n $SINK_PID ]] && kill "$SINK_PID" 2>/dev/null
  wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

smtp-sink -u nobody -c "127.0.0.1:$P_SINK" 1024 > "$WORK/sink.count" 2>&1 &
SINK_PID=$!
mkfifo "$WORK/in"
target/release/examples/bench_send serve "127.0.0.1:$P_SINK" < "$WORK/in" > "$WORK/server" 2>"$WORK/server.err" &
SERVER_PID=$!
exec 3> "$WORK/in"
for _ in $(seq 300); do grep -q '^secret=' "$WORK/server" 2>/dev/null && break; sleep 0.2; done
value() { sed -n "s/^$1=//p" "$WORK/server"; }
[[ -n $(value secret) ]] || { cat "$WORK/server.err"; exit 1; }
echo "== SendEmail (aws-sdk-sesv2) vs POST /api/v1/messages, $N each, 32 clients, 4 KB text"
bench/ses-client/target/release/absender-bench-ses "$(value http)" "$(value api_key)" \
  "$(value access_key_id)" "$(value secret)" "$N" | tee "$WORK/client.out"
exec 3>&-
wait "$SERVER_PID" || true; SERVER_PID=
awk '/^native round/ {n+=$(NF-1); nn++} /^sdk round/ {s+=$(NF-1); sn++}
  END { if (nn && sn) printf "SDK / native: %.0f / %.0f msg/s = %.0f%%\n", s/sn, n/nn, 100*(s/sn)/(n/nn) }' "$WORK/client.out"
echo "absender peak memory: $(value peak_rss_mib) MiB"
