#!/usr/bin/env bash
# The main job, end to end, without GitHub: serve a simulated GitHub (fakehub) on loopback,
# sync its runs into a fresh index, and search them.
#
#   bash scripts/try.sh [RUNS]        # default 300 runs of acme/widgets over 14 days
set -euo pipefail

runs="${1:-300}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
cargo build --release --locked -p logidx -p fakehub

work="$(mktemp -d)"
trap 'kill "${hub_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
./target/release/fakehub --port 0 --repo acme/widgets --runs "$runs" --days 14 --seed 7 \
  >"$work/fakehub.txt" 2>&1 &
hub_pid=$!
for _ in $(seq 100); do
  grep -q '^api:' "$work/fakehub.txt" 2>/dev/null && break
  sleep 0.1
done
api="$(awk '/^api:/ {print $2}' "$work/fakehub.txt")"
[ -n "$api" ] || { cat "$work/fakehub.txt"; exit 1; }

# fakehub's token only: a real one from the environment must never reach it.
unset GITHUB_TOKEN GH_ENTERPRISE_TOKEN GITHUB_ENTERPRISE_TOKEN GH_HOST
export LOGIDX_API_URL="$api" GH_TOKEN=fakehub LOGIDX_INDEX="$work/index"
logidx=./target/release/logidx
set -x
"$logidx" sync acme/widgets --since 30d
"$logidx" sync acme/widgets --since 30d
"$logidx" search '"panicked at"' -n 3 -C 1
"$logidx" search 'ModuleNotFoundError OR "timed out"' --count-by day
"$logidx" errors -n 5
"$logidx" flaky
"$logidx" stats
