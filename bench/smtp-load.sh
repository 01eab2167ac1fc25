#!/usr/bin/env bash
# SMTP under hostile load, all on 127.0.0.1, bounded in count and time:
# 1,000 idle sessions (greeted, EHLO, then silent) plus 200 sessions trickling
# DATA (a line a second) are held open while the normal load of bench/send.sh
# (smtp-source, RSA-2048 signing, relay to smtp-sink) runs beside them.
# Reports the normal rate unloaded and loaded, and absender's peak RSS.
# The limits are raised to 2,000 sessions (all of it comes from one address).
# Usage (root, Debian 12): bash bench/smtp-load.sh   # N=5000 SESSIONS=20 SIZE=4096 IDLE=1000 TRICKLE=200
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5000} SESSIONS=${SESSIONS:-20} SIZE=${SIZE:-4096} IDLE=${IDLE:-1000} TRICKLE=${TRICKLE:-200}
P_SINK=2547
export PATH="$PATH:/usr/sbin:/sbin"
command -v smtp-source >/dev/null && command -v smtp-sink >/dev/null || {
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >/dev/null; }
ulimit -n "$(ulimit -Hn)"  # as many as allowed: 1,200 sessions need more than the usual 1,024
cargo build -q --release -p absender --example bench_send
BIN=target/release/examples/bench_send
WORK=$(mktemp -d "${TMPDIR:-/tmp}/absender-smtp-load.XXXXXX")
SINK_PID= SERVER_PID= LOAD_PID=
cleanup() {
  for p in $LOAD_PID $SERVER_PID $SINK_PID; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

sink_count() { local t re=$'mesg=([0-9]+)\r[^\r]*$'; t=$(tail -c 256 "$WORK/sink.count"); if [[ $t =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi; }
smtp-sink -u nobody -c "127.0.0.1:$P_SINK" 4096 > "$WORK/sink.count" 2>&1 &
SINK_PID=$!
mkfifo "$WORK/in"
SMTP_MAX_SESSIONS=2000 "$BIN" smtp "127.0.0.1:$P_SINK" < "$WORK/in" > "$WORK/server" 2>"$WORK/server.err" &
SERVER_PID=$!
exec 3> "$WORK/in"
for _ in $(seq 300); do grep -q '^smtp=' "$WORK/server" 2>/dev/null && break; sleep 0.2; done
SMTP=$(sed -n 's/^smtp=//p' "$WORK/server")
[[ -n $SMTP ]] || { cat "$WORK/server.err"; exit 1; }

# rate <n>: smtp-source submits n messages; msg/s until the sink has them all.
rate() {
  local n=$1 base t0 t1
  base=$(sink_count); t0=$EPOCHREALTIME
  timeout 600 smtp-source -s "$SESSIONS" -l "$SIZE" -m "$n" -S bench -f a@example.com -t b@example.net "$SMTP"
  while (( $(sink_count) < base + n )); do
    (( ${EPOCHREALTIME%.*} < ${t0%.*} + 600 )) || { echo "sink got $(( $(sink_count) - base ))/$n" >&2; exit 1; }
    sleep 0.05
  done
  t1=$EPOCHREALTIME
  awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", n/(b-a)}'
}
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$SERVER_PID/status"; }

rate 500 >/dev/null   # warm-up
unloaded=$(rate "$N")
echo "unloaded: $unloaded msg/s (RSS $(rss) MiB)"

# The hostile sessions, held by one Python process (asyncio), for at most 10 minutes.
cat > "$WORK/load.py" <<'PY'
import asyncio, sys
host, port = sys.argv[1].rsplit(":", 1)
idle, trickle = int(sys.argv[2]), int(sys.argv[3])
held = {"idle": 0, "trickle": 0}
async def idle_session():
    r, w = await asyncio.open_connection(host, int(port))
    await r.readline(); w.write(b"EHLO idle.test\r\n"); await w.drain()
    held["idle"] += 1
    await asyncio.sleep(600)
async def trickle_session():
    r, w = await asyncio.open_connection(host, int(port))
    await r.readline()
    for cmd in (b"EHLO slow.test\r\n", b"MAIL FROM:<a@example.com>\r\n", b"RCPT TO:<b@example.net>\r\n", b"DATA\r\n"):
        w.write(cmd); await w.drain()
    held["trickle"] += 1
    for i in range(600):
        w.write(b"X-Trickle: %d\r\n" % i); await w.drain(); await asyncio.sleep(1)
async def main():
    # Opened 50 at a time: a burst of 1,200 SYNs at once overflows the
    # kernel's accept queue, and a client whose handshake was dropped there
    # waits for a greeting that never comes (a measuring artifact).
    tasks = []
    for n in range(idle + trickle):
        tasks.append(asyncio.create_task(idle_session() if n < idle else trickle_session()))
        if n % 50 == 49:
            await asyncio.sleep(0.05)
    waited = 0
    while held["idle"] + held["trickle"] < idle + trickle:
        await asyncio.sleep(0.2)
        waited += 1
        if waited % 50 == 0:
            failed = sum(1 for t in tasks if t.done() and t.exception())
            print("waiting", held["idle"], held["trickle"], "failed", failed, flush=True)
    print("held", held["idle"], held["trickle"], flush=True)
    await asyncio.gather(*tasks, return_exceptions=True)
asyncio.run(main())
PY
python3 "$WORK/load.py" "$SMTP" "$IDLE" "$TRICKLE" > "$WORK/load.out" 2>&1 &
LOAD_PID=$!
for _ in $(seq 300); do grep -q '^held' "$WORK/load.out" 2>/dev/null && break; sleep 0.2; done
grep '^held' "$WORK/load.out" || { echo "the load did not come up:"; cat "$WORK/load.out"; exit 1; }
loaded=$(rate "$N")
echo "loaded ($IDLE idle + $TRICKLE trickling sessions): $loaded msg/s (RSS $(rss) MiB)"
kill "$LOAD_PID" 2>/dev/null || true; wait "$LOAD_PID" 2>/dev/null || true; LOAD_PID=
exec 3>&-
wait "$SERVER_PID" || true; SERVER_PID=
peak=$(sed -n 's/^peak_rss_mib=//p' "$WORK/server")
awk -v u="$unloaded" -v l="$loaded" -v p="$peak" 'BEGIN{printf "loaded/unloaded: %.2f; peak RSS %s MiB\n", l/u, p}'
