#!/usr/bin/env bash
# CPU time per message of absender, smtp-source and smtp-sink during one
# end-to-end run (the load of bench/send.sh part (a)), from /proc/<pid>/stat
# and /usr/bin/time: shows where the two cores go. All on 127.0.0.1.
# Usage: bash bench/cpu-per-message.sh   (N=20000 SIGS=0|1 BIN=… to compare builds)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000} SIGS=${SIGS:-0} P_SINK=2546
export PATH="$PATH:/usr/sbin:/sbin"
command -v smtp-source >/dev/null || { echo "smtp-source missing: run bench/send.sh once (it installs postfix)"; exit 1; }
[[ -z $(ss -Hltn "sport = :$P_SINK") ]] || { echo "port $P_SINK is in use"; exit 1; }
if [[ -z ${BIN:-} ]]; then
  cargo build -q --release -p absender --example bench_send
  BIN=target/release/examples/bench_send
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/absender-cpu.XXXXXX")
SINK= SRV=
cleanup() { [[ -n $SRV ]] && kill "$SRV" 2>/dev/null; [[ -n $SINK ]] && kill "$SINK" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
smtp-sink -u nobody -c "127.0.0.1:$P_SINK" 1024 > "$W/sink.count" 2>&1 &
SINK=$!
mkfifo "$W/in"
PLATFORM_SIGNATURE=$SIGS "$BIN" smtp "127.0.0.1:$P_SINK" < "$W/in" > "$W/server" 2>"$W/server.err" &
SRV=$!
exec 3> "$W/in"
for _ in $(seq 300); do grep -q '^smtp=' "$W/server" 2>/dev/null && break; sleep 0.2; done
smtp=$(sed -n 's/^smtp=//p' "$W/server")
[[ -n $smtp ]] || { cat "$W/server.err"; exit 1; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
count() { local t re=$'mesg=([0-9]+)\r[^\r]*$'; t=$(tail -c 256 "$W/sink.count"); if [[ $t =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi; }
wait_for() { local t0=$SECONDS; while (( $(count) < $1 )); do (( SECONDS - t0 < 600 )) || { echo "sink stuck at $(count)/$1"; exit 1; }; sleep 0.02; done; }
smtp-source -s 20 -l 4096 -m 500 -S bench -f a@example.com -t b@example.net "$smtp"   # warm-up
wait_for 500
a0=$(ticks "$SRV"); k0=$(ticks "$SINK"); t0=$EPOCHREALTIME
read -r su ss < <( { /usr/bin/time -f "%U %S" smtp-source -s 20 -l 4096 -m "$N" -S bench -f a@example.com -t b@example.net "$smtp"; } 2>&1 | tail -1)
wait_for $((500 + N))
t1=$EPOCHREALTIME; a1=$(ticks "$SRV"); k1=$(ticks "$SINK")
hz=$(getconf CLK_TCK)
awk -v n="$N" -v t0="$t0" -v t1="$t1" -v a=$((a1 - a0)) -v k=$((k1 - k0)) -v su="$su" -v ss="$ss" -v hz="$hz" 'BEGIN{
  d = t1 - t0; ms = 1000 / hz
  printf "%d msgs in %.2f s = %.0f msg/s; CPU ms/msg: absender %.3f, smtp-sink %.3f, smtp-source %.3f; %.0f%% of 2 cores busy\n",
    n, d, n / d, a * ms / n, k * ms / n, (su + ss) * 1000 / n, (a * ms + k * ms + (su + ss) * 1000) / (d * 1000) / 2 * 100 }'
