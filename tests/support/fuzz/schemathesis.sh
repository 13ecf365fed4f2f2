#!/usr/bin/env bash
# Fuzzes the running service against the spec it serves, with schemathesis (pinned in
# requirements.txt beside this file), on SQLite and, when RECTIFY_TEST_POSTGRES_URL is set,
# on a fresh PostgreSQL database made from that URL.
#
#   tests/support/fuzz/schemathesis.sh target/debug/rectify
#
# For each backend: a fresh database filled by `rectify demo`, the server on a free loopback
# port, an admin token, then `st run` with every check, a fixed seed and a time budget.
# Fails on any failure: a 5xx, a response outside its schema, an undocumented status, a
# rejected valid request that README.md does not list as accepted, and so on.
#
# Environment (all optional):
#   RECTIFY_FUZZ_SECONDS   time budget of one backend's run (default 150)
#   RECTIFY_FUZZ_SEED      schemathesis seed (default 10)
#   RECTIFY_FUZZ_VENV      where the pinned schemathesis is installed (default /tmp/rectify-fuzz-venv)
#   RECTIFY_FUZZ_OUT       where reports and server logs go (default: a new folder under /tmp)
#   RECTIFY_FUZZ_BACKENDS  "sqlite postgres" by default; postgres is skipped without RECTIFY_TEST_POSTGRES_URL
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
binary="${1:?usage: $0 path/to/rectify}"
binary="$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")"
[ -x "$binary" ] || { echo "FATAL: $binary is not an executable" >&2; exit 2; }

seconds="${RECTIFY_FUZZ_SECONDS:-150}"
seed="${RECTIFY_FUZZ_SEED:-10}"
venv="${RECTIFY_FUZZ_VENV:-/tmp/rectify-fuzz-venv}"
out="${RECTIFY_FUZZ_OUT:-$(mktemp -d /tmp/rectify-fuzz.XXXXXX)}"
backends="${RECTIFY_FUZZ_BACKENDS:-sqlite postgres}"
mkdir -p "$out"
started=$SECONDS

echo "== schemathesis (pinned: $here/requirements.txt) in $venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || exit 2
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" || exit 2
"$venv/bin/st" --version || exit 2

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

server_pid=""
pg_admin_url=""
pg_db=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null
        wait "$server_pid" 2>/dev/null
    fi
    server_pid=""
    if [ -n "$pg_db" ]; then
        psql "$pg_admin_url" -qAtc "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1
        pg_db=""
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Prints RECTIFY_TEST_POSTGRES_URL with its database replaced by $1.
postgres_url_for() {
    python3 - "$RECTIFY_TEST_POSTGRES_URL" "$1" <<'PY'
import sys
from urllib.parse import urlsplit, urlunsplit
url, db = sys.argv[1], sys.argv[2]
print(urlunsplit(urlsplit(url)._replace(path="/" + db)))
PY
}

