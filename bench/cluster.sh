#!/usr/bin/env bash
# Throughput on PostgreSQL (issue 15), all on 127.0.0.1, bounded in count and time.
# bench/send.sh's load (smtp-source -s 20 -l 4096, a new connection per message,
# RSA-2048 signing with d=example.com, relay to a counting smtp-sink) against:
#   sqlite    one node on SQLite (the embedded default);
#   pg1       one node on PostgreSQL (a fresh database on the local server);
#   pg2       two nodes on that PostgreSQL database, the load split across them
#             (two smtp-source processes, each half the messages and sessions);
# beside Postfix + OpenDKIM in the same run (../shared/bench/peer-postfix-opendkim.sh).
# For each it reports msg/s (first connection until the sink counted all N),
# and the CPU seconds absender and PostgreSQL used (/proc/<pid>/stat), so the
# database's share of the work shows.
# Usage (root, Debian 12): bash bench/cluster.sh
#   N=20000 RUNS=3 SESSIONS=20 SIZE=4096 PEER_RUNS=3 PEER=1 CONFIGS="sqlite pg1 pg2"
#   PG=postgres://postgres@127.0.0.1:5432 (a server where user postgres may create databases)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000} RUNS=${RUNS:-3} SESSIONS=${SESSIONS:-20} SIZE=${SIZE:-4096}
PEER_RUNS=${PEER_RUNS:-3} RUN_PEER=${PEER:-1} CONFIGS=${CONFIGS:-"sqlite pg1 pg2"}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PEER_SCRIPT=${PEER_SCRIPT:-../shared/bench/peer-postfix-opendkim.sh}
P_SINK=2546
DB=absender_cluster_bench_$$
export PATH="$PATH:/usr/sbin:/sbin"
command -v smtp-source >/dev/null && command -v smtp-sink >/dev/null || {
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postfix >/dev/null; }
[[ -z $(ss -Hltn "sport = :$P_SINK") ]] || { echo "port $P_SINK is in use (a stray smtp-sink would split the count)"; exit 1; }
cargo build -q --release -p absender --example bench_send
BIN=target/release/examples/bench_send
WORK=$(mktemp -d "${TMPDIR:-/tmp}/absender-cluster-bench.XXXXXX")
SINK_PID= PIDS=()
cleanup() {
  for p in "${PIDS[@]}" $SINK_PID; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"; }
trap cleanup EXIT
median() { sort -g | awk -v f="${1:-%.1f}" '{v[NR]=$1} END{printf f, (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
sink_count() { local t re=$'mesg=([0-9]+)\r[^\r]*$'; t=$(tail -c 256 "$WORK/sink.count"); if [[ $t =~ $re ]]; then echo "${BASH_REMATCH[1]}"; else echo 0; fi; }
# CPU seconds (user + system) of the given processes so far.
cpu_of() { local total=0 p f; for p in "$@"; do f=$(cut -d' ' -f14,15 "/proc/$p/stat" 2>/dev/null) || continue; total=$(( total + ${f% *} + ${f#* } )); done
  awk -v t="$total" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.2f", t/hz}'; }
pg_pids() { pgrep -x postgres || pgrep -f '^postgres:' || true; }

PEER_LINE=
if [[ $RUN_PEER == 1 ]]; then
  echo "== peer: Postfix + OpenDKIM ($PEER_RUNS runs of $N)"
  PEER_LINE=$(N=$N RUNS=$PEER_RUNS SESSIONS=$SESSIONS SIZE=$SIZE MODES="dkim" bash "$PEER_SCRIPT" 2>"$WORK/peer.err" | tee "$WORK/peer.out" | tail -n1)
  echo "$PEER_LINE"
fi

smtp-sink -u nobody -c "127.0.0.1:$P_SINK" 1024 > "$WORK/sink.count" 2>&1 &
SINK_PID=$!
sleep 0.5

# start_node <label> <env…>: starts one node (bench_send smtp) and waits for its address.
start_node() {
  local label=$1; shift
  mkfifo "$WORK/in.$label"
  env "$@" "$BIN" smtp "127.0.0.1:$P_SINK" < "$WORK/in.$label" > "$WORK/out.$label" 2>"$WORK/err.$label" &
  PIDS+=($!)
  exec {fd}> "$WORK/in.$label"; eval "FD_$label=$fd"
  for _ in $(seq 600); do grep -q '^smtp=' "$WORK/out.$label" 2>/dev/null && break; sleep 0.2; done
  grep -q '^smtp=' "$WORK/out.$label" || { cat "$WORK/err.$label"; exit 1; }
}
stop_nodes() {
  local label; for label in "$@"; do eval "exec {FD_$label}>&-"; done
  wait "${PIDS[@]}" 2>/dev/null || true; PIDS=()
}

# one_config <name>: the nodes of one configuration, a warm-up and RUNS timed runs.
one_config() {
  local name=$1 nodes=() envs=() run n t0 t2 c0 c1 p0 p1 rates=() cpu_a=() cpu_p=() base i
  case $name in
    sqlite) nodes=(a); envs=("") ;;
    pg1|pg2)
      psql -q "$PG/postgres" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB" >/dev/null
      local key; key=$(head -c 32 /dev/urandom | base64)
      envs=("DATABASE_URL=$PG/$DB MASTER_KEY=$key")
      if [[ $name == pg1 ]]; then nodes=(a); else nodes=(a b); envs+=("DATABASE_URL=$PG/$DB MASTER_KEY=$key JOIN=1"); fi ;;
  esac
  for i in "${!nodes[@]}"; do
    # shellcheck disable=SC2086
    start_node "$name${nodes[$i]}" ${envs[$i]}
  done
  local targets=() label
  for i in "${!nodes[@]}"; do targets+=("$(sed -n 's/^smtp=//p' "$WORK/out.$name${nodes[$i]}")"); done
  local parts=${#targets[@]}
  for run in warmup $(seq "$RUNS"); do
    n=$N; [[ $run == warmup ]] && n=500
    base=$(sink_count)
    c0=$(cpu_of "${PIDS[@]}"); p0=$(cpu_of $(pg_pids)); t0=$EPOCHREALTIME
    local sources=()
    for target in "${targets[@]}"; do
      timeout 600 smtp-source -s $(( SESSIONS / parts )) -l "$SIZE" -m $(( n / parts )) -S bench -f a@example.com -t b@example.net "$target" &
      sources+=($!)
    done
    wait "${sources[@]}"
    while (( $(sink_count) < base + (n / parts) * parts )); do
      (( ${EPOCHREALTIME%.*} < ${t0%.*} + 600 )) || { echo "sink got $(( $(sink_count) - base ))/$n"; exit 1; }
      sleep 0.05
    done
    t2=$EPOCHREALTIME; c1=$(cpu_of "${PIDS[@]}"); p1=$(cpu_of $(pg_pids))
    [[ $run == warmup ]] && continue
    rates+=("$(awk -v n="$n" -v a="$t0" -v b="$t2" 'BEGIN{printf "%.1f", n/(b-a)}')")
    cpu_a+=("$(awk -v a="$c0" -v b="$c1" -v n="$n" 'BEGIN{printf "%.3f", 1000*(b-a)/n}')")
    cpu_p+=("$(awk -v a="$p0" -v b="$p1" -v n="$n" 'BEGIN{printf "%.3f", 1000*(b-a)/n}')")
    echo "$name run $run: $n msgs in $(awk -v a="$t0" -v b="$t2" 'BEGIN{printf "%.2f", b-a}') s = ${rates[-1]} msg/s; CPU ms/msg absender ${cpu_a[-1]}, postgres ${cpu_p[-1]}" >&2
  done
  local labels=(); for i in "${!nodes[@]}"; do labels+=("$name${nodes[$i]}"); done
  stop_nodes "${labels[@]}"
  local m a p
  m=$(printf '%s\n' "${rates[@]}" | median); a=$(printf '%s\n' "${cpu_a[@]}" | median %.3f); p=$(printf '%s\n' "${cpu_p[@]}" | median %.3f)
  echo "$name: $m msg/s (runs: ${rates[*]}); CPU ms per message: absender $a, postgres $p ($(awk -v a="$a" -v p="$p" 'BEGIN{ if (a+p>0) printf "%.0f", 100*p/(a+p); else print 0 }')% database)"
}

declare -A RESULT
for name in $CONFIGS; do
  echo "== $name"
  line=$(one_config "$name")
  echo "$line"
  RESULT[$name]=$(sed -n 's/^[a-z0-9]*: \([0-9.]*\) msg\/s.*/\1/p' <<< "$line")
done
if [[ -n $PEER_LINE ]]; then
  peer=$(sed -n 's/.* = \([0-9.]*\) msg\/s;.*/\1/p' <<< "$PEER_LINE")
  for name in $CONFIGS; do
    awk -v a="${RESULT[$name]}" -v p="$peer" -v n="$name" 'BEGIN{ if (p > 0) printf "%s / postfix+opendkim (%s msg/s): %.2fx\n", n, p, a/p }'
  done
fi
