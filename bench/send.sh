#!/usr/bin/env bash
# absender's sending benchmarks, all on 127.0.0.1, bounded in count and time:
#  (a) end to end, side by side with Postfix + OpenDKIM in the same run
#      (../shared/bench/peer-postfix-opendkim.sh): the same load generator with the
#      same settings (smtp-source -s 20 -l 4096 -m 20000, a new connection per
#      message) submits to absender's SMTP listener (250 only after fsync), absender
#      signs with RSA-2048 (d=example.com, relaxed/relaxed) and relays to a counting
#      smtp-sink; time from the first connection until the sink counted all N;
#  (b) API intake: POST /api/v1/messages from 32 clients, 202 only after fsync;
#  (c) peak memory with 100,000 messages waiting in the queue.
# Usage (root, Debian 12): bash bench/send.sh
#   PARTS=abc N=20000 RUNS=3 SESSIONS=20 SIZE=4096 API_N=20000 QUEUED=100000 PEER_RUNS=3 PEER=1 BIN=
set -euo pipefail
cd "$(dirname "$0")/.."
PARTS=${PARTS:-abc} N=${N:-20000} RUNS=${RUNS:-3} SESSIONS=${SESSIONS:-20} SIZE=${SIZE:-4096}
API_N=${API_N:-20000} QUEUED=${QUEUED:-100000} PEER_RUNS=${PEER_RUNS:-3} RUN_PEER=${PEER:-1}
PEER_SCRIPT=${PEER_SCRIPT:-../shared/bench/peer-postfix-opendkim.sh}
P_SINK=2546
export PATH="$PATH:/usr/sbin:/sbin"
command -v smtp-source >/dev/null && command -v smtp-sink >/dev/null || {
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >/dev/null; }
[[ -z $(ss -Hltn "sport = :$P_SINK") ]] || { echo "port $P_SINK is in use (a stray smtp-sink would split the count)"; exit 1; }
# BIN: another build of the example (bench/compare.sh runs an older one).
if [[ -z ${BIN:-} ]]; then
  cargo build -q --release -p absender --example bench_send
  BIN=target/release/examples/bench_send
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/absender-send-bench.XXXXXX")
SINK_PID= SERVER_PID=
cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null
  [[ -n $SINK_PID ]] && kill "$SINK_PID" 2>/dev/null
  wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
median() { sort -g | awk '{v[NR]=$1} END{printf "%.1f", (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }

PEER_LINE=
if [[ $PARTS == *a* && $RUN_PEER == 1 ]]; then
  echo "== peer: Postfix + OpenDKIM ($PEER_RUNS runs of $N)"
  PEER_LINE=$(N=$N RUNS=$PEER_RUNS SESSIONS=$SESSIONS SIZE=$SIZE MODES="dkim plain" bash "$PEER_SCRIPT" 2>"$WORK/peer.err" | tee "$WORK/peer.out" | tail -n1)
  echo "$PEER_LINE"
fi

sink_count() { local t re=$'mesg=([0-9]+)\r[^\r]*$'; t=$(tail -c 256 "$WORK/sink.count"); if [[ $t =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi; }

# one_config <label> <platform_signature 0|1>: warm-up and RUNS timed runs; prints msg/s per run
one_config() {
  local label=$1 sigs=$2 smtp run base t0 t2 rates=()
  mkfifo "$WORK/in.$label"
  PLATFORM_SIGNATURE=$sigs "$BIN" smtp "127.0.0.1:$P_SINK" < "$WORK/in.$label" > "$WORK/server.$label" 2>"$WORK/server.$label.err" &
  SERVER_PID=$!
  exec 3> "$WORK/in.$label"
  for _ in $(seq 300); do grep -q '^smtp=' "$WORK/server.$label" 2>/dev/null && break; sleep 0.2; done
  smtp=$(sed -n 's/^smtp=//p' "$WORK/server.$label")
  [[ -n $smtp ]] || { cat "$WORK/server.$label.err"; exit 1; }
  for run in warmup $(seq "$RUNS"); do
    local n=$N; [[ $run == warmup ]] && n=500
    base=$(sink_count); t0=$EPOCHREALTIME
    timeout 600 smtp-source -s "$SESSIONS" -l "$SIZE" -m "$n" -S bench -f a@example.com -t b@example.net "$smtp"
    while (( $(sink_count) < base + n )); do
      (( ${EPOCHREALTIME%.*} < ${t0%.*} + 600 )) || { echo "sink got $(( $(sink_count) - base ))/$n"; exit 1; }
      sleep 0.05
    done
    t2=$EPOCHREALTIME
    [[ $run == warmup ]] && continue
    rates+=("$(awk -v n="$n" -v a="$t0" -v b="$t2" 'BEGIN{printf "%.1f", n/(b-a)}')")
    echo "absender ($label) run $run: $n msgs in $(awk -v a="$t0" -v b="$t2" 'BEGIN{printf "%.2f", b-a}') s = ${rates[-1]} msg/s" >&2
  done
  exec 3>&-
  wait "$SERVER_PID" || true; SERVER_PID=
  echo "${rates[*]}|$(sed -n 's/^peak_rss_mib=//p' "$WORK/server.$label")"
}

if [[ $PARTS == *a* ]]; then
  echo "== (a) end to end: smtp-source -s $SESSIONS -l $SIZE -m $N -> absender -> smtp-sink"
  smtp-sink -u nobody -c "127.0.0.1:$P_SINK" 1024 > "$WORK/sink.count" 2>&1 &
  SINK_PID=$!
  sleep 0.5
  one=$(one_config one-signature 0)
  two=$(one_config two-signatures 1)
  kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=
  m1=$(tr ' ' '\n' <<< "${one%%|*}" | median); m2=$(tr ' ' '\n' <<< "${two%%|*}" | median)
  echo "absender: $m1 msg/s with the customer's signature (runs: ${one%%|*}; peak ${one##*|} MiB), $m2 msg/s with customer + platform signatures (runs: ${two%%|*})"
  if [[ -n $PEER_LINE ]]; then
    peer=$(sed -n 's/.* = \([0-9.]*\) msg\/s;.*/\1/p' <<< "$PEER_LINE")
    plain=$(sed -n 's/.*without dkim: \([0-9.]*\) msg\/s.*/\1/p' <<< "$PEER_LINE")
    rsa2=$(sed -n 's/.*2core=\([0-9.]*\).*/\1/p' <<< "$PEER_LINE")
    awk -v a="$m1" -v b="$m2" -v p="$peer" -v q="$plain" -v r="$rsa2" 'BEGIN{
      if (p > 0) printf "absender / postfix+opendkim (one signature each): %.2fx; absender (two signatures) / postfix+opendkim: %.2fx; postfix without dkim: %s msg/s\n", a/p, b/p, q
      if (r > 0) printf "signatures per second reached: %.0f (one) and %.0f (two) = %.0f%% and %.0f%% of openssl rsa2048 on both cores (%s/s)\n", a, 2*b, 100*a/r, 200*b/r, r }'
  fi
fi

if [[ $PARTS == *b* ]]; then
  echo "== (b) API intake ($API_N messages, 32 clients)"
  smtp-sink -u nobody "127.0.0.1:$P_SINK" 1024 > /dev/null 2>&1 &
  SINK_PID=$!
  sleep 0.5
  "$BIN" api "$API_N" "127.0.0.1:$P_SINK"
  kill "$SINK_PID"; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=
fi

if [[ $PARTS == *c* ]]; then
  echo "== (c) memory with $QUEUED messages queued"
  "$BIN" queue "$QUEUED"
fi