# run_backend NAME: one fresh database, one server, one schemathesis run. Returns st's status.
run_backend() {
    local name="$1" dir="$out/$1" port db_url
    mkdir -p "$dir"
    port="$(free_port)"
    if [ "$name" = sqlite ]; then
        db_url="sqlite://$dir/rectify.db"
    else
        # A new database on the server RECTIFY_TEST_POSTGRES_URL names; cleanup drops it.
        pg_admin_url="$RECTIFY_TEST_POSTGRES_URL"
        pg_db="rectify_fuzz_$$_$RANDOM"
        psql "$pg_admin_url" -qAtc "CREATE DATABASE $pg_db" >/dev/null \
            || { pg_db=""; echo "FATAL: cannot create a PostgreSQL database" >&2; return 2; }
        db_url="$(postgres_url_for "$pg_db")"
    fi
    # Rate limits out of the way (the fuzzer signs in and posts feedback in bulk); webhooks
    # may target loopback, which is where hooks.py points every webhook the fuzzer creates.
    export RECTIFY_DATABASE_URL="$db_url" RECTIFY_BIND="127.0.0.1:$port" \
        RECTIFY_ADMIN_PASSWORD=admin-password-for-fuzz \
        RECTIFY_JWT_SECRET=fuzz-secret-0123456789abcdef0123456789 \
        RECTIFY_LOGIN_PER_MINUTE=100000 RECTIFY_FEEDBACK_PER_MINUTE=100000 \
        RECTIFY_WEBHOOK_ALLOW_PRIVATE=true RECTIFY_LOG=warn
    unset RECTIFY_METRICS_BIND RECTIFY_CORS_ORIGINS

    echo "== $name: demo data"
    "$binary" demo >"$dir/demo.log" 2>&1 || { echo "FATAL: rectify demo failed:" >&2; tail -20 "$dir/demo.log" >&2; return 2; }
    tail -n 1 "$dir/demo.log"

    "$binary" serve >"$dir/server.log" 2>&1 &
    server_pid=$!
    local base="http://127.0.0.1:$port" ready=""
    for _ in $(seq 1 120); do
        if curl -fsS "$base/readyz" >/dev/null 2>&1; then ready=1; break; fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.5
    done
    if [ -z "$ready" ]; then
        echo "FATAL: the server did not get ready:" >&2; tail -20 "$dir/server.log" >&2; return 2
    fi
    local token
    token="$(curl -fsS -X POST "$base/api/v1/auth/token" -H 'Content-Type: application/json' \
        -d '{"username":"admin","password":"admin-password-for-fuzz"}' \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')" \
        || { echo "FATAL: no admin token" >&2; return 2; }

    echo "== $name: schemathesis, ${seconds}s, seed $seed, server at $base"
    local status=0
    # --exclude-checks positive_data_acceptance: replaced by hooks.py's
    #   rectify_positive_data_acceptance, the same check less the rejections listed in
    #   README.md (state, clock, signatures: nothing a schema can say). Every other check runs.
    # timeout: --max-time bounds the generation; this bounds everything else (a hung request
    #   ends at --request-timeout, 10 s by default).
    # --output-sanitize false: reproductions show the Idempotency-Key and bodies as sent (the
    #   token and passwords are this throwaway server's).
    (
        cd "$dir" &&
        SCHEMATHESIS_HOOKS=hooks PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" PYTHONDONTWRITEBYTECODE=1 \
        RECTIFY_FUZZ_ACCEPTED_LOG="$dir/accepted.tsv" \
        timeout "$((seconds + 300))" \
        "$venv/bin/st" --config-file "$here/schemathesis.toml" run "$base/api-docs/openapi.json" \
            --checks all \
            --exclude-checks positive_data_acceptance \
            -H "Authorization: Bearer $token" \
            --max-time "$seconds" \
            --seed "$seed" \
            --workers 1 \
            --generation-database none \
            --output-sanitize false \
            --report junit,ndjson --report-dir "$dir/report" \
            --no-color
    ) >"$dir/schemathesis.log" 2>&1 || status=$?

    # The run's own summary, then one line per distinct failure with a reproduction.
    sed -n '/^=* SUMMARY =*$/,$p' "$dir/schemathesis.log" | grep -v '^$'
    local summary
    summary="$("$venv/bin/python" "$here/summarize.py" "$dir"/report/*.ndjson "$dir/accepted.tsv")"
    echo "$summary"
    # RECTIFY_FUZZ_GATE=hard (what CI uses): only a server error or a response outside its
    # schema (or type, or headers) fails the run; the other classes (a rejection the spec
    # does not predict, an undocumented 4xx) are printed to triage, since each run's budget
    # is time and so each run meets cases no earlier one did. Default: every failure fails.
    if [ "$status" -ne 0 ] && [ "${RECTIFY_FUZZ_GATE:-all}" = hard ]; then
        local hard
        hard="$(grep -E '^- (not_a_server_error|response_schema_conformance|content_type_conformance|response_headers_conformance)[: ]|^answers: .*(^| )5[0-9][0-9]×' <<<"$summary")"
        if [ -z "$hard" ] && grep -q '^distinct failures:' <<<"$summary"; then
            echo "TRIAGE: the failures above are spec-conformance findings, not server errors or schema violations"
            status=0
        fi
    fi
    # A panic or an error the service logged fails the run too. Not actix's notes on requests
    # it could not parse (the fuzzer's probes of control characters in headers and paths).
    local errors
    errors="$(grep -E 'panicked|ERROR' "$dir/server.log" | grep -v 'actix_http::h1::dispatcher: stream error: request parse error')"
    if [ -n "$errors" ]; then
        echo "server log ($dir/server.log) has errors:"; head -20 <<<"$errors"
        [ "$status" -eq 0 ] && status=1
    fi
    cleanup
    return "$status"
}

passed=0
failed=0
for backend in $backends; do
    if [ "$backend" = postgres ] && [ -z "${RECTIFY_TEST_POSTGRES_URL:-}" ]; then
        echo "== postgres: skipped (RECTIFY_TEST_POSTGRES_URL is not set)"
        continue
    fi
    if run_backend "$backend"; then
        echo "== $backend: no failures"
        passed=$((passed + 1))
    else
        echo "== $backend: FAILED (full log: $out/$backend/schemathesis.log)"
        failed=$((failed + 1))
    fi
done
echo "== reports and logs: $out; took $((SECONDS - started))s"
echo "schemathesis: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
