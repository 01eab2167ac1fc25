#!/usr/bin/env bash
# Runs every fuzz target for a while, starting from its committed seeds
# (fuzz/seeds/<target>); what it finds grows fuzz/corpus/<target> (not
# committed). Stable toolchain, no
# sanitizer (`-s none`): RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass its
# coverage flags to the fuzz build alone.
# Usage: bash fuzz/run.sh [SECONDS per target, default 600] [target ...]
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_PER_TARGET=${1:-600}
shift || true
TARGETS=("$@")
if ((${#TARGETS[@]} == 0)); then
  TARGETS=(smtp_session dsn address spf_policy dns_packet dkim_txt compose)
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none -O
stamp=$(mktemp)
trap 'rm -f "$stamp"' EXIT
for target in "${TARGETS[@]}"; do
  mkdir -p "corpus/$target"
  cp -n "seeds/$target"/* "corpus/$target"/ 2>/dev/null || true
  echo "== $target ($SECONDS_PER_TARGET s)"
  cargo fuzz run -s none -O "$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_PER_TARGET" -max_len=65536 -timeout=10 -print_final_stats=1 2>&1 |
    grep -E "^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|SUMMARY|==[0-9]+== ERROR)|panicked|Done [0-9]+ runs" || true
  # Crashes, timeouts, running out of memory or leaking: anything this run found.
  found=$(find "artifacts/$target" -newer "$stamp" -type f 2>/dev/null | head -n1)
  if [[ -n $found ]]; then
    echo "FOUND in $target: $found" >&2
    exit 1
  fi
done
