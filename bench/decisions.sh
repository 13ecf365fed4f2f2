#!/usr/bin/env bash
# Closure decisions per second at 16 concurrent clients on PostgreSQL:
# starts BINARY on a fresh database, loads N pending closure requests through the
# API, decides them with wrk for BENCH_DURATION (default 8 s; N must outlast it),
# prints the rate. Usage: decisions.sh BINARY [N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1; n=${2:-1000}
pg=${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
db=bench_$(date +%s)_$$
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
work=$(mktemp -d)
psql "$pg" -qc "CREATE DATABASE $db"
cleanup() { status=$?; [ "$status" = 0 ] || tail -n 20 "$work/server.log" >&2; kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; psql "$pg" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; rm -rf "$work"; }
url="${pg%%/test*}/$db?sslmode=disable"
RECTIFY_DATABASE_URL="$url" RECTIFY_BIND="127.0.0.1:$port" RECTIFY_JWT_SECRET=bench-secret-bench-secret-bench-secret-0 \
RECTIFY_ADMIN_PASSWORD=bench-admin-password RECTIFY_LOG=warn RECTIFY_LOGIN_PER_MINUTE=100000 \
    "$bin" serve > "$work/server.log" 2>&1 &
pid=$!
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
python3 "$here/setup_closures.py" "http://127.0.0.1:$port" bench-admin-password "$n" "$work" >&2
wrk -t4 -c16 -d"${BENCH_DURATION:-8s}" -s "$here/decide.lua" "http://127.0.0.1:$port" -- 4 "$work/ids" "$work/token" | tail -n 1
