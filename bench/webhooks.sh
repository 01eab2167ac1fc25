#!/usr/bin/env bash
# Event fan-out, all on 127.0.0.1, bounded in count and time: bench/send.sh's
# load (smtp-source -s 20 -l 4096, absender signing with RSA-2048 and relaying
# to a counting smtp-sink), paced at RATE messages a second, run twice on fresh
# servers: without any webhook destination, then with one destination for
# `Send` and `Delivery` events at a receiver on 127.0.0.1 (bench_send hooks).
# Prints absender's CPU time per message in each run (the difference is what the
# events cost), whether every event arrived (each webhook-id once), and the lag
# from each delivery's result to its Delivery event's arrival (p50/p99).
# Usage (root, Debian 12): bash bench/webhooks.sh   (N=20000 RATE=1000 BIN=…)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000} RATE=${RATE:-1000} P_SINK=2546
export PATH="$PATH:/usr/sbin:/sbin"
command -v smtp-source >/dev/null || { echo "smtp-source missing: run bench/send.sh once (it installs postfix)"; exit 1; }
[[ -z $(ss -Hltn "sport = :$P_SINK") ]] || { echo "port $P_SINK is in use"; exit 1; }
if [[ -z ${BIN:-} ]]; then
  cargo build -q --release -p absender --example bench_send
  BIN=target/release/examples/bench_send
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/absender-hooks.XXXXXX")
SINK= SRV= HOOKS=
cleanup() {
  for p in $SRV $HOOKS $SINK; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
count() { local t re=$'mesg=([0-9]+)\r[^\r]*$'; t=$(tail -c 256 "$W/sink.count"); if [[ $t =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi; }
wait_for() { local t0=$SECONDS; while (( $(count) < $1 )); do (( SECONDS - t0 < 600 )) || { echo "sink stuck at $(count)/$1"; exit 1; }; sleep 0.02; done; }
smtp-sink -u nobody -c "127.0.0.1:$P_SINK" 1024 > "$W/sink.count" 2>&1 &
SINK=$!
sleep 0.3

# run <label> [webhook url]: one paced run on a fresh server; prints "label rate cpu_ms_per_msg"
run() {
  local label=$1 url=${2:-} smtp sent=0 a0 a1 t0 t1 base
  mkfifo "$W/in.$label"
  WEBHOOK_URL=$url "$BIN" smtp "127.0.0.1:$P_SINK" < "$W/in.$label" > "$W/server.$label" 2>"$W/server.$label.err" &
  SRV=$!
  exec 3> "$W/in.$label"
  for _ in $(seq 300); do grep -q '^smtp=' "$W/server.$label" 2>/dev/null && break; sleep 0.2; done
  smtp=$(sed -n 's/^smtp=//p' "$W/server.$label")
  [[ -n $smtp ]] || { cat "$W/server.$label.err"; exit 1; }
  base=$(count)
  smtp-source -s 20 -l 4096 -m 500 -S bench -f a@example.com -t b@example.net "$smtp"   # warm-up
  wait_for $((base + 500))
  base=$(count); a0=$(ticks "$SRV"); t0=$EPOCHREALTIME
  # RATE messages each second: a burst, then the rest of the second idle.
  while (( sent < N )); do
    local s0=$EPOCHREALTIME
    smtp-source -s 20 -l 4096 -m "$RATE" -S bench -f a@example.com -t b@example.net "$smtp"
    sent=$((sent + RATE))
    sleep "$(awk -v a="$s0" -v b="$EPOCHREALTIME" 'BEGIN{r = 1 - (b - a); print (r > 0) ? r : 0}')"
  done
  wait_for $((base + N))
  t1=$EPOCHREALTIME
  if [[ -n $url ]]; then
    # Every event (N Send, N Delivery, and the warm-up's) within 120 s.
    local want=$((2 * (N + 500))) t2=$SECONDS
    while (( $(curl -s "${url%/hooks}/count") < want )); do
      (( SECONDS - t2 < 120 )) || { echo "receiver stuck at $(curl -s "${url%/hooks}/count")/$want"; break; }
      sleep 0.1
    done
  fi
  a1=$(ticks "$SRV")
  exec 3>&-
  wait "$SRV" || true; SRV=
  awk -v l="$label" -v n="$N" -v t0="$t0" -v t1="$t1" -v a=$((a1 - a0)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN{printf "%s: %d msgs in %.2f s = %.0f msg/s; absender CPU %.3f ms/msg\n", l, n, t1 - t0, n / (t1 - t0), a * 1000 / hz / n}'
}

echo "== without webhooks"
run plain
mkfifo "$W/hooks.in"
"$BIN" hooks < "$W/hooks.in" > "$W/hooks.out" 2>"$W/hooks.err" &
HOOKS=$!
exec 4> "$W/hooks.in"
for _ in $(seq 100); do grep -q '^hooks=' "$W/hooks.out" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^hooks=//p' "$W/hooks.out")
echo "== with one webhook destination (Send, Delivery) at $url"
run hooks "$url"
exec 4>&-
wait "$HOOKS" || true; HOOKS=
echo "receiver: $(tail -n1 "$W/hooks.out")"
